"""A small seeded community for the security suite: one real object behind every path parameter of the router.

Everything the viewers look at is written by members who are not the viewers (a writer, a second writer, a host,
a second moderator and a second admin), through the real pages wherever a page writes it; a room message and a
dead letter, which no form writes, are inserted as rows. The viewers (one member per role) are built on
tests/conftest.py's `create_member` and `sign_in`, so a change to how staff sign in is made in one place.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, text

from community.mentorship.models import OfficeHours
from community.platform.accounts.models import AdminApproval, SecondFactor, User
from community.platform.mail.models import OutboxMessage
from community.platform.review.models import Checkin, Notification, ReviewItem, WatchedWord
from community.reflections.models import Prompt, ReflectionReply
from community.rooms.models import Room, RoomParticipant
from tests.conftest import Client, create_member, sign_in
from tests.discussions.conftest import CATEGORY, post_ids, reply_to, start_thread
from tests.mentorship.conftest import booking_id_of, first_slot, make_mentor
from tests.reflections.conftest import write

# The roles a visitor can have, in the order of the route table's columns.
ROLES = ("anonymous", "resident", "attending", "moderator", "admin")
LOUNGE = "night-float-lounge"


@dataclass
class World:
    """The ids of the seeded objects (by path parameter name) and a signed-in client per role."""

    ids: dict[str, Any] = field(default_factory=dict)
    viewers: dict[str, Any] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)
    writers: dict[str, Client] = field(default_factory=dict)


async def _ok(response, what: str) -> None:
    assert response.status_code in (200, 201, 303), (what, response.status_code, response.text[:1000])


async def viewer_clients(db, make_client) -> tuple[dict[str, Any], dict[str, Client]]:
    """One member per role and a client signed in as each (the anonymous visitor has a client and no member)."""
    viewers: dict[str, Any] = {"anonymous": None}
    clients: dict[str, Client] = {"anonymous": make_client()}
    await clients["anonymous"].ensure_csrf()
    for role in ROLES[1:]:
        viewers[role] = await create_member(db, role, name=f"Viewer {role.title()}")
        clients[role] = await sign_in(make_client(), db, viewers[role])
    return viewers, clients


async def _staff_objects(world: World, db, staff: Client, admin2: Client, post_id: int, reflection_id: int) -> None:
    """A review item, a check-in, a watched word, an invitation, an unmasking request and an approval."""
    ids = world.ids
    await _ok(await staff.post_form(f"/review/post/{post_id}/decide",
                                    {"action": "check_in", "reason": "How are the nights?"}), "check-in")
    # The flag comes after the check-in decision, which closes the post's open items: this one stays open.
    await _ok(await world.writers["writer2"].post_form(f"/flag/post/{post_id}", {"reason": "spam"}), "flag")
    await _ok(await admin2.post_form("/admin/watched-words", {"phrase": "casinoword", "action": "flag",
                                                              "message": ""}), "watched word")
    await _ok(await admin2.post_form("/admin/invitations", {"role": "resident", "cohort": "", "days": "3"}),
              "invitation")
    await _ok(await admin2.post_form(f"/reflections/unmask/reflection/{reflection_id}", {
        "reason": "A credible threat to a patient was reported and must be followed up."}), "unmask request")
    async with db.transaction() as session:
        ids["item_id"] = (await session.scalars(select(ReviewItem.id).order_by(ReviewItem.id.desc()))).first()
        ids["checkin_id"] = (await session.scalars(select(Checkin.id).order_by(Checkin.id.desc()))).first()
        ids["word_id"] = (await session.scalars(select(WatchedWord.id).order_by(WatchedWord.id.desc()))).first()
        ids["invitation_id"] = await session.scalar(text("SELECT max(id) FROM invitations"))
        ids["request_id"] = await session.scalar(text("SELECT max(id) FROM unmask_requests"))
        target = await create_member(db, "admin", name="Target Admin")
        approval = AdminApproval(action="suspend", target_id=target.id, params={"days": "3"},
                                 reason="Away for a while.", requested_by=world.ids["admin2_id"])
        session.add(approval)
        message = OutboxMessage(message_id=f"<dead-{target.id}@example.org>", to_addr="dead@example.org",
                                template="test", subject="A dead letter", text_body="x", html_body="<p>x</p>",
                                status="dead", attempts=9)
        session.add(message)
        await session.flush()
        ids["approval_id"], ids["message_id"] = approval.id, message.id


async def _room(world: World, db) -> None:
    """The seeded lounge, joined by the writer, with one message of theirs (no form writes a message)."""
    async with db.transaction() as session:
        room_id = (await session.scalars(select(Room.id).where(Room.slug == LOUNGE))).one()
    await _ok(await world.writers["writer"].post_form(f"/rooms/{room_id}/join", {"accept": "1", "as": "name"}),
              "join")
    async with db.transaction() as session:
        row_id, pid = (await session.execute(select(RoomParticipant.id, RoomParticipant.local_id).where(
            RoomParticipant.room_id == room_id).order_by(RoomParticipant.id.desc()))).first()
        seq = await session.scalar(text("UPDATE rooms SET last_seq = last_seq + 1 WHERE id = :r RETURNING last_seq"),
                                   {"r": room_id})
        await session.execute(text("INSERT INTO room_messages (room_id, seq, participant_id, body_text, body_html) "
                                   "VALUES (:r, :s, :p, 'Hello all', '<p>Hello all</p>')"),
                              {"r": room_id, "s": seq, "p": row_id})
    world.ids.update(room_id=room_id, pid=pid, seq=seq)  # pid: the room-local id the paths take


async def _mentorship(world: World, db) -> None:
    """The host as a listed mentor with office hours, a signed booking and a conversation of the writer's."""
    host, writer = world.writers["host"], world.writers["writer"]
    await make_mentor(host)
    mentor_id = world.ids["host_id"]
    async with db.transaction() as session:
        hours_id = await session.scalar(select(OfficeHours.id).where(OfficeHours.mentor_id == mentor_id))
    booked = await writer.post_form(f"/mentors/{mentor_id}/book", {"slot": await first_slot(db, mentor_id)})
    asked = await writer.post_form(f"/mentors/{mentor_id}/ask", {"body": "Could we talk about nights?"})
    conversation = re.search(r"/mentorship/conversations/(\d+)$", asked.headers.get("location", ""))
    assert conversation, asked.text[:500]
    world.ids.update(mentor_id=mentor_id, hours_id=hours_id, booking_id=booking_id_of(booked),
                     conversation_id=int(conversation.group(1)))


