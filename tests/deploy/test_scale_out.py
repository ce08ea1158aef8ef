"""Scale-out for real: two `community serve` processes on one database, behind Debian's nginx rendered from
deploy/nginx.conf.template. A member's session and writes cross processes; a stopped process loses nothing."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from community.platform.db import Database
from tests.conftest import PASSWORD, create_member, free_port

pytestmark = pytest.mark.live


async def _member(database_url: str, **fields):
    db = Database(database_url, pool_size=1)
    try:
        return await create_member(db, "resident", **fields)
    finally:
        await db.dispose()


@pytest.fixture
def cluster(live_database, live_server_factory, nginx_factory):
    """nginx on one port, two app processes behind it; every app believes the site is at nginx's address."""
    edge_port = free_port()
    edge_url = f"http://127.0.0.1:{edge_port}"
    env = {"BASE_URL": edge_url}
    first = live_server_factory(live_database, extra_env=env)
    second = live_server_factory(live_database, extra_env=env)
    edge = nginx_factory(edge_port, [first.port, second.port])
    return edge, first, second


async def _sign_in(browser: httpx.AsyncClient, email: str) -> None:
    assert (await browser.get("/signin")).status_code == 200
    csrf = browser.cookies.get("csrf")
    assert csrf
    response = await browser.post("/signin", data={"email": email, "password": PASSWORD, "csrf_token": csrf})
    assert response.status_code == 303, response.text[:500]
    assert browser.cookies.get("session")


