"""Issue 14, findings 5 and 6: a tag per scope instead of member-wide tags, and no shared sequences or exact times
on anonymous rows.

- Two anonymous pieces of one member share no tag and no value in any table; an anonymous reply shares a tag with
  its writer's piece only inside that piece; a room session's notification tag is its own.
- The member still finds all of it (journal, notifications, editing, account deletion) through their keyring.
- Anonymous and private rows take ids from sequences of their own and keep the day only; the wall and threads
  stay in order.
- `community anonymity rekey` moves rows written under member-wide tags to scoped tags.
Each test fails on the code before the change.
"""

from __future__ import annotations

import importlib.util
import re
from datetime import UTC, time
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from community.app import PILLARS
from community.platform.accounts import actions as accounts
from community.platform.accounts import rekey, scopes
from community.platform.accounts.actions import to_viewer
from community.platform.accounts.models import AnonScope, User
from community.platform.anonymity import SCOPE_BATCH, Anonymity, author_tag
from community.platform.review.models import Notification
from community.platform.web.middleware import SESSION_COOKIE
from community.reflections import actions as reflections
from community.reflections.models import Reflection, ReflectionReaction, ReflectionReply
from community.reflections.moderation import ReplyAdapter
from community.rooms import actions as rooms
from community.rooms.models import Room, RoomParticipant
from community.rooms.moderation import RoomMessageAdapter
from tests.conftest import PASSWORD
from tests.reflections.conftest import write

ANON_IDS = 10**11
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d")


