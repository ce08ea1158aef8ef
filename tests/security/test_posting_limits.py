"""F7: room messages and thread-post edits have a posting limit (drafts: tests/security/test_drafts.py).

Room messages: ROOM_MESSAGES_PER_MINUTE per participant, on both send paths (the one-statement fast path and the
careful one agree), a clear rate_limited error frame that carries the client_id (the browser puts the text back in
the box); moderators are not limited. Post edits: POSTS_PER_MINUTE, as for new posts; each edit stores a
revision. Refusals are 429 with Retry-After and keep the draft."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from community.discussions.models import PostRevision
from community.platform import rate_limits
from community.platform.accounts.actions import to_viewer
from community.platform.anonymity import Anonymity
from community.platform.errors import RateLimited
from community.rooms import actions as rooms
from community.rooms.models import Room, RoomMessage
from tests.discussions.conftest import post_ids, start_thread
from tests.rooms.conftest import recv_until


@pytest.fixture(autouse=True)
def fresh_edit_counts(monkeypatch):
    """Edits are counted in process memory: each test starts with its own counts."""
    monkeypatch.setattr(rate_limits, "EDITS", rate_limits.RecentEdits())


async def _room_with(db, settings, member):
    anonymity = Anonymity(settings.anon_key)
    async with db.transaction() as session:
        room = Room(kind="standing", title="Night-float corner", ground_rules="Be kind.", state="open",
                    starts_at=datetime.now(UTC) - timedelta(hours=1))
        session.add(room)
        await session.flush()
        participant = await rooms.join_room(session, anonymity, to_viewer(member), room.id, accept=True,
                                            anonymous=False)
        for n in range(3):
            seq = await rooms.next_seq(session, room.id)
            session.add(RoomMessage(room_id=room.id, seq=seq, participant_id=participant.id, body_text=f"m{n}",
                                    body_html=f"<p>m{n}</p>"))
        participant.last_message_at = datetime.now(UTC) - timedelta(seconds=20)
        return anonymity, room.id, participant.id


async def _fast(db, viewer, room_id, pid, per_minute):
    async with db.raw() as conn:
        await conn.execute("SAVEPOINT fast_path")
        try:
            return await rooms.post_message_fast(conn, viewer, room_id, pid, "One more thought.", client_id="c",
                                                 per_minute=per_minute)
        finally:
            await conn.execute("ROLLBACK TO SAVEPOINT fast_path")


async def test_both_send_paths_keep_the_room_message_limit(db, settings, resident, moderator):
    anonymity, room_id, pid = await _room_with(db, settings, resident)
    viewer = to_viewer(resident)
    # Three messages in the last minute: a limit of 3 refuses the fourth on both paths...
    assert await _fast(db, viewer, room_id, pid, per_minute=3) is None
    with pytest.raises(RateLimited, match="at most 3 messages a minute") as refused:
        async with db.transaction() as session:
            await rooms.post_message(session, anonymity, viewer, room_id, pid, "One more thought.", per_minute=3)
    assert refused.value.retry_after > 0
    # ...a limit of 4 lets it through on both; 0 is no limit.
    assert (await _fast(db, viewer, room_id, pid, per_minute=4)) is not None
    assert (await _fast(db, viewer, room_id, pid, per_minute=0)) is not None
    async with db.transaction() as session:
        posted = await rooms.post_message(session, anonymity, viewer, room_id, pid, "One more thought.", per_minute=4)
    assert posted.seq is not None
    # A moderator's messages are not limited (the same rule as on every surface).
    _, mod_room, mod_pid = await _room_with(db, settings, moderator)
    assert (await _fast(db, to_viewer(moderator), mod_room, mod_pid, per_minute=3)) is not None


async def test_a_flood_in_a_live_room_gets_a_clear_error_frame(rooms_env):
    server = rooms_env.server(ROOM_MESSAGES_PER_MINUTE="3")
    member = await rooms_env.member("resident")
    room = await rooms_env.room_id()
    await rooms_env.join(server, member, room)
    ws = await rooms_env.ws(server, member, room)
    for n in range(3):
        await rooms_env.send(ws, f"flood {n}", f"f{n}")
        await recv_until(ws, lambda f, n=n: f["type"] == "ack" and f.get("client_id") == f"f{n}")
    await rooms_env.send(ws, "one too many", "f3")
    error = await recv_until(ws, lambda f: f["type"] in ("error", "ack") and f.get("client_id") == "f3")
    assert error["type"] == "error" and error["code"] == "rate_limited", error
    assert "at most 3 messages a minute" in error["message"]
    stored = await rooms_env.sql("SELECT count(*) FROM room_messages WHERE body_text = 'one too many'")
    assert stored[0][0] == 0


async def test_thread_post_edits_are_rate_limited_and_keep_the_draft(resident, login_with, db):
    client = await login_with(resident, posts_per_minute=3)
    thread_id, _ = await start_thread(client, "Edited often", "The first version.")
    post_id = (await post_ids(db, thread_id))[0]
    for n in range(3):  # edits are counted on their own, not with new posts
        response = await client.post_form(f"/p/{post_id}/edit", {"body": f"Version {n}.", "title": "Edited often"})
        assert response.status_code == 303, response.text[:500]
    response = await client.post_form(f"/p/{post_id}/edit", {"body": "A kept draft.", "title": "Edited often"})
    assert response.status_code == 429 and "at most 3 edits of posts a minute" in response.text
    assert "A kept draft." in response.text and int(response.headers["retry-after"]) > 0
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(PostRevision)
                                    .where(PostRevision.post_id == post_id)) == 3