async def build_world(db, make_client) -> World:
    """Every object the router's paths name, and who writes each, in order."""
    world = World()
    world.viewers, world.clients = await viewer_clients(db, make_client)
    people = {"writer": await create_member(db, "resident", name="Wren Writer"),
              "writer2": await create_member(db, "resident", name="Sam Second"),
              "host": await create_member(db, "attending", name="Hal Host"),
              "staff": await create_member(db, "moderator", name="Mo Staff"),
              "admin2": await create_member(db, "admin", name="Ada Second")}
    for key, member in people.items():
        world.writers[key] = await sign_in(make_client(), db, member)
    ids = world.ids
    ids.update(user_id=people["writer"].id, handle=people["writer"].handle, host_id=people["host"].id,
               admin2_id=people["admin2"].id, slug=CATEGORY)
    writer, writer2 = world.writers["writer"], world.writers["writer2"]
    ids["thread_id"], _ = await start_thread(writer, title="Nights on the ward", body="How do you all sleep?")
    await reply_to(writer2, ids["thread_id"], body="Blackout curtains help me.")
    ids["post_id"] = (await post_ids(db, ids["thread_id"]))[0]
    ids["reflection_id"] = await write(writer, title="Stairwell", body="I cried in the stairwell today.",
                                       visibility="anonymous")
    await _ok(await writer2.post_form(f"/reflections/{ids['reflection_id']}/replies",
                                      {"body": "Thank you for writing this.", "anonymous": "yes"}), "reflection reply")
    await _staff_objects(world, db, world.writers["staff"], world.writers["admin2"], ids["post_id"],
                         ids["reflection_id"])
    await _room(world, db)
    await _mentorship(world, db)
    async with db.transaction() as session:
        # A passkey row of the writer's: another member's factor, which no viewer may remove.
        ids["factor_id"] = await session.scalar(insert(SecondFactor).values(
            user_id=people["writer"].id, kind="passkey", label="Writer's key", credential_id="world-key",
            public_key="x").returning(SecondFactor.id))
        ids["session_id"] = await session.scalar(text("SELECT id FROM sessions WHERE user_id = :u"),
                                                 {"u": people["writer"].id})  # another member's session
        ids["reply_id"] = await session.scalar(select(ReflectionReply.id).where(
            ReflectionReply.reflection_id == ids["reflection_id"]))
        ids["note_id"] = await session.scalar(select(Notification.id).where(
            Notification.user_id == people["writer"].id).order_by(Notification.id.desc()))
        ids["prompt_id"] = (await session.scalars(select(Prompt.id).where(Prompt.active.is_(True))
                                                  .order_by(Prompt.id))).first()
        ids["category_id"] = await session.scalar(text("SELECT id FROM categories WHERE slug = :s"), {"s": CATEGORY})
        assert (await session.get(User, people["writer"].id)) is not None
    missing = [name for name, value in ids.items() if value is None]
    assert not missing, f"the world lacks {missing}"
    return world


def fill(template: str, ids: dict[str, Any], overrides: dict[str, Any] | None = None) -> str:
    """/t/{thread_id:dbid}/reply -> /t/42/reply, from the world's ids (and a route's own values first)."""
    values = {**ids, **(overrides or {})}

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"no seeded value for {{{name}}} in {template}: add one to tests/security/world.py"
        return str(values[name])

    return re.sub(r"{([^}:]+)(?::[^}]+)?}", one, template)


@asynccontextmanager
async def rolled_back(db) -> AsyncIterator[None]:
    """A savepoint on the test's own connection (tests/conftest.py's `db`, or the suite's `secured`), rolled back
    at the end of the block, whatever happened in it."""
    savepoint = await db._bind.begin_nested()
    try:
        yield
    finally:
        await savepoint.rollback()


async def isolated(db, client: Client, request: Awaitable[Any]) -> Any:
    """Runs one request inside a savepoint that is rolled back, and puts the client's cookies back: every request
    of a matrix meets the same world, whatever the one before it did (deleted a post, signed out, ended a room)."""
    saved = dict(client.cookies)
    try:
        async with rolled_back(db):
            return await request  # an httpx call, not yet awaited: it runs here, inside the savepoint
    finally:
        client.cookies.clear()
        for name, value in saved.items():
            client.cookies.set(name, value)


def outcome(response) -> str:
    """The status as the route table writes it: `in` is a 303 to the sign-in page."""
    if response.status_code == 303 and response.headers.get("location", "").startswith("/signin"):
        return "in"
    return str(response.status_code)

