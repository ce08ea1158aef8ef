"""Room moderation reaches every client live, on every process; anonymous participants are never exposed."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.rooms.conftest import is_message, quiet, recv_until

pytestmark = pytest.mark.live


async def _closed(ws, within: float = 8):
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    return closed.value.rcvd


async def _mod(ws, client_id: str, **frame):
    await ws.send(json.dumps({"type": "moderate", "client_id": client_id, **frame}))
    return await recv_until(ws, lambda f: f.get("client_id") == client_id and f["type"] in ("ack", "error"))


async def test_scheduled_session_moderation_reaches_everyone_live(rooms_env):
    one, two = rooms_env.server(), rooms_env.server()
    host = await rooms_env.member("attending")
    ada, ben = await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.scheduled_room(host)
    await rooms_env.join(one, host, room)
    await rooms_env.join(one, ada, room)
    await rooms_env.join(two, ben, room)
    wa = await rooms_env.ws(one, ada, room)
    wb = await rooms_env.ws(two, ben, room)
    assert wa.welcome["room"]["state"] == "scheduled"
    await rooms_env.send(wa, "hello?", "early")
    assert (await recv_until(wa, lambda f: f["type"] == "error"))["code"] == "forbidden"

    # The session opens when its host arrives; everyone sees it, on both processes.
    wh = await rooms_env.ws(one, host, room)
    assert wh.welcome["me"]["can_moderate"] is True
    for ws in (wa, wb):
        await recv_until(ws, lambda f: f.get("kind") == "open")

    await rooms_env.send(wb, "something I regret saying", "m1")
    msg = await recv_until(wa, is_message("regret"))
    # A participant cannot moderate.
    assert (await _mod(wa, "nope", action="delete", seq=msg["seq"]))["type"] == "error"
    # Delete: gone for everyone, live.
    assert (await _mod(wh, "d1", action="delete", seq=msg["seq"]))["type"] == "ack"
    for ws in (wa, wb):
        event = await recv_until(ws, lambda f: f.get("kind") == "delete")
        assert event["target"] == msg["seq"]

    # Mute Ben: his next message is refused with an error frame.
    ben_pid = wb.welcome["me"]["pid"]
    await _mod(wh, "mu", action="mute", pid=ben_pid, minutes=5)
    await recv_until(wa, lambda f: f.get("kind") == "mute" and f["pid"] == ben_pid)
    await recv_until(wb, lambda f: f.get("kind") == "mute")
    await rooms_env.send(wb, "am I muted", "m2")
    error = await recv_until(wb, lambda f: f["type"] == "error")
    assert "muted" in error["message"] and error["client_id"] == "m2"

    # Slow mode: one message per N seconds for participants.
    await _mod(wh, "sl", action="slow", seconds=30)
    await recv_until(wb, lambda f: f.get("kind") == "slow" and f["seconds"] == 30)
    await rooms_env.send(wa, "first", "s1")
    await recv_until(wa, lambda f: f["type"] == "ack" and f["client_id"] == "s1")
    await rooms_env.send(wa, "second too soon", "s2")
    assert (await recv_until(wa, lambda f: f["type"] == "error"))["code"] == "rate_limited"
    await _mod(wh, "sl0", action="slow", seconds=0)

    # Lock: read-only for participants, live everywhere.
    await _mod(wh, "lk", action="lock", locked=True)
    await recv_until(wb, lambda f: f.get("kind") == "lock" and f["locked"] is True)
    await recv_until(wa, lambda f: f.get("kind") == "lock")
    await rooms_env.send(wa, "locked?", "l1")
    assert "read-only" in (await recv_until(wa, lambda f: f["type"] == "error"))["message"]
    await _mod(wh, "ul", action="lock", locked=False)

    # Remove Ben (on the other process): his socket closes with 1008 and he cannot come back.
    await _mod(wh, "rm", action="remove", pid=ben_pid)
    assert (await _closed(wb)).code == 1008
    ben_again = await rooms_env.ws(two, ben, room, welcome=False)
    assert (await _closed(ben_again)).code == 1008
    import httpx

    async with httpx.AsyncClient(base_url=two.url, cookies={"session": ben.token}) as client:
        assert (await client.get(f"/rooms/{room}")).status_code == 403

    # End: everyone is told, and sockets close normally.
    await _mod(wh, "end", action="end")
    await recv_until(wa, lambda f: f.get("kind") == "end")
    assert (await _closed(wa)).code == 1000

    audit = await rooms_env.sql("SELECT action FROM audit_log WHERE action LIKE 'room.%' ORDER BY id")
    assert [a for (a,) in audit] == ["room.message.delete", "room.mute", "room.slow_mode", "room.slow_mode",
                                     "room.lock", "room.unlock", "room.remove", "room.end"]


async def test_the_host_who_ends_a_session_always_hears_the_ack(rooms_env):
    # The end event reaches the host's own socket through the hub, and could once close it before the
    # action's ack was queued. Repeated, because it was a race.
    server = rooms_env.server()
    host = await rooms_env.member("attending")
    for attempt in range(8):
        room = await rooms_env.scheduled_room(host)
        await rooms_env.join(server, host, room)
        wh = await rooms_env.ws(server, host, room)
        answer = await _mod(wh, f"end{attempt}", action="end")
        assert answer["type"] == "ack"
        assert (await _closed(wh)).code == 1000


async def test_anonymous_participant_is_never_exposed(rooms_env):
    server = rooms_env.server()
    anon = await rooms_env.member("resident", name="Priya Secretname")
    moderator = await rooms_env.member("moderator")
    room = await rooms_env.room_id("after-a-hard-case")
    await rooms_env.join(server, anon, room, anonymous=True)
    await rooms_env.join(server, moderator, room)
    wm = await rooms_env.ws(server, moderator, room)
    wx = await rooms_env.ws(server, anon, room)
    raw: list[str] = [json.dumps(wm.welcome), json.dumps(wm.history)]
    pseudonym = wx.welcome["me"]["label"]
    assert wx.welcome["me"]["anonymous"] is True and "Secretname" not in pseudonym

    await rooms_env.send(wx, "I froze during the code and nobody noticed.", "a1")
    async with asyncio.timeout(8):
        while True:
            text = await wm.recv()
            raw.append(text)
            if "I froze" in text:
                break
    raw.extend(json.dumps(f) for f in await quiet(wm, 0.5))
    await _mod(wm, "mute", action="mute", pid=wx.welcome["me"]["pid"], minutes=1)
    raw.extend(json.dumps(f) for f in await quiet(wm, 0.5))
    everything = "\n".join(raw)
    assert pseudonym in everything
    for secret in (anon.user.display_name, "Secretname", anon.user.email, anon.user.handle,
                   f'"user_id": {anon.user.id}', f'"user_id":{anon.user.id}'):
        assert secret not in everything
    for frame in map(json.loads, raw):
        for key in ("user_id", "member_id", "email", "handle"):
            assert key not in json.dumps(frame)
    audit = await rooms_env.sql("SELECT coalesce(target_label, '') || details::text FROM audit_log "
                                "WHERE action = 'room.mute'")
    assert audit and "Secretname" not in audit[0][0] and pseudonym in audit[0][0]
    stored = await rooms_env.sql("SELECT user_id FROM room_participants WHERE label = :label", label=pseudonym)
    assert stored == [(None,)]


async def test_origin_and_entry_are_refused_with_1008(rooms_env):
    server = rooms_env.server()
    ada, stranger = await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.room_id()
    await rooms_env.join(server, ada, room)
    evil = await rooms_env.ws(server, ada, room, origin="http://evil.example", welcome=False)
    assert (await _closed(evil)).code == 1008
    signed_out = await rooms_env.ws(server, None, room, welcome=False)
    assert (await _closed(signed_out)).code == 1008
    not_joined = await rooms_env.ws(server, stranger, room, welcome=False)
    closed = await _closed(not_joined)
    assert closed.code == 1008 and "ground rules" in closed.reason
    missing = await rooms_env.ws(server, ada, 999999, welcome=False)
    assert (await _closed(missing)).code == 1008
    with pytest.raises(InvalidStatus):
        await rooms_env.ws(server, ada, "not-a-number", welcome=False)  # type: ignore[arg-type]
