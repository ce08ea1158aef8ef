"""/metrics from real `community serve` processes: two workers' counters add up in one scrape (prometheus_client's
multiprocess mode), open sockets are counted, and a message that reaches a process by NOTIFY shows as hub lag."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from tests.conftest import LiveServer, free_port
from tests.rooms.conftest import is_message, recv_until
from tests.test_metrics import sample

TOKEN = "live-metrics-token-0123456789abcdef"
AUTH = {"authorization": f"Bearer {TOKEN}"}


async def _scrape(server) -> str:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.get(server.url + "/metrics", headers=AUTH)
    assert response.status_code == 200, response.text[:300]
    return response.text


def _worker_pids(directory) -> set[str]:
    return {m.group(1) for p in directory.glob("counter_*.db") if (m := re.fullmatch(r"counter_(\d+)\.db", p.name))}


@pytest.fixture
def two_workers(rooms_env, tmp_path):
    """`serve --workers 2`, given longer than live_server_factory's 30 s to start: two workers importing at once
    on a busy machine can take that long."""
    server = LiveServer(rooms_env.url, free_port(), tmp_path, 2, {"METRICS_TOKEN": TOKEN})
    try:
        server.wait_ready(timeout=120)
        yield server
    finally:
        server.stop()


async def test_two_workers_counters_add_up_in_one_scrape(two_workers):
    server = two_workers
    directory = server.log_path.parent / "metrics"
    sent = 0
    async with asyncio.timeout(60):
        # A new connection each time, so the kernel hands them to either worker; until both have counted some.
        while sent < 20 or len(_worker_pids(directory)) < 2:
            async with httpx.AsyncClient(timeout=10) as client:
                assert (await client.get(server.url + "/signin")).status_code == 200
            sent += 1
    assert len(_worker_pids(directory)) == 2
    # Whichever worker answers the scrape, it reports every worker's requests.
    for _ in range(4):
        text = await _scrape(server)
        assert sample(text, "community_http_requests_total", route="/signin", method="GET", status="200") == sent
    async with httpx.AsyncClient(timeout=10) as client:
        assert (await client.get(server.url + "/metrics")).status_code == 401


async def test_open_sockets_and_hub_lag_across_processes(rooms_env):
    first = rooms_env.server(METRICS_TOKEN=TOKEN)
    second = rooms_env.server(METRICS_TOKEN=TOKEN)
    ada, ben = await rooms_env.member(), await rooms_env.member("attending")
    room = await rooms_env.room_id()
    for member, server in ((ada, first), (ben, second)):
        await rooms_env.join(server, member, room)
    on_first = await rooms_env.ws(first, ada, room)
    on_second = await rooms_env.ws(second, ben, room)
    assert sample(await _scrape(second), "community_websockets_open") == 1
    before = sample(await _scrape(second), "community_room_hub_lag_seconds_count")
    await rooms_env.send(on_first, "Anyone else on nights this week?", "m1")
    await recv_until(on_second, is_message("Anyone else on nights"))  # reached the second process by NOTIFY
    text = await _scrape(second)
    assert sample(text, "community_room_hub_lag_seconds_count") >= before + 1
    assert sample(text, "community_room_hub_lag_seconds_sum") < 5  # seconds, for one read on an idle machine
    await on_second.close()
    async with asyncio.timeout(10):
        while sample(await _scrape(second), "community_websockets_open") != 0:  # noqa: ASYNC110  (polling a server)
            await asyncio.sleep(0.1)
