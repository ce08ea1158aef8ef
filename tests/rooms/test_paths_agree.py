"""The room socket's fast path (`post_message_fast`, one statement) and the careful path (`post_message`, the
publishing pipeline in a session) agree over a matrix of room, participant, member and message states:

- whatever the fast path sends, the careful path sends too, with no follow-up (no review item, no crisis);
- whatever the careful path sends with no follow-up, the fast path sends too (it never falls back needlessly);
- everything else (refusals, held messages, sends that open review items) the fast path leaves to the careful one.

Both run on the same state, each in a savepoint that is rolled back.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from community.platform.accounts.actions import to_viewer
from community.platform.accounts.models import User
from community.platform.anonymity import Anonymity
from community.platform.errors import ActionError
from community.platform.review.models import ReviewItem, WatchedWord
from community.rooms import actions as rooms
from community.rooms.models import Room

ROOM_STATES = ["open", "open-overdue", "scheduled", "ended"]
FLAGS = ["plain", "locked", "slow", "muted", "removed", "silenced"]
BODIES = {
    "ok": "Thanks for hosting tonight; it helped to hear how the others handle nights.",
    "empty": "   ",
    "too long": "x" * 2001,
    "blocked word": "This mentions zorblax, which the list blocks.",
    "approval word": "This mentions quibbleword, which needs approval.",
    "flag word": "This mentions flibbertigibbet, which the list flags.",
    "crisis": "Honestly I can't do this anymore, I want to disappear.",
    "identifier": "Patient MRN 84736251 in bed 4 asked about her son.",
}
WHO = ["member", "host"]


class _Rollback(Exception):
    pass


async def _careful(db, anonymity, viewer, room_id, pid, body):
    outcome = None
    try:
        async with db.transaction() as session:
            before = await session.scalar(select(func.count()).select_from(ReviewItem))
            try:
                posted = await rooms.post_message(session, anonymity, viewer, room_id, pid, body, client_id="c")
            except ActionError as exc:
                outcome = ("refused", type(exc).__name__, exc.message)
            else:
                after = await session.scalar(select(func.count()).select_from(ReviewItem))
                if posted.held is not None:
                    outcome = ("held",)
                else:
                    outcome = ("sent", posted.seq, posted.crisis or after > before)
            raise _Rollback
    except _Rollback:
        pass
    return outcome


async def _fast(db, viewer, room_id, pid, body):
    async with db.raw() as conn:
        await conn.execute("SAVEPOINT fast_path")
        try:
            posted = await rooms.post_message_fast(conn, viewer, room_id, pid, body, client_id="c")
        finally:
            await conn.execute("ROLLBACK TO SAVEPOINT fast_path")
    return None if posted is None else ("sent", posted.seq)


async def _set_state(db, room_id, pid, room_state, flag, now):
    async with db.raw() as conn:
        state = "open" if room_state.startswith("open") else room_state
        ends = now - timedelta(minutes=1) if room_state == "open-overdue" else now + timedelta(hours=1)
        await conn.execute("UPDATE rooms SET state = $2, kind = 'scheduled', starts_at = $3, ends_at = $4, "
                           "locked = $5, slow_mode_seconds = $6 WHERE id = $1", room_id, state,
                           now - timedelta(hours=1), ends, flag == "locked", 60 if flag == "slow" else 0)
        await conn.execute("UPDATE room_participants SET muted_until = $2, removed_at = $3, last_message_at = $4 "
                           "WHERE id = $1", pid, now + timedelta(minutes=5) if flag == "muted" else None,
                           now if flag == "removed" else None, now - timedelta(seconds=5))


@pytest.fixture
async def scene(db, member_factory, settings):
    host = await member_factory("attending", name="Hana Host")
    member = await member_factory(name="Milo Member")
    anonymity = Anonymity(settings.anon_key)
    async with db.transaction() as session:
        room = Room(kind="scheduled", title="Night float debrief", host_id=host.id, state="open", ground_rules="Be kind.",
                    starts_at=datetime.now(UTC) - timedelta(hours=1), ends_at=datetime.now(UTC) + timedelta(hours=1))
        session.add(room)
        session.add_all([WatchedWord(phrase="zorblax", action="block"),
                         WatchedWord(phrase="quibbleword", action="approve"),
                         WatchedWord(phrase="flibbertigibbet", action="flag")])
        await session.flush()
        viewers = {"member": to_viewer(await session.get(User, member.id)),
                   "host": to_viewer(await session.get(User, host.id))}
        pids = {}
        for who, viewer in viewers.items():
            participant = await rooms.join_room(session, anonymity, viewer, room.id, accept=True,
                                                anonymous=who == "member")
            pids[who] = participant.id
    return {"room": room.id, "viewers": viewers, "pids": pids, "anonymity": anonymity}


async def test_fast_and_careful_paths_agree(db, scene):
    now = datetime.now(UTC)
    disagreements, sent_fast, sent_careful_plain = [], 0, 0
    for room_state, flag, who in itertools.product(ROOM_STATES, FLAGS, WHO):
        viewer, pid = scene["viewers"][who], scene["pids"][who]
        if flag == "silenced":
            viewer = replace(viewer, silenced_until=now + timedelta(hours=1))
        async with db.raw() as conn:
            await conn.execute("SAVEPOINT scenario")
        try:
            await _set_state(db, scene["room"], pid, room_state, flag, now)
            for name, body in BODIES.items():
                careful = await _careful(db, scene["anonymity"], viewer, scene["room"], pid, body)
                fast = await _fast(db, viewer, scene["room"], pid, body)
                case = (room_state, flag, who, name)
                plain = careful[0] == "sent" and not careful[2]
                if fast is not None:
                    sent_fast += 1
                    if not plain or fast[1] != careful[1]:
                        disagreements.append((case, "fast sent", fast, careful))
                elif plain:
                    disagreements.append((case, "fast fell back needlessly", careful))
                sent_careful_plain += plain
        finally:
            async with db.raw() as conn:
                await conn.execute("ROLLBACK TO SAVEPOINT scenario")
    assert disagreements == []
    # The matrix exercised both outcomes: plain sends (taken by the fast path) and everything else.
    assert sent_fast == sent_careful_plain and sent_fast >= 4
    assert sent_fast < len(ROOM_STATES) * len(FLAGS) * len(WHO) * len(BODIES) / 4


async def test_the_careful_path_says_why(db, scene):
    """The refusals the fast path leaves to the careful one carry their reasons."""
    viewer, pid = scene["viewers"]["member"], scene["pids"]["member"]
    messages = {}
    for name in ("empty", "blocked word", "approval word"):
        messages[name] = await _careful(db, scene["anonymity"], viewer, scene["room"], pid, BODIES[name])
    assert messages["empty"][0] == "refused" and "Messages are 1 to 2,000 characters" in messages["empty"][2]
    assert messages["blocked word"][0] == "refused"
    assert messages["approval word"][0] == "refused" and "needs a moderator's approval" in messages["approval word"][2]
    assert await _careful(db, scene["anonymity"], viewer, scene["room"], pid, BODIES["identifier"]) == ("held",)
    sent = await _careful(db, scene["anonymity"], viewer, scene["room"], pid, BODIES["crisis"])
    assert sent[0] == "sent" and sent[2]  # sent, with an urgent review item
