"""An open room socket follows its member's sign-in: signing out, a revoked session, a suspension or a staff
session's idle limit closes it (1008, which the page shows and does not retry), and acting on the socket
counts as activity for that idle limit. Real server processes, real sockets."""

from __future__ import annotations

import asyncio

import pytest

from tests.rooms.conftest import quiet, recv_until, until_closed


async def test_a_revoked_session_cannot_send_on_a_socket_opened_before(rooms_env):
    server = rooms_env.server()
    ada, ben = await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.room_id()
    for m in (ada, ben):
        await rooms_env.join(server, m, room)
    wa = await rooms_env.ws(server, ada, room)
    wb = await rooms_env.ws(server, ben, room)
    await rooms_env.send(wa, "before signing out", "one")
    assert (await recv_until(wa, lambda f: f["type"] in ("ack", "error")))["type"] == "ack"
    # "Sign out everywhere" (or an admin revoking the session) deletes the row; the socket stays open until
    # it next acts.
    await rooms_env.sql("DELETE FROM sessions WHERE user_id = :id", id=ada.user.id)
    # The check reads the process's viewer snapshot, which the deletion's NOTIFY drops within milliseconds
    # (web.viewer_cache), as for pages; a busy machine can delay that NOTIFY, so give it a moment.
    await asyncio.sleep(1.0)
    await rooms_env.send(wa, "after signing out", "two")
    closed = await until_closed(wa)
    assert closed.rcvd is not None and closed.rcvd.code == 1008
    assert "sign in again" in closed.rcvd.reason
    assert not [f for f in await quiet(wb, 0.6) if f["type"] == "message" and "after" in f.get("text", "")]
    stored = await rooms_env.sql("SELECT count(*) FROM room_messages WHERE room_id = :room AND body_text LIKE 'after%'",
                                 room=room)
    assert stored[0][0] == 0


@pytest.mark.parametrize("ending", ["suspended", "signed_out", "idle_staff"])
async def test_an_open_socket_closes_when_its_sign_in_ends(rooms_env, ending):
    server = rooms_env.server(ROOMS_SESSION_CHECK_SECONDS="0.5")
    member = await rooms_env.member("moderator" if ending == "idle_staff" else "resident")
    room = await rooms_env.room_id()
    await rooms_env.join(server, member, room)
    ws = await rooms_env.ws(server, member, room)
    assert not [f for f in await quiet(ws, 1.2) if f["type"] == "error"]  # checks that pass change nothing
    if ending == "suspended":
        await rooms_env.sql("UPDATE users SET suspended_at = now(), suspended_reason = 'test' WHERE id = :id",
                            id=member.user.id)
    elif ending == "signed_out":
        await rooms_env.sql("DELETE FROM sessions WHERE user_id = :id", id=member.user.id)
    else:  # a staff session last used 40 minutes ago, with a 30-minute idle limit
        await rooms_env.sql("UPDATE sessions SET idle_minutes = 30, last_seen_at = now() - interval '40 minutes' "
                            "WHERE user_id = :id", id=member.user.id)
    closed = await until_closed(ws, within=8)
    assert closed.rcvd is not None and closed.rcvd.code == 1008 and "sign in again" in closed.rcvd.reason


async def test_acting_on_the_socket_keeps_a_staff_session_alive(rooms_env):
    server = rooms_env.server(ROOMS_SESSION_CHECK_SECONDS="0.5")
    moderator = await rooms_env.member("moderator")
    room = await rooms_env.room_id()
    await rooms_env.join(server, moderator, room)
    ws = await rooms_env.ws(server, moderator, room)
    # 25 minutes since the last page, of a 30-minute idle limit: still signed in, and a message resets it.
    await rooms_env.sql("UPDATE sessions SET idle_minutes = 30, last_seen_at = now() - interval '25 minutes' "
                        "WHERE user_id = :id", id=moderator.user.id)
    assert not [f for f in await quiet(ws, 1.2) if f["type"] == "error"]
    await rooms_env.send(ws, "still here, covering the room", "m1")
    assert (await recv_until(ws, lambda f: f["type"] in ("ack", "error")))["type"] == "ack"
    seen = await rooms_env.sql("SELECT now() - last_seen_at < interval '1 minute' FROM sessions WHERE user_id = :id",
                               id=moderator.user.id)
    assert seen[0][0] is True
    # A ping (the page sends one every 25 s while open) is not activity: only what the member does counts.
    await rooms_env.sql("UPDATE sessions SET last_seen_at = now() - interval '25 minutes' WHERE user_id = :id",
                        id=moderator.user.id)
    await ws.send('{"type":"ping"}')
    await recv_until(ws, lambda f: f["type"] == "pong")
    await quiet(ws, 1.2)  # two checks come and go
    seen = await rooms_env.sql("SELECT now() - last_seen_at > interval '20 minutes' FROM sessions "
                               "WHERE user_id = :id", id=moderator.user.id)
    assert seen[0][0] is True