async def _get(url: str, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.get(url, **kwargs)


def _upstreams(responses: list[httpx.Response]) -> set[str]:
    return {r.headers.get("x-upstream", "") for r in responses}


async def test_session_and_writes_cross_processes_through_nginx(cluster, live_database):
    edge, first, second = cluster
    user = await _member(live_database, name="Crossing Resident")
    both = {f"127.0.0.1:{first.port}", f"127.0.0.1:{second.port}"}
    headers = {"Origin": edge.url}
    async with httpx.AsyncClient(base_url=edge.url, headers=headers, timeout=10) as browser:
        await _sign_in(browser, user.email)

        # Signed in through one process: every page, whichever process answers, knows the member.
        pages = [await browser.get("/account") for _ in range(8)]
        assert all(r.status_code == 200 for r in pages), [r.status_code for r in pages]
        assert all("Crossing Resident" in r.text for r in pages)
        assert _upstreams(pages) == both, "nginx should have spread the requests over both processes"

        # A write through one process is visible through the other.
        csrf = browser.cookies.get("csrf")
        saved = await browser.post("/account", data={"display_name": "Renamed Across", "specialty": "",
                                               "training_year": "", "pronouns": "", "timezone": "UTC",
                                               "csrf_token": csrf})
        assert saved.status_code == 303, saved.text[:500]
        pages = [await browser.get("/account") for _ in range(6)]
        assert all("Renamed Across" in r.text for r in pages)
        assert _upstreams(pages) == both
        session_cookie = browser.cookies.get("session")

    # And straight to each process, bypassing nginx: the same session works on both.
    for server in (first, second):
        direct = await _get(server.url + "/account", headers={"Cookie": f"session={session_cookie}"})
        assert direct.status_code == 200 and "Renamed Across" in direct.text

    # nginx and the app log the same request id for a request (nginx sets X-Request-ID).
    response = await _get(edge.url + "/healthz")
    assert response.status_code == 200
    assert response.headers["x-request-id"] in edge.access_log()


async def test_static_files_are_served_by_nginx(cluster):
    edge, first, _ = cluster
    response = await _get(edge.url + "/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    if response.status_code == 404:
        pytest.skip("static/css/app.css is not in the tree")
    assert response.status_code == 200
    assert "x-upstream" not in response.headers, "static files must not reach the app"
    assert "immutable" in response.headers["cache-control"]
    assert response.headers.get("content-encoding") == "gzip"
    # Pages from the app are not compressed (BREACH: a CSRF token next to reflected text).
    page = await _get(edge.url + "/signin", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and page.headers.get("content-encoding") is None


async def test_a_stopped_process_loses_no_request(cluster, live_database):
    edge, first, second = cluster
    user = await _member(live_database, name="Steady Member")
    async with httpx.AsyncClient(base_url=edge.url, headers={"Origin": edge.url}, timeout=10) as browser:
        await _sign_in(browser, user.email)
        first.stop()  # SIGTERM: graceful
        pages = [await browser.get("/account") for _ in range(10)]
        assert [r.status_code for r in pages] == [200] * 10
        assert all("Steady Member" in r.text for r in pages)
        # nginx may first try the stopped process (X-Upstream then lists both): the answer came from the survivor.
        assert {u.split(", ")[-1] for u in _upstreams(pages)} == {f"127.0.0.1:{second.port}"}
        # Writes keep working on the survivor.
        saved = await browser.post("/account", data={"display_name": "Still Here", "timezone": "UTC",
                                               "csrf_token": browser.cookies.get("csrf")})
        assert saved.status_code == 303
        assert "Still Here" in (await browser.get("/account")).text


# ---- live rooms through nginx (the rooms pillar's protocol: community/realtime/protocol.py) ----------------------

def _seqs(frame: dict) -> list[int]:
    if frame.get("type") == "message":
        return [frame["seq"]]
    if frame.get("type") == "history":
        return [item["seq"] for item in frame["items"] if item.get("type") == "message"]
    return []


async def test_room_messages_cross_processes_and_survive_a_stopped_process(cluster, live_database,
                                                                           live_server_factory):
    import asyncio
    import json

    from websockets.exceptions import ConnectionClosed

    from tests.rooms.conftest import RoomsEnv, is_message, recv_until

    edge, first, second = cluster
    env = RoomsEnv(live_database, live_server_factory)
    try:
        ada, ben = await env.member(), await env.member()
        room = await env.room_id()
        await env.join(edge, ada, room)
        await env.join(edge, ben, room)
        wa = await env.ws(edge, ada, room)
        ada_upstream = wa.response.headers.get("X-Upstream", "")
        assert ada_upstream, "the handshake should say which process took the socket"
        wb = None
        for _ in range(6):  # least_conn sends the second socket to the idle process; make sure of it
            candidate = await env.ws(edge, ben, room)
            if candidate.response.headers.get("X-Upstream") != ada_upstream:
                wb = candidate
                break
            await candidate.close()
        assert wb is not None, "nginx never put the two members on different processes"

        # Messages cross from one process to the other, both ways, through nginx.
        await env.send(wa, "hello from the first process", "x1")
        assert (await recv_until(wb, is_message("hello from the first process")))["author"] == ada.user.display_name
        await env.send(wb, "and back from the second", "x2")
        last_seen = (await recv_until(wa, is_message("and back from the second")))["seq"]

        # Ada's process stops mid-conversation while Ben keeps talking; Ada resumes through nginx on the other.
        ada_server = first if ada_upstream.endswith(f":{first.port}") else second
        sent: list[int] = []
        received: list[int] = []
        stopper: asyncio.Task | None = None

        async def ben_talks() -> None:
            nonlocal stopper
            for n in range(20):
                await env.send(wb, f"steady {n}", f"st-{n}")
                ack = await recv_until(wb, lambda f, n=n: f["type"] == "ack" and f["client_id"] == f"st-{n}")
                sent.append(ack["seq"])
                if n == 5:
                    stopper = asyncio.create_task(asyncio.to_thread(ada_server.stop))
                await asyncio.sleep(0.05)

        async def ada_listens_until_closed() -> int | None:
            nonlocal last_seen
            try:
                async with asyncio.timeout(20):
                    while True:
                        frame = json.loads(await wa.recv())
                        received.extend(_seqs(frame))
                        if "seq" in frame:
                            last_seen = max(last_seen, frame["seq"])
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd else None

        close_code, _ = await asyncio.gather(ada_listens_until_closed(), ben_talks())
        assert stopper is not None
        await stopper
        assert close_code == 1001, f"a stopping process should say 'going away', got {close_code}"

        wa2 = await env.ws(edge, ada, room, after=last_seen, welcome=False)
        assert wa2.response.headers.get("X-Upstream", "").split(", ")[-1] != ada_upstream
        async with asyncio.timeout(15):
            while not received or received[-1] < sent[-1]:
                received.extend(_seqs(json.loads(await wa2.recv())))
        mine = [s for s in received if s >= sent[0]]
        assert mine == sent, f"lost or duplicated: sent {sent}, received {mine}"
    finally:
        await env.close()


async def test_new_sockets_spread_back_over_a_restarted_process(cluster, live_database, live_server_factory):
    """A process restarts: its sockets move to the survivor, and once it is back, least_conn sends new sockets to
    it (it holds the fewest) instead of piling them on the survivor."""
    from tests.rooms.conftest import RoomsEnv

    edge, first, second = cluster
    env = RoomsEnv(live_database, live_server_factory)
    try:
        members = [await env.member() for _ in range(4)]
        room = await env.room_id()
        for member in members:
            await env.join(edge, member, room)
        await asyncio.gather(*(env.ws(edge, members[n % 4], room) for n in range(10)))
        first.stop()  # SIGTERM: its sockets are told 1001 and reconnect through nginx, to the survivor
        moved = [await env.ws(edge, members[n % 4], room) for n in range(5)]
        assert {ws.response.headers["X-Upstream"].split(", ")[-1] for ws in moved} == {f"127.0.0.1:{second.port}"}
        restarted = live_server_factory(live_database, port=first.port, extra_env={"BASE_URL": edge.url})
        await asyncio.sleep(2.5)  # fail_timeout: nginx tries a process it marked failed again after this long
        fresh = [await env.ws(edge, members[n % 4], room) for n in range(20)]
        landed = [ws.response.headers["X-Upstream"].split(", ")[-1] for ws in fresh]
        on_restarted = landed.count(f"127.0.0.1:{restarted.port}")
        assert on_restarted >= 10, f"{on_restarted} of 20 new sockets on the restarted process: {landed}"
    finally:
        await env.close()


# ---- the deploy's topology: pages on `app`, live-room sockets on `realtime` (deploy/compose.yaml) ---------------

async def test_sockets_on_their_own_process_get_what_the_page_process_writes(live_database, live_server_factory,
                                                                              nginx_factory):
    """nginx sends every page to the page process and every socket to the realtime process; a message crosses
    between sockets there, and a moderator's deletion made through a page (the page process) reaches them live."""
    from tests.rooms.conftest import RoomsEnv, is_message, recv_until

    edge_port = free_port()
    env_vars = {"BASE_URL": f"http://127.0.0.1:{edge_port}"}
    pages = live_server_factory(live_database, extra_env=env_vars)
    realtime = live_server_factory(live_database, extra_env=env_vars)
    edge = nginx_factory(edge_port, [pages.port], socket_ports=[realtime.port])
    env = RoomsEnv(live_database, live_server_factory)
    try:
        ada, ben, mod = await env.member(), await env.member(), await env.member("moderator")
        room = await env.room_id()
        await env.join(edge, ada, room)
        await env.join(edge, ben, room)
        wa = await env.ws(edge, ada, room)
        wb = await env.ws(edge, ben, room)
        assert {ws.response.headers.get("X-Upstream") for ws in (wa, wb)} == {f"127.0.0.1:{realtime.port}"}

        await env.send(wa, "said on the realtime process", "rt1")
        seq = (await recv_until(wb, is_message("said on the realtime process")))["seq"]

        async with httpx.AsyncClient(base_url=edge.url, headers={"Origin": edge.url}, timeout=10) as browser:
            browser.cookies.set("session", mod.token)
            page = await browser.get(f"/rooms/{room}")
            assert page.status_code == 200 and page.headers["x-upstream"] == f"127.0.0.1:{pages.port}"
            deleted = await browser.post(f"/rooms/{room}/messages/{seq}/delete",
                                         data={"csrf_token": browser.cookies.get("csrf")})
            assert deleted.status_code == 303, deleted.text[:500]
            assert deleted.headers["x-upstream"] == f"127.0.0.1:{pages.port}"
        for ws in (wa, wb):
            assert (await recv_until(ws, lambda f: f.get("kind") == "delete"))["target"] == seq
    finally:
        await env.close()