async def _dump(db) -> list[tuple[str, dict[str, Any]]]:
    """Every row of every table, as JSON."""
    async with db.transaction() as session:
        tables = list(await session.scalars(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version'")))
        rows = []
        for table in tables:
            rows += [(table, row) for (row,) in await session.execute(text(f'SELECT to_jsonb(t) FROM "{table}" t'))]
    return rows


def _about(rows, rid: int) -> list[dict[str, Any]]:
    """The rows about reflection `rid`: the piece, its replies and reactions, notifications about or linking to it,
    and the keyring rows of every tag these carry."""
    found = [row for table, row in rows if (table == "reflections" and row["id"] == rid)
             or row.get("reflection_id") == rid or f"/reflections/{rid}" in (row.get("url") or "")]
    tags = {v for row in found for k, v in row.items() if k.endswith("tag") and v}
    return found + [row for table, row in rows if table == "anon_scopes" and row["tag"] in tags]


# Columns whose values say what a row is, not whose: the same for everyone.
COMMON = ("kind", "state", "visibility", "target_kind")


def _values(rows) -> set[str]:
    """The distinctive values in rows: strings long enough to be a tag, a slot, a seal or a link (not the day)."""
    return {v for row in rows for k, v in row.items() if isinstance(v, str) and len(v) >= 16 and k not in COMMON
            and not TIMESTAMP.match(v)}


async def _replies(db, rid: int) -> list[ReflectionReply]:
    async with db.transaction() as session:
        return list(await session.scalars(select(ReflectionReply).where(ReflectionReply.reflection_id == rid)
                                          .order_by(ReflectionReply.position, ReflectionReply.id)))


async def _reply(client, rid: int, body: str, anonymous: bool = True) -> int:
    response = await client.post_form(f"/reflections/{rid}/replies",
                                      {"body": body, **({"anonymous": "yes"} if anonymous else {})})
    assert response.status_code == 303, response.text[:1000]
    return int(re.search(r"#reply-(\d+)", response.headers["location"]).group(1))


def _midnight(value) -> bool:
    return value.astimezone(UTC).time() == time(0, 0)


# ---- finding 5: scoped tags --------------------------------------------------------------------------------

async def test_two_anonymous_pieces_of_one_member_share_no_tag_and_no_value(member_factory, login, db):
    me, reader = await login(await member_factory()), await login(await member_factory())
    first = await write(me, title="", body="The first night I could not sleep.", visibility="anonymous")
    second = await write(me, title="", body="Another night, a different patient.", visibility="anonymous")
    for rid in (first, second):
        await _reply(reader, rid, f"You are not alone ({rid}).")  # a notification to the piece's tag
        await _reply(me, rid, f"Thank you all ({rid}).")  # the writer, in their own piece
        assert (await me.post_form(f"/reflections/{rid}/react", {"kind": "thanks"})).status_code == 303
    rows = await _dump(db)
    one, two = _about(rows, first), _about(rows, second)
    tags = [{row["author_tag"] for row in about if row.get("visibility") == "anonymous"} for about in (one, two)]
    assert len(tags[0]) == len(tags[1]) == 1 and not tags[0] & tags[1]
    assert any(row.get("recipient_tag") in tags[0] for row in one)  # the notification went to the piece's tag
    shared = _values(one) & _values(two)
    assert shared == set(), shared


async def test_an_anonymous_reply_shares_a_tag_with_its_writers_piece_only_inside_it(member_factory, login, db,
                                                                                    settings):
    writer, other = await member_factory(), await member_factory()
    me, them = await login(writer), await login(other)
    mine = await write(me, body="My own anonymous piece.", visibility="anonymous")
    theirs = await write(them, body="Their anonymous piece.", visibility="anonymous")
    named = await write(them, body="Their named piece.", visibility="named")
    in_mine, in_theirs, in_named = [await _reply(me, rid, f"My words in {rid}.") for rid in (mine, theirs, named)]
    async with db.transaction() as session:
        piece = await session.get(Reflection, mine)
        replies = {r.id: r for r in await session.scalars(select(ReflectionReply).where(
            ReflectionReply.id.in_([in_mine, in_theirs, in_named])))}
    assert replies[in_mine].author_tag == piece.author_tag  # one scope: the piece and its writer's replies in it
    others = [replies[in_theirs].author_tag, replies[in_named].author_tag]
    assert len({piece.author_tag, *others}) == 3 and all(others)
    # A moderator's message about the reply in another's piece goes to that reply's scope, and reaches the writer.
    async with db.transaction() as session:
        await ReplyAdapter(Anonymity(settings.anon_key)).notify_author(
            session, in_theirs, "check_in", "A moderator is thinking of you after your reply.", None)
        note = (await session.scalars(select(Notification).where(Notification.kind == "check_in"))).one()
    assert note.recipient_tag == replies[in_theirs].author_tag
    assert "thinking of you after your reply" in (await me.get("/notifications")).text
    # The writer still finds, edits and deletes each of them.
    section = (await me.get("/journal")).text.split('id="my-replies"', 1)[1]
    for reply_id in replies:
        assert f'id="my-reply-{reply_id}"' in section
        edited = await me.post_form(f"/reflections/replies/{reply_id}/edit", {"body": f"Rewritten {reply_id}."})
        assert edited.status_code == 303, edited.text[:500]
    assert (await me.post_form(f"/reflections/replies/{in_theirs}/delete", {})).status_code == 303
    assert {r.id for r in await _replies(db, theirs)} == set()


async def test_a_room_sessions_notification_tag_is_its_own(member_factory, login, db, settings):
    resident = await member_factory()
    me = await login(resident)
    rid = await write(me, body="Written before the room.", visibility="anonymous")
    async with db.transaction() as session:
        room = (await session.scalars(select(Room).where(Room.kind == "standing", Room.allow_anonymous))).first()
    joined = await me.post_form(f"/rooms/{room.id}/join", {"accept": "1", "as": "pseudonym"})
    assert joined.status_code == 303, joined.text[:500]
    async with db.transaction() as session:
        participant = (await session.scalars(select(RoomParticipant).where(
            RoomParticipant.room_id == room.id, RoomParticipant.anonymous))).one()
        piece = await session.get(Reflection, rid)
        posted = await rooms.post_message(session, Anonymity(settings.anon_key), to_viewer(
            await session.get(User, resident.id)), room.id, participant.id, "Hello, everyone.", client_id="c1")
    async with db.transaction() as session:
        message = posted.message_id
        await RoomMessageAdapter(Anonymity(settings.anon_key)).notify_author(
            session, message, "moderation", "A moderator wrote about your message in the room.", None)
    assert participant.notify_tag and participant.notify_tag != piece.author_tag
    assert participant.notify_tag == author_tag(settings.anon_key, resident.id, f"room:{room.id}")
    page = await me.get("/notifications")
    assert "about your message in the room" in page.text and 'aria-label="1 unread"' in page.text


async def test_a_member_finds_all_their_anonymous_pieces_and_account_deletion_too(member_factory, login, db,
                                                                                  settings):
    member = await member_factory()
    me, reader = await login(member), await login(await member_factory())
    pieces = [await write(me, body=f"Anonymous piece {n}.", visibility="anonymous") for n in range(2)]
    private = await write(me, body="Only for me.", visibility="private")
    other = await write(reader, body="Someone else's night.", visibility="anonymous")
    reply = await _reply(me, other, "Same here.")
    assert (await me.post_form(f"/reflections/{other}/react", {"kind": "metoo"})).status_code == 303
    for rid in pieces:
        await _reply(reader, rid, "Holding space for you.")
    journal = (await me.get("/journal")).text
    assert all(f"/reflections/{rid}" in journal for rid in (*pieces, private))
    page = await me.get("/notifications")
    assert "replied to your anonymous reflection" in page.text and 'aria-label="2 unread"' in page.text
    # Their time is the day: the list says "today", not how long ago midnight was.
    listing = page.text.split("</header>", 1)[1]
    assert "today" in listing and not re.search(r"just now|min ago|hours? ago", listing)
    for rid in pieces:
        edited = await me.post_form(f"/reflections/{rid}/edit", {"title": "", "body": f"Rewritten {rid}.",
                                                                "visibility": "anonymous", "intent": "publish"})
        assert edited.status_code == 303, edited.text[:500]
    anonymity = Anonymity(settings.anon_key)
    async with db.transaction() as session:
        tags = await scopes.tags_of(session, anonymity, member.id)
    assert len(tags) == 4  # three pieces, one reply scope
    response = await me.post_form("/account/data/delete", {"password": PASSWORD, "choice": "anonymize"})
    assert response.status_code == 303, response.text[:500]
    async with db.transaction() as session:
        kept = list(await session.scalars(select(Reflection).where(Reflection.id.in_([*pieces, private]))))
        left = await session.get(ReflectionReply, reply)
        reactions = list(await session.scalars(select(ReflectionReaction).where(
            ReflectionReaction.reflection_id == other)))
        keyring = list(await session.scalars(select(AnonScope).where(
            AnonScope.slot.in_(anonymity.scope_slots(member.id, SCOPE_BATCH)))))
        notes = list(await session.scalars(select(Notification).where(Notification.recipient_tag.in_(tags))))
    assert sorted(r.id for r in kept) == sorted(pieces)  # the private piece is gone
    assert all(r.author_tag is None and r.sealed_author is None for r in kept)
    assert left.author_tag is None and left.sealed_author is None
    assert reactions == [] and keyring == [] and notes == []


# ---- finding 6: ids and times ------------------------------------------------------------------------------

async def test_anonymous_rows_take_ids_of_their_own_and_keep_the_day(member_factory, login, db):
    me, them = await login(await member_factory()), await login(await member_factory())
    named_before = await write(me, body="Signed, before.", visibility="named")
    anonymous = await write(me, body="Unsigned.", visibility="anonymous")
    private = await write(me, body="Kept.", visibility="private")
    named_after = await write(me, body="Signed, after.", visibility="named")
    assert named_after == named_before + 1  # the anonymous and private pieces left no gap
    assert anonymous >= ANON_IDS and private >= ANON_IDS > named_after
    signed_first = await _reply(them, named_after, "Signed reply.", anonymous=False)
    hidden = await _reply(me, named_after, "An anonymous reply.")
    signed_next = await _reply(them, named_after, "Signed again.", anonymous=False)
    assert signed_next == signed_first + 1 and hidden >= ANON_IDS
    await _reply(them, anonymous, "To the anonymous piece.", anonymous=False)
    async with db.transaction() as session:
        rows = {r.id: r for r in await session.scalars(select(Reflection).where(
            Reflection.id.in_([named_before, anonymous, private])))}
        reply = await session.get(ReflectionReply, hidden)
        note = (await session.scalars(select(Notification).where(Notification.recipient_tag.is_not(None)))).one()
    assert all(_midnight(rows[r].created_at) and _midnight(rows[r].updated_at) for r in (anonymous, private))
    assert not _midnight(rows[named_before].created_at)
    assert _midnight(reply.created_at) and _midnight(note.created_at) and note.id >= ANON_IDS
    # The thread keeps its order.
    assert [r.id for r in await _replies(db, named_after)] == [signed_first, hidden, signed_next]
    page = (await them.get(f"/reflections/{named_after}")).text
    assert page.index(f'id="reply-{signed_first}"') < page.index(f'id="reply-{hidden}"') \
        < page.index(f'id="reply-{signed_next}"')


async def test_the_wall_pages_through_signed_and_anonymous_pieces_in_order(member_factory, login, db):
    me = await login(await member_factory())
    for n in range(3):
        await write(me, body=f"Named {n}.", visibility="named")
        await write(me, body=f"Anonymous {n}.", visibility="anonymous")
    viewer = (await db_viewer(db, me))
    seen, before = [], None
    async with db.raw() as connection:
        while True:
            page = await reflections.wall_page(connection, viewer, Anonymity("unused-key"), before=before, limit=2)
            if not page.cards:
                break
            seen += page.cards
            before = page.cards[-1].id
    keys = [(c.created_at, c.id) for c in seen]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    async with db.transaction() as session:
        shared = set(await session.scalars(select(Reflection.id).where(Reflection.visibility != "private",
                                                                       Reflection.state == "visible")))
    assert {c.id for c in seen} == shared and len(shared) >= 6


async def db_viewer(db, client):
    """The signed-in client's viewer, as the app loads it."""
    async with db.raw() as connection:
        return await accounts.load_viewer(connection, client.cookies.get(SESSION_COOKIE))


# ---- the keyring -------------------------------------------------------------------------------------------

async def test_the_keyring_finds_more_than_a_batch_and_no_two_slots_share_a_value(member_factory, db, settings):
    member = await member_factory()
    anonymity = Anonymity(settings.anon_key)
    wanted = [anonymity.tag(member.id, f"test:{n}") for n in range(SCOPE_BATCH * 2 + 3)]
    async with db.transaction() as session:
        for tag in wanted + wanted[:5]:  # enrolling a tag twice keeps one slot
            await scopes.enrol(session, anonymity, member.id, tag)
        found = await scopes.tags_of(session, anonymity, member.id)
        slots = list(await session.scalars(select(AnonScope.slot).where(AnonScope.tag.in_(wanted))))
    assert found == wanted
    assert len(set(slots)) == len(wanted) and not set(slots) & set(wanted)
    assert scopes.needs_more_slots(scopes.viewer_slots(anonymity, member.id, 0), len(wanted))
    assert not scopes.needs_more_slots(scopes.viewer_slots(anonymity, member.id, len(wanted)), len(wanted))


# ---- existing data -----------------------------------------------------------------------------------------

async def test_rekey_moves_rows_from_member_wide_tags_to_scoped_ones(member_factory, login, db, settings):
    member = await member_factory()
    me, reader = await login(member), await login(await member_factory())
    piece = await write(me, body="Written before the upgrade.", visibility="anonymous")
    private = await write(me, body="Private, before the upgrade.", visibility="private")
    other = await write(reader, body="Someone else's piece.", visibility="anonymous")
    reply = await _reply(me, other, "My reply, before the upgrade.")
    assert (await me.post_form(f"/reflections/{other}/react", {"kind": "thanks"})).status_code == 303
    await _reply(reader, piece, "A reply that notifies.")
    old = {scope: author_tag(settings.anon_key, member.id, scope) for scope in ("author", "journal", "reply", "react")}
    async with db.transaction() as session:  # as the rows were before migration 0018
        for statement in (
                "UPDATE reflections SET author_tag = :author WHERE id = :piece",
                "UPDATE reflections SET author_tag = :journal WHERE id = :private",
                "UPDATE reflection_replies SET author_tag = :reply WHERE id = :reply_id",
                "UPDATE reflection_reactions SET reactor_tag = :react WHERE reflection_id = :other",
                "UPDATE notifications SET recipient_tag = :author WHERE url LIKE :piece_url",
                "DELETE FROM anon_scopes", "INSERT INTO anon_rekey_pending (id) VALUES (1)"):
            await session.execute(text(statement), {**old, "piece": piece, "piece_url": f"/reflections/{piece}#%",
                                                    "private": private, "reply_id": reply, "other": other})
        assert await scopes.rekey_pending(session)
    assert f"/reflections/{piece}" not in (await me.get("/journal")).text
    anonymity = Anonymity(settings.anon_key)
    hooks = [p.rekey for p in PILLARS if p.rekey is not None]
    async with db.transaction() as session:
        counts = await rekey.rekey(session, anonymity, hooks)
        again = await rekey.rekey(session, anonymity, hooks)
        assert not await scopes.rekey_pending(session)
    assert counts["reflections"] == 2 and counts["reflection replies"] == 1 and counts["reactions"] == 1
    assert counts["reflection notifications"] == 1 and not any(again.values())
    journal = (await me.get("/journal")).text
    assert f"/reflections/{piece}" in journal and f"/reflections/{private}" in journal
    assert f'id="my-reply-{reply}"' in journal.split('id="my-replies"', 1)[1]
    assert "replied to your anonymous reflection" in (await me.get("/notifications")).text
    assert 'aria-pressed="true"' in (await me.get(f"/reflections/{other}")).text
    rows = await _dump(db)
    assert not any(value in str(row) for value in old.values() for _, row in rows)


def _scoped_tags_migration():
    path = next((Path(__file__).resolve().parents[2] / "migrations" / "versions").glob("*_scoped_tags.py"))
    spec = importlib.util.spec_from_file_location("migration_scoped_tags", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_migration_cuts_older_anonymous_times_orders_threads_and_asks_for_a_rekey(member_factory, login,
                                                                                            db):
    me, them = await login(await member_factory()), await login(await member_factory())
    rid = await write(me, body="Older piece.", visibility="anonymous")
    replies = [await _reply(them, rid, f"Older reply {n}.", anonymous=n % 2 == 0) for n in range(3)]
    async with db.transaction() as session:  # as rows were before: exact times, no position, nothing pending
        for statement in ("UPDATE reflections SET created_at = '2026-01-02 13:14:15+00', "
                          "updated_at = '2026-01-03 01:02:03+00' WHERE id = :rid",
                          "UPDATE reflection_replies SET created_at = '2026-01-02 17:18:19+00', position = 0 "
                          "WHERE reflection_id = :rid",
                          "UPDATE notifications SET created_at = '2026-01-02 17:18:19+00'",
                          "DELETE FROM anon_rekey_pending"):
            await session.execute(text(statement), {"rid": rid})
        for statement in _scoped_tags_migration().DATA:
            await session.execute(text(statement))
        assert await scopes.rekey_pending(session)
        piece = await session.get(Reflection, rid)
        notes = list(await session.scalars(select(Notification).where(Notification.recipient_tag.is_not(None))))
    assert _midnight(piece.created_at) and _midnight(piece.updated_at) and notes
    assert all(_midnight(n.created_at) for n in notes)
    rows = await _replies(db, rid)
    assert [r.id for r in rows] == sorted(replies) and [r.position for r in rows] == [1, 2, 3]
    assert [_midnight(r.created_at) for r in rows] == [r.author_id is None for r in rows]
