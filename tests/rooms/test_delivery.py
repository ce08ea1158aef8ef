"""Delivery that survives reconnects, restarts, a lost LISTEN connection, and several processes."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed

from tests.rooms.conftest import is_message, presence_until, recv_until

pytestmark = pytest.mark.live


async def _collect_until(ws, last_seq: int, got: list[int], within: float = 15) -> None:
    async with asyncio.timeout(within):
        while not got or got[-1] < last_seq:
            frame = json.loads(await ws.recv())
            if frame["type"] == "message":
                got.append(frame["seq"])
            elif frame["type"] == "history":
                got.extend(f["seq"] for f in frame["items"] if f["type"] == "message")


async def _sender(rooms_env, ws, count: int, prefix: str, pause: float = 0.01) -> list[int]:
    """Sends `count` messages one after another, each after the previous one's ack; returns the seqs."""
    seqs = []
    for n in range(count):
        await rooms_env.send(ws, f"{prefix} {n}", f"{prefix}-{n}")
        ack = await recv_until(ws, lambda f, n=n: f["type"] == "ack" and f["client_id"] == f"{prefix}-{n}")
        seqs.append(ack["seq"])
        await asyncio.sleep(pause)
    return seqs


async def test_forced_disconnect_resumes_without_loss_or_duplicates(rooms_env):
    server = rooms_env.server()
    ada, ben = await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.room_id()
    for m in (ada, ben):
        await rooms_env.join(server, m, room)
    wa = await rooms_env.ws(server, ada, room)
    wb = await rooms_env.ws(server, ben, room)
    got: list[int] = []
    sending = asyncio.create_task(_sender(rooms_env, wa, 40, "steady", pause=0.02))
    # Ben reads a few, then his connection drops hard (no close frame), while Ada keeps writing.
    async with asyncio.timeout(10):
        while len(got) < 5:
            frame = json.loads(await wb.recv())
            if frame["type"] == "message":
                got.append(frame["seq"])
    wb.transport.abort()
    await asyncio.sleep(0.3)
    wb2 = await rooms_env.ws(server, ben, room, after=got[-1], welcome=False)
    welcome = json.loads(await asyncio.wait_for(wb2.recv(), 5))
    assert welcome["type"] == "welcome"
    sent = await sending
    await _collect_until(wb2, sent[-1], got)
    assert got == sent, "every message exactly once, in order"


async def test_what_retention_deleted_from_an_absence_is_said_plainly(rooms_env):
    server = rooms_env.server()
    ada, ben = await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.room_id()
    for m in (ada, ben):
        await rooms_env.join(server, m, room)
    wa = await rooms_env.ws(server, ada, room)
    sent = await _sender(rooms_env, wa, 6, "kept", pause=0)
    # Ben was away since before the first; retention then deleted the two oldest (as a standing room's does).
    await rooms_env.sql("DELETE FROM room_messages WHERE room_id = :r AND seq IN (:a, :b)", r=room, a=sent[0],
                        b=sent[1])
    wb = await rooms_env.ws(server, ben, room, after=sent[0] - 1, welcome=False)
    frames = [json.loads(await asyncio.wait_for(wb.recv(), 5)) for _ in range(3)]
    assert [f["type"] for f in frames] == ["welcome", "expired", "history"]
    assert frames[1]["count"] == 2 and "retention" in frames[1]["message"]
    assert frames[2]["reset"] is False and frames[2]["more"] is False and frames[2]["last_seq"] == sent[-1]
    assert [i["seq"] for i in frames[2]["items"]] == sent[2:]


async def test_two_processes_share_a_room(rooms_env):
    one, two = rooms_env.server(), rooms_env.server()
    ada, ben = await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.room_id()
    await rooms_env.join(one, ada, room)
    await rooms_env.join(two, ben, room)
    wa = await rooms_env.ws(one, ada, room)
    wb = await rooms_env.ws(two, ben, room)
    await rooms_env.send(wa, "from process one", "x1")
    assert (await recv_until(wb, is_message("from process one")))["author"] == ada.user.display_name
    await rooms_env.send(wb, "and back from two", "x2")
    seen: list = []
    await recv_until(wa, is_message("and back from two"), seen=seen)
    # Presence is shared across processes too (it may have arrived before the message).
    await presence_until(wa, lambda people: len(people) == 2, seen=seen)
    # Many messages across processes: all arrive, in order, once.
    sent = await _sender(rooms_env, wa, 30, "across", pause=0)
    got: list[int] = []
    await _collect_until(wb, sent[-1], got)
    assert [s for s in got if s >= sent[0]] == sent


async def test_listener_connection_killed_recovers_without_loss(rooms_env):
    # Two processes: a process delivers its own sends at once, so what must survive the lost LISTEN connection
    # is the other process's catch-up (NOTIFY lost, rows not).
    one, two = rooms_env.server(), rooms_env.server()
    ada, ben = await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.room_id()
    await rooms_env.join(one, ada, room)
    await rooms_env.join(two, ben, room)
    wa = await rooms_env.ws(one, ada, room)
    wb = await rooms_env.ws(two, ben, room)
    killed = await rooms_env.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE application_name = 'community-room-hub' AND datname = current_database()")
    assert len(killed) == 2 and all(row[0] for row in killed)
    # Written while the hubs are not listening: NOTIFY is lost, the rows are not.
    sent = await _sender(rooms_env, wa, 15, "during", pause=0)
    got: list[int] = []
    await _collect_until(wb, sent[-1], got, within=20)
    assert [s for s in got if s >= sent[0]] == sent
    async with asyncio.timeout(10):
        while True:
            listening = await rooms_env.sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                                            "'community-room-hub' AND datname = current_database()")
            if listening[0][0] == 2:
                break
            await asyncio.sleep(0.1)
    # And live delivery across processes works again.
    await rooms_env.send(wa, "after recovery", "r1")
    await recv_until(wb, is_message("after recovery"))


async def test_shutdown_closes_with_going_away_and_clients_resume_elsewhere(rooms_env):
    one, two = rooms_env.server(), rooms_env.server()
    ada, ben = await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.room_id()
    await rooms_env.join(one, ada, room)
    wa = await rooms_env.ws(one, ada, room)
    await rooms_env.join(two, ben, room)
    wb = await rooms_env.ws(two, ben, room)
    await rooms_env.send(wb, "before restart", "s1")
    before = await recv_until(wa, is_message("before restart"))
    await asyncio.to_thread(one.stop)
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(10):
            while True:
                await wa.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    await rooms_env.send(wb, "while ada moves", "s2")
    await recv_until(wb, lambda f: f["type"] == "ack")
    wa2 = await rooms_env.ws(two, ada, room, after=before["seq"], welcome=False)
    await recv_until(wa2, lambda f: f["type"] == "history" and any("while ada moves" in i.get("html", "")
                                                                   for i in f["items"]))
