"""Bad frames, oversized frames, a client that stops reading, idle clients, and the safety screen."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.rooms.conftest import is_message, quiet, recv, recv_until, until_closed

pytestmark = pytest.mark.live


async def test_bad_frames_get_errors_and_the_room_keeps_serving(rooms_env):
    server = rooms_env.server()
    ada, ben = await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.room_id()
    for m in (ada, ben):
        await rooms_env.join(server, m, room)
    wa = await rooms_env.ws(server, ada, room)
    wb = await rooms_env.ws(server, ben, room)
    cases = [("not json at all", "bad_json"), ("[1, 2]", "bad_frame"), ('{"type": "dance"}', "unknown_type"),
             ('{"type": "send", "text": 5}', "bad_frame"), ('{"type": "send", "text": "   "}', "empty"),
             (json.dumps({"type": "send", "text": "x" * 2001, "client_id": "long"}), "too_long"),
             ('{"type": "send", "text": "hi", "client_id": ' + json.dumps("c" * 65) + "}", "bad_frame")]
    for raw, code in cases:
        await wa.send(raw)
        frame = await recv_until(wa, lambda f: f["type"] == "error")
        assert frame["code"] == code, (raw[:40], frame)
    await wa.send(b"\x00\x01binary")
    assert (await recv_until(wa, lambda f: f["type"] == "error"))["code"] == "binary"
    # Exactly 2,000 characters is fine.
    await rooms_env.send(wa, "y" * 2000, "max")
    assert (await recv_until(wa, lambda f: f["type"] in ("ack", "error")))["type"] == "ack"
    # Over uvicorn's 64 KiB frame limit: the connection closes with 1009, and only that one.
    await wa.send(json.dumps({"type": "send", "text": "z" * 70000}))
    closed = await until_closed(wa)
    assert closed.rcvd is not None and closed.rcvd.code == 1009
    await rooms_env.send(wb, "still here", "ok")
    await recv_until(wb, is_message("still here"))


SEND_TIMEOUT = 8.0  # seconds the server gives one write to a client before it lets the client go


async def test_a_client_that_stops_reading_does_not_delay_the_others(rooms_env):
    # The queue holds a burst for a reader whose writer task is slow to get a turn on a busy machine (16 let one
    # close with 1013), and is still far smaller than what the stuck client leaves unread.
    server = rooms_env.server(ROOMS_QUEUE_SIZE="64", ROOMS_SEND_TIMEOUT=str(SEND_TIMEOUT))
    slow, ben = await rooms_env.member(), await rooms_env.member()
    writers = [await rooms_env.member() for _ in range(4)]
    room = await rooms_env.room_id()
    for m in (slow, ben, *writers):
        await rooms_env.join(server, m, room)
    # A tiny receive buffer and a client that never calls recv(): the server's writes back up.
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    ws_slow = await rooms_env.ws(server, slow, room, sock=sock, max_queue=(8, 2), welcome=False,
                                   compression=None, ping_interval=2, ping_timeout=3)
    wb = await rooms_env.ws(server, ben, room)
    senders = [await rooms_env.ws(server, w, room) for w in writers]

    async def drain(ws):
        while True:
            await ws.recv()

    draining = [asyncio.create_task(drain(ws)) for ws in senders]  # only one client stops reading
    body = "A long night, written out at length. " * 50  # ~1.8k characters
    lags: list[float] = []
    gone = False
    async with asyncio.timeout(90):
        for batch in range(40):
            sent_at: dict[str, float] = {}
            for i in range(25):
                for w, ws in enumerate(senders):
                    cid = f"b{batch}-{w}-{i}"
                    sent_at[cid] = time.perf_counter()
                    await rooms_env.send(ws, f"{cid} {body}", cid)
            while sent_at:
                frame = await recv(wb, 5)
                if frame["type"] == "message" and frame["client_id"] in sent_at:
                    lags.append(time.perf_counter() - sent_at.pop(frame["client_id"]))
            present = await rooms_env.sql(
                "SELECT count(*) FROM room_presence p JOIN room_participants r ON r.id = p.participant_id "
                "WHERE r.user_id = :u", u=slow.user.id)
            if present[0][0] == 0:
                gone = True
                break
    for task in draining:
        task.cancel()
    assert gone, "the client that stopped reading was never disconnected"
    lags.sort()
    # 100 messages are written at once, so the last of a batch waits for the ones before it; what matters
    # is that the reader keeps up with the room while another client is stuck. A fan-out that waited on the
    # stuck client would hold some message for the whole send timeout; the bounds are loose on purpose (a
    # busy machine slows every message alike, and this is not a timing benchmark).
    assert lags[len(lags) // 2] < SEND_TIMEOUT / 2 and lags[-1] < SEND_TIMEOUT, (lags[len(lags) // 2], lags[-1])
    # The server has let go of it (above); the client, once it reads again, finds the connection closed
    # (1013 when the close frame got through, otherwise a dead connection).
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(20):
            while True:
                await ws_slow.recv()
    assert closed.value.rcvd is None or closed.value.rcvd.code == 1013


async def test_idle_connections_are_closed(rooms_env):
    server = rooms_env.server(ROOMS_IDLE_SECONDS="1")
    ada = await rooms_env.member()
    room = await rooms_env.room_id()
    await rooms_env.join(server, ada, room)
    wa = await rooms_env.ws(server, ada, room)
    closed = await until_closed(wa, within=6)
    assert closed.rcvd is not None and closed.rcvd.code == 4000


async def test_identifiers_are_held_and_crisis_brings_resources(rooms_env):
    server = rooms_env.server()
    ada, ben = await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.room_id()
    for m in (ada, ben):
        await rooms_env.join(server, m, room)
    wa = await rooms_env.ws(server, ada, room)
    wb = await rooms_env.ws(server, ben, room)
    await rooms_env.send(wa, "Bed 4, MRN 12345678, DOB 01/02/1960 was rough", "phi")
    held = await recv_until(wa, lambda f: f["type"] in ("held", "ack"))
    assert held["type"] == "held" and {f["kind"] for f in held["findings"]} >= {"mrn"}
    assert "<mark" in held["highlighted"]
    assert not [f for f in await quiet(wb, 0.6) if f["type"] == "message"]
    assert all(f["strong"] for f in held["findings"] if f["kind"] in ("mrn", "dob"))
    # Strong identifiers cannot be sent on the writer's word: a live message cannot wait for a moderator.
    await rooms_env.send(wa, "Bed 4, MRN 12345678, DOB 01/02/1960 was rough", "phi", confirm=True)
    refused = await recv_until(wa, lambda f: f["type"] in ("held", "ack", "error"))
    assert refused["type"] == "error" and "Please remove it" in refused["message"]
    assert not [f for f in await quiet(wb, 0.6) if f["type"] == "message"]
    # A weaker identifier (a bed number) is sent once the writer confirms it is not one.
    await rooms_env.send(wa, "Bed 4 was rough", "bed")
    assert (await recv_until(wa, lambda f: f["type"] in ("held", "ack")))["type"] == "held"
    await rooms_env.send(wa, "Bed 4 was rough", "bed", confirm=True)
    assert (await recv_until(wa, lambda f: f["type"] in ("held", "ack")))["type"] == "ack"
    await recv_until(wb, is_message("Bed 4"))

    await rooms_env.send(wa, "Honestly I want to kill myself after tonight.", "crisis")
    seen: list = []
    await recv_until(wa, lambda f: f["type"] == "ack" and f["client_id"] == "crisis", seen=seen)
    resources = seen[-1] if seen[-1]["type"] == "resources" else await recv_until(wa, lambda f: f["type"] == "resources")
    assert resources["resources"] and resources["resources"][0]["name"]
    shown = await recv_until(wb, is_message("kill myself"))  # not hidden
    items = await rooms_env.sql("SELECT reasons, urgent FROM review_items WHERE target_kind = 'room_message' "
                                "AND target_id = (SELECT id FROM room_messages WHERE seq = :seq AND room_id = :r)",
                                seq=shown["seq"], r=room)
    assert items and "crisis" in items[0][0] and items[0][1] is True
    privacy = await rooms_env.sql("SELECT reasons FROM review_items WHERE target_kind = 'room_message' "
                                  "AND reasons::text LIKE '%privacy%'")
    assert privacy


async def test_unicode_digits_and_huge_numbers_in_socket_fields_are_refused_cleanly(rooms_env):
    """`after=²` (where "²".isdigit() is true and int("²") raises) is read as no resume point; number fields of
    moderation frames that are strings of Unicode digits, or beyond a bigint, get an error frame; the socket
    and the room keep serving."""
    server = rooms_env.server()
    host = await rooms_env.member("moderator")
    room = await rooms_env.room_id()
    await rooms_env.join(server, host, room)
    for odd in ("%C2%B2", "%D9%A3", "%EF%BC%91", "1%C2%B2"):  # ², ٣, １, 1²
        raw = server.url.replace("http://", "ws://") + f"/rooms/{room}/ws?after={odd}"
        async with connect(raw, additional_headers={"Origin": server.url, "Cookie": host.cookie},
                           open_timeout=10, close_timeout=2) as sock:
            assert (await recv(sock))["type"] == "welcome"
            assert (await recv_until(sock, lambda f: f["type"] == "history"))["type"] == "history"
    ws = await rooms_env.ws(server, host, room)
    for frame in ({"type": "moderate", "action": "delete", "seq": "²"},
                  {"type": "moderate", "action": "mute", "pid": "٣", "minutes": "１"},
                  {"type": "moderate", "action": "delete", "seq": 10**30},
                  {"type": "moderate", "action": "slow", "seconds": -(10**30)}):
        await ws.send(json.dumps(frame))
        error = await recv_until(ws, lambda f: f["type"] == "error")
        assert "whole number" in error["message"], (frame, error)
    await rooms_env.send(ws, "still serving", "after-odd")
    await recv_until(ws, is_message("still serving"))
