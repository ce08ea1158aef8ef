"""Presence: a socket gets the whole list once, then only changes (joined / left), across processes too."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.rooms.conftest import Outage, apply_presence, presence_until, quiet, recv

pytestmark = pytest.mark.live


async def _presence_frames(ws, within: float = 0.6) -> list[dict]:
    return [f for f in await quiet(ws, within) if f["type"] == "presence"]


async def test_presence_sends_the_list_once_then_deltas(rooms_env):
    one, two = rooms_env.server(), rooms_env.server()
    ada, ben, cy = await rooms_env.member(), await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.room_id()
    await rooms_env.join(one, ada, room)
    await rooms_env.join(two, ben, room)
    await rooms_env.join(one, cy, room)
    wa = await rooms_env.ws(one, ada, room)
    assert "people" not in wa.welcome  # the list comes from the hub, once
    first = json.loads(await asyncio.wait_for(wa.recv(), 5))
    assert first["type"] == "presence" and "people" in first
    people = await presence_until(wa, lambda p: len(p) == 1, people=apply_presence({}, first))
    ada_pid = wa.welcome["me"]["pid"]
    assert set(people) == {ada_pid}

    # Ben joins on the other process: Ada gets a delta naming only him, never the whole list again.
    wb = await rooms_env.ws(two, ben, room)
    ben_pid = wb.welcome["me"]["pid"]
    seen: list[dict] = []
    async with asyncio.timeout(8):
        while ben_pid not in people:
            frame = json.loads(await wa.recv())
            if frame["type"] == "presence":
                seen.append(frame)
                apply_presence(people, frame)
    assert all("people" not in f for f in seen), seen
    assert [p["pid"] for f in seen for p in f["joined"]] == [ben_pid]
    assert {p["label"] for p in people.values()} == {ada.user.display_name, ben.user.display_name}
    # Ben himself gets the whole list (with Ada), then deltas.
    ben_view = await presence_until(wb, lambda p: set(p) == {ada_pid, ben_pid})
    assert ben_view[ada_pid]["label"] == ada.user.display_name

    # Cy opens two tabs; closing one of them changes nothing; closing the last one says "left".
    wc1 = await rooms_env.ws(one, cy, room)
    cy_pid = wc1.welcome["me"]["pid"]
    await presence_until(wa, lambda p: cy_pid in p, people=people)
    wc2 = await rooms_env.ws(one, cy, room)
    await wc2.close()
    later = await _presence_frames(wa)
    assert not any(cy_pid in f.get("left", ()) for f in later), later
    await wc1.close()
    async with asyncio.timeout(8):
        while True:
            frame = json.loads(await wa.recv())
            if frame["type"] == "presence":
                assert "people" not in frame
                apply_presence(people, frame)
                if cy_pid in frame.get("left", ()):
                    break
    assert set(people) == {ada_pid, ben_pid}
    await presence_until(wb, lambda p: set(p) == {ada_pid, ben_pid}, people=ben_view)


# ---- presence as a lease ---------------------------------------------------------------------------------------

async def _present_rows(rooms_env, member) -> int:
    rows = await rooms_env.sql("SELECT count(*) FROM room_presence p JOIN room_participants r ON r.id = "
                               "p.participant_id WHERE r.user_id = :u", u=member.user.id)
    return rows[0][0]


async def test_a_leave_during_a_database_outage_is_retried_and_never_renewed(rooms_env):
    server = rooms_env.server(ROOMS_PRESENCE_LEASE_SECONDS="30")  # long: only the retried leave can remove it
    ada, ben = await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.room_id()
    for m in (ada, ben):
        await rooms_env.join(server, m, room)
    wa = await rooms_env.ws(server, ada, room)
    ada_pid = wa.welcome["me"]["pid"]
    two = server
    wb = await rooms_env.ws(two, ben, room)
    people = await presence_until(wb, lambda p: ada_pid in p)
    outage = Outage(rooms_env.url)
    await outage.begin()
    try:
        await wa.close()  # the server cannot write this leave now
        await asyncio.sleep(1.5)
        assert "could not record a leave" in server.log_path.read_text()
    finally:
        await outage.end()
    await rooms_env.db.dispose()
    # The next heartbeat (every 10 s with a 30 s lease) writes the leave; Ben's list loses Ada, whose row was
    # never renewed meanwhile, though her process is alive and renews Ben's. Ben's socket may have dropped in
    # the outage: his client reconnects.
    async with asyncio.timeout(25):
        while True:
            try:
                await presence_until(wb, lambda p: ada_pid not in p, people=people, within=25)
                break
            except ConnectionClosed:
                people = {}
                wb = await _reconnect(rooms_env, two, ben, room)
    assert await _present_rows(rooms_env, ada) == 0
    assert await _present_rows(rooms_env, ben) == 1


async def _reconnect(rooms_env, server, member, room):
    async with asyncio.timeout(15):
        while True:
            try:
                return await rooms_env.ws(server, member, room)
            except InvalidStatus as exc:
                assert exc.response.status_code == 503
                await asyncio.sleep(0.3)


async def test_capacity_counts_only_live_leases(rooms_env):
    server = rooms_env.server(ROOMS_PRESENCE_LEASE_SECONDS="3")
    ada, ben, ghost = await rooms_env.member(), await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.scheduled_room(None, state="open", capacity=2)
    for m in (ada, ben, ghost):
        await rooms_env.join(server, m, room)
    # A ghost: the row of a process that died (nobody renews it); its lease runs 4 s more.
    await rooms_env.sql("INSERT INTO room_presence (room_id, participant_id, process, expires_at) SELECT :r, id, "
                        "'dead-host:1:abc', now() + interval '4 seconds' FROM room_participants WHERE user_id = :u",
                        r=room, u=ghost.user.id)
    wb = await rooms_env.ws(server, ben, room)
    people = await presence_until(wb, lambda p: len(p) == 2)
    ghost_pid = next(pid for pid, p in people.items() if p["label"] == ghost.user.display_name)
    full = await rooms_env.ws(server, ada, room, welcome=False)
    with pytest.raises(ConnectionClosed) as closed:
        await recv(full, 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008 and "full" in closed.value.rcvd.reason
    # The lease runs out: the room is told (Ben's list drops the ghost), and there is room for Ada.
    await presence_until(wb, lambda p: ghost_pid not in p, people=people, within=10)
    wa = await rooms_env.ws(server, ada, room)
    assert wa.welcome["type"] == "welcome"
    assert await _present_rows(rooms_env, ghost) == 0


async def test_a_lease_lost_while_its_socket_stayed_open_is_taken_again(rooms_env):
    """Another process expired this socket's lease (the database was away longer than a lease): the next
    renewal takes it again and the room is told, so the member is not invisible while still connected."""
    server = rooms_env.server(ROOMS_PRESENCE_LEASE_SECONDS="3")
    ada, ben = await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.room_id()
    for m in (ada, ben):
        await rooms_env.join(server, m, room)
    wa = await rooms_env.ws(server, ada, room)
    ada_pid = wa.welcome["me"]["pid"]
    wb = await rooms_env.ws(server, ben, room)
    people = await presence_until(wb, lambda p: ada_pid in p)
    await rooms_env.sql("DELETE FROM room_presence WHERE participant_id = "
                        "(SELECT id FROM room_participants WHERE room_id = :r AND local_id = :p)", r=room, p=ada_pid)
    await rooms_env.sql("SELECT pg_notify('room_events', :payload)", payload=f"{room}:0:p")
    await presence_until(wb, lambda p: ada_pid not in p, people=people, within=5)
    await presence_until(wb, lambda p: ada_pid in p, people=people, within=5)
    assert await _present_rows(rooms_env, ada) == 1


async def test_a_silent_disconnect_leaves_every_list_within_30_seconds(rooms_env):
    """A client whose network vanished sends no close and answers no ping: the server's pings (every 10 s,
    10 s to answer) find it, and the room is told."""
    server = rooms_env.server()
    ada, ben = await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.room_id()
    for m in (ada, ben):
        await rooms_env.join(server, m, room)
    wb = await rooms_env.ws(server, ben, room)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write((f"GET /rooms/{room}/ws HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  f"Sec-WebSocket-Version: 13\r\nOrigin: {server.url}\r\nCookie: {ada.cookie}\r\n\r\n").encode())
    assert b" 101 " in await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    # From here on Ada's side reads nothing and answers nothing: a phone that went into a tunnel.
    people = await presence_until(wb, lambda p: len(p) == 2)
    ada_pid = next(pid for pid, p in people.items() if p["label"] == ada.user.display_name)
    started = asyncio.get_running_loop().time()
    await presence_until(wb, lambda p: ada_pid not in p, people=people, within=30)
    assert asyncio.get_running_loop().time() - started < 30
    writer.transport.abort()
