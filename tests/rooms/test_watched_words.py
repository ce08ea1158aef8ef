"""The admin's watched-words list applies to live room messages: block and approve refuse, flag posts and opens a
review item, and everything else still goes through unchanged."""

from __future__ import annotations

import pytest

from tests.rooms.conftest import is_message, recv_until

pytestmark = pytest.mark.live

APPROVAL_TEXT = "needs a moderator's approval"


async def _watch(env, phrase: str, action: str, message: str | None = None) -> None:
    await env.sql("INSERT INTO watched_words (phrase, action, message) VALUES (:phrase, :action, :message)",
                  phrase=phrase, action=action, message=message)


async def _two_in_room(env, writer_role: str = "resident"):
    server = env.server()
    writer, reader = await env.member(writer_role), await env.member()
    room = await env.room_id()
    for m in (writer, reader):
        await env.join(server, m, room)
    ww = await env.ws(server, writer, room)
    wr = await env.ws(server, reader, room)
    return room, ww, wr


async def _refused(env, ws, body: str, client_id: str) -> dict:
    await env.send(ws, body, client_id)
    frame = await recv_until(ws, lambda f: f.get("client_id") == client_id and f["type"] in ("ack", "error"))
    assert frame["type"] == "error", frame
    assert frame["code"] == "invalid"
    return frame


async def _stored(env, room: int, fragment: str) -> list:
    return await env.sql("SELECT id FROM room_messages WHERE room_id = :room AND body_text LIKE :pattern",
                         room=room, pattern=f"%{fragment}%")


async def test_blocked_word_is_refused_with_the_entrys_message(rooms_env):
    await _watch(rooms_env, "frobnicate", "block", "Please don't use that word here.")
    room, ww, wr = await _two_in_room(rooms_env)

    error = await _refused(rooms_env, ww, "I will FROBNICATE the charge nurse", "b1")
    assert error["message"] == "Please don't use that word here."

    # Not delivered: the next message reaches the reader with nothing blocked before it; not stored either.
    await rooms_env.send(ww, "sorry, ignore that", "b2")
    seen: list = []
    await recv_until(wr, is_message("ignore that"), seen=seen)
    assert not [f for f in seen if "FROBNICATE" in f.get("html", "").upper()]
    assert await _stored(rooms_env, room, "FROBNICATE") == []


async def test_moderators_are_not_exempt_from_a_block(rooms_env):
    await _watch(rooms_env, "frobnicate", "block")
    room, wm, _ = await _two_in_room(rooms_env, "moderator")
    error = await _refused(rooms_env, wm, "frobnicate it", "m1")
    assert error["message"] == "This contains wording our community does not allow. Please rephrase it."
    assert await _stored(rooms_env, room, "frobnicate") == []


async def test_approval_word_is_refused_with_the_fixed_message(rooms_env):
    await _watch(rooms_env, "quux", "approve", "This custom text is for blocks only.")
    room, ww, wr = await _two_in_room(rooms_env)

    error = await _refused(rooms_env, ww, "the quux incident again", "a1")
    assert APPROVAL_TEXT in error["message"] and "live room" in error["message"]
    assert "custom text" not in error["message"]

    await rooms_env.send(ww, "never mind", "a2")
    seen: list = []
    await recv_until(wr, is_message("never mind"), seen=seen)
    assert not [f for f in seen if "quux" in f.get("html", "")]
    assert await _stored(rooms_env, room, "quux") == []


async def test_flagged_word_is_delivered_and_opens_a_review_item(rooms_env):
    await _watch(rooms_env, "zorch*", "flag")
    room, ww, wr = await _two_in_room(rooms_env)

    await rooms_env.send(ww, "Feeling zorched after that shift", "f1")
    ack = await recv_until(ww, lambda f: f.get("client_id") == "f1" and f["type"] in ("ack", "error"))
    assert ack["type"] == "ack", ack
    got = await recv_until(wr, is_message("zorched"))
    assert got["seq"] == ack["seq"]

    [(message_id,)] = await _stored(rooms_env, room, "zorched")
    items = await rooms_env.sql(
        "SELECT reasons, source FROM review_items WHERE target_kind = 'room_message' AND target_id = :id "
        "AND resolved_at IS NULL", id=message_id)
    assert len(items) == 1
    reasons, source = items[0]
    assert "watched" in reasons and source == "watched"


async def test_message_without_a_watched_word_still_goes_through(rooms_env):
    await _watch(rooms_env, "frobnicate", "block")
    await _watch(rooms_env, "zorch*", "flag")
    room, ww, wr = await _two_in_room(rooms_env)

    await rooms_env.send(ww, "Quiet night, all patients stable", "n1")
    ack = await recv_until(ww, lambda f: f.get("client_id") == "n1" and f["type"] in ("ack", "error"))
    assert ack["type"] == "ack", ack
    assert (await recv_until(wr, is_message("all patients stable")))["seq"] == ack["seq"]
    [(message_id,)] = await _stored(rooms_env, room, "all patients stable")
    assert await rooms_env.sql("SELECT 1 FROM review_items WHERE target_kind = 'room_message' "
                               "AND target_id = :id", id=message_id) == []
