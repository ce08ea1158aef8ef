"""Live rooms: listing, scheduling sessions, joining (ground rules, pseudonyms), posting, history and retention.

Every message and moderation event takes the room's next sequence number inside its own transaction
(`UPDATE rooms SET last_seq = last_seq + 1 RETURNING last_seq`: the row lock also makes commit order
equal seq order) and calls `pg_notify` there too, so the notification is delivered only on commit.
The payload carries only "room:seq:kind"; every process's hub reads the rows itself.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform import publishing, rate_limits
from community.platform.accounts import scopes
from community.platform.anonymity import Anonymity
from community.platform.errors import Forbidden, Invalid, NotFound, RateLimited
from community.platform.review import audit, watched
from community.platform.safety import screening
from community.platform.text import render_light, render_markdown
from community.platform.times import day_of, parse_moment
from community.platform.viewer import Viewer
from community.rooms import protocol
from community.rooms.models import (
    ANON_SEQUENCE,
    LOCAL_IDS,
    Room,
    RoomEvent,
    RoomMessage,
    RoomParticipant,
    RoomPresence,
)
from community.rooms.policy import MESSAGE, MESSAGES_PER_MINUTE

CHANNEL = "room_events"
OPEN_EARLY = timedelta(minutes=30)  # a host may open a scheduled session this long before its start
PRIVATE_OPEN_EARLY = timedelta(minutes=5)  # a private room opens when either of its two arrives, from this early
PRIVATE_ROOM = "This is a private room for the two people it was booked for."
RETENTION_CHOICES = {"keep": None, "0": 0, "1": 1, "24": 24, "72": 72, "168": 168}

_ADJECTIVES = ("Quiet", "Steady", "Gentle", "Patient", "Calm", "Warm", "Kind", "Brave", "Thoughtful", "Bright",
               "Hopeful", "Careful", "Curious", "Tender", "Open", "Still", "Clear", "Soft", "Early", "Late")
_NOUNS = ("Heron", "Willow", "Harbor", "Lantern", "Cedar", "River", "Sparrow", "Meadow", "Pine", "Otter",
          "Comet", "Maple", "Wren", "Tide", "Fern", "Birch", "Finch", "Ridge", "Brook", "Aspen")


def now() -> datetime:
    return datetime.now(UTC)


# ---- sequence numbers and notifications ---------------------------------------------------------------------

async def notify(session: AsyncSession, room_id: int, seq: int, kind: str) -> None:
    """Inside the caller's transaction: PostgreSQL delivers it on commit, to every process's hub."""
    await session.execute(text("SELECT pg_notify(:channel, :payload)"),
                          {"channel": CHANNEL, "payload": f"{room_id}:{seq}:{kind}"})


async def next_seq(session: AsyncSession, room_id: int) -> int:
    seq = await session.scalar(update(Room).where(Room.id == room_id).values(last_seq=Room.last_seq + 1)
                               .returning(Room.last_seq))
    if seq is None:
        raise NotFound("This room does not exist.")
    return seq


async def add_event(session: AsyncSession, room_id: int, kind: str, data: dict[str, Any] | None = None) -> int:
    seq = await next_seq(session, room_id)
    await session.execute(insert(RoomEvent).values(room_id=room_id, seq=seq, kind=kind, data=data or {}))
    await notify(session, room_id, seq, "e")
    return seq


# ---- rooms --------------------------------------------------------------------------------------------------

def can_moderate(viewer: Viewer, room: Room) -> bool:
    """The host, and moderators; in a private room only its host (moderators act on flagged messages through
    the review queue, never by walking into a conversation for two)."""
    if room.host_id is not None and room.host_id == viewer.id:
        return True
    return viewer.is_moderator and not room.private


def is_overdue(room: Room, at: datetime | None = None) -> bool:
    return room.kind == "scheduled" and room.state != "ended" and room.ends_at is not None \
        and room.ends_at <= (at or now())


async def access_room(session: AsyncSession, viewer: Viewer | None, room_id: int, *, lock: bool = False) -> Room:
    if viewer is None:
        raise Forbidden("Please sign in to enter a room.")
    query = select(Room).where(Room.id == room_id)
    if lock:
        query = query.with_for_update()
    room = (await session.scalars(query)).first()
    if room is None:
        raise NotFound("This room does not exist, or its session was removed.")
    if is_overdue(room):
        await end_room(session, room)
    return room


async def end_room(session: AsyncSession, room: Room) -> int:
    room.state = "ended"
    room.ended_at = min(now(), room.ends_at) if room.ends_at else now()
    await session.flush()
    return await add_event(session, room.id, "end", {})


async def list_rooms(session: AsyncSession, viewer: Viewer) -> dict[str, list[tuple[Room, int]]]:
    """Live now (open, or due and waiting for the host) and coming up, with how many people are present."""
    at = now()
    present = (select(RoomPresence.room_id, func.count(func.distinct(RoomPresence.participant_id)).label("n"))
               .where(RoomPresence.expires_at > at)
               .group_by(RoomPresence.room_id).subquery())
    rows = (await session.execute(
        select(Room, func.coalesce(present.c.n, 0)).outerjoin(present, present.c.room_id == Room.id)
        .where(Room.state != "ended", Room.private.is_(False), or_(Room.ends_at.is_(None), Room.ends_at > at))
        .order_by(Room.kind.desc(), Room.starts_at.nulls_first(), Room.id).limit(200))).all()
    live, upcoming = [], []
    for room, count in rows:
        due = room.starts_at is None or room.starts_at - OPEN_EARLY <= at
        (live if room.state == "open" or due else upcoming).append((room, count))
    return {"live": live, "upcoming": upcoming}


def _local(value: str, tz: str, field: str) -> datetime:
    try:
        zone = ZoneInfo(tz or "UTC")
    except (KeyError, ValueError, OSError):
        zone = ZoneInfo("UTC")
    moment = parse_moment(value, zone)
    if moment is None:
        raise Invalid(fields={field: "Use a date and time like 2030-05-17 19:30."})
    return moment


def _text(value: str, field: str, low: int, high: int, label: str) -> str:
    value = value.strip()
    if len(value) < low:
        raise Invalid(fields={field: f"Please write {label}." if low <= 1 else f"Use at least {low} characters."})
    if len(value) > high:
        raise Invalid(fields={field: f"Use at most {high:,} characters."})
    return value


async def create_session(session: AsyncSession, viewer: Viewer, *, title: str, description: str,
                         theme_prompt: str, starts_at: str, ends_at: str, capacity: int | None,
                         ground_rules: str, retention: str, allow_anonymous: bool) -> Room:
    if not viewer.can_host:
        raise Forbidden("Only attendings and moderators can host a session.")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    checks = {
        "title": lambda: _text(title, "title", 3, 120, "a title"),
        "description": lambda: _text(description, "description", 0, 2000, "a description"),
        "theme_prompt": lambda: _text(theme_prompt, "theme_prompt", 0, 500, "a theme"),
        "ground_rules": lambda: _text(ground_rules, "ground_rules", 20, 4000, "the ground rules"),
        "starts_at": lambda: _local(starts_at, viewer.timezone, "starts_at"),
        "ends_at": lambda: _local(ends_at, viewer.timezone, "ends_at"),
    }
    for name, check in checks.items():
        try:
            values[name] = check()
        except Invalid as exc:
            errors.update(exc.fields)
    if capacity is None or not 2 <= capacity <= 200:
        errors["capacity"] = "Choose a capacity from 2 to 200 people."
    if retention not in RETENTION_CHOICES:
        errors["retention"] = "Choose how long the transcript is kept."
    start, end = values.get("starts_at"), values.get("ends_at")
    if start and start < now() - timedelta(minutes=5):
        errors["starts_at"] = "The start is in the past."
    elif start and start > now() + timedelta(days=366):
        errors["starts_at"] = "Schedule at most a year ahead."
    if start and end and not timedelta(minutes=10) <= end - start <= timedelta(hours=12):
        errors["ends_at"] = "A session lasts from 10 minutes to 12 hours; check the end time."
    if errors:
        raise Invalid(fields=errors)
    room = Room(kind="scheduled", title=values["title"], description=values["description"],
                theme_prompt=values["theme_prompt"] or None, ground_rules=values["ground_rules"],
                ground_rules_html=render_markdown(values["ground_rules"]), capacity=capacity, starts_at=start,
                ends_at=end, host_id=viewer.id,
                retention_hours=RETENTION_CHOICES[retention], allow_anonymous=allow_anonymous, state="scheduled")
    session.add(room)
    await session.flush()

    await audit.record(session, viewer, "room.create", target_type="room", target_id=room.id,
                       target_label=room.title)
    return room


# ---- participants -------------------------------------------------------------------------------------------

def member_tag(anonymity: Anonymity, user_id: int, room_id: int) -> str:
    return anonymity.tag(user_id, scope=f"room:{room_id}")


def pseudonym(anonymity: Anonymity, user_id: int, room_id: int) -> str:
    n = anonymity.pseudonym_index(user_id, f"room:{room_id}", len(_ADJECTIVES) * len(_NOUNS))
    return f"{_ADJECTIVES[n % len(_ADJECTIVES)]} {_NOUNS[n // len(_ADJECTIVES)]}"


async def find_participant(session: AsyncSession, anonymity: Anonymity, viewer: Viewer, room_id: int) -> RoomParticipant | None:
    return (await session.scalars(select(RoomParticipant).where(
        RoomParticipant.room_id == room_id, RoomParticipant.member_tag == member_tag(anonymity, viewer.id, room_id)))).first()


async def join_room(session: AsyncSession, anonymity: Anonymity, viewer: Viewer, room_id: int, *, accept: bool,
                    anonymous: bool) -> RoomParticipant:
    """First entry: the member acknowledges the ground rules and chooses (once) a name or a pseudonym."""
    room = await access_room(session, viewer, room_id)
    existing = await find_participant(session, anonymity, viewer, room_id)
    if existing is not None:
        if existing.removed_at:
            raise Forbidden("You were removed from this session and cannot rejoin it.")
        return existing
    if room.private:
        raise Forbidden(PRIVATE_ROOM)
    if room.state == "ended":
        raise Forbidden("This session has ended.")
    if not accept:
        raise Invalid(fields={"accept": "Please read and acknowledge the ground rules to enter."})
    if anonymous and not (viewer.role == "resident" and room.allow_anonymous):
        raise Invalid(fields={"anonymous": "Joining under a pseudonym is for residents, in rooms that allow it."})
    role = "host" if room.host_id == viewer.id else ("staff" if viewer.is_moderator else "member")
    if anonymous:
        label = pseudonym(anonymity, viewer.id, room_id)
        taken = set((await session.scalars(select(RoomParticipant.label).where(
            RoomParticipant.room_id == room_id, RoomParticipant.label.like(f"{label}%")))).all())
        n = 2
        base = label
        while label in taken:
            label, n = f"{base} {n}", n + 1
        # Notices about their messages go to the session's own tag (kept in their keyring, accounts.scopes),
        # never to a tag their writing elsewhere carries.
        # Its row id from a sequence of its own and only the day it joined: nothing to line up with signed rows.
        tag = member_tag(anonymity, viewer.id, room_id)
        participant = RoomParticipant(
            id=int(await session.scalar(select(func.nextval(ANON_SEQUENCE)))), local_id=await _new_local_id(
                session, room_id), room_id=room_id, member_tag=tag, user_id=None, anonymous=True, label=label,
            role="member", sealed_member=anonymity.seal(str(viewer.id)), notify_tag=tag,
            accepted_rules_at=day_of(now()))
        await scopes.enrol(session, anonymity, viewer.id, tag)
    else:
        participant = RoomParticipant(room_id=room_id, local_id=await _new_local_id(session, room_id),
                                      member_tag=member_tag(anonymity, viewer.id, room_id),
                                      user_id=viewer.id, anonymous=False, label=viewer.display_name, role=role)
    session.add(participant)
    await session.flush()
    return participant


async def _new_local_id(session: AsyncSession, room_id: int) -> int:
    """A random id that no participant of the room has: it says nothing of when they joined (the unique constraint
    settles the one-in-two-billion race of two joins drawing the same number at once, loudly)."""
    while True:
        candidate = secrets.randbelow(LOCAL_IDS) + 1
        taken = await session.scalar(select(RoomParticipant.id).where(
            RoomParticipant.room_id == room_id, RoomParticipant.local_id == candidate))
        if taken is None:
            return candidate


async def access_participant(session: AsyncSession, anonymity: Anonymity, viewer: Viewer | None,
                             room_id: int) -> tuple[Room, RoomParticipant]:
    """For the live socket: the room, and this member's participant row (rules acknowledged, not removed)."""
    room = await access_room(session, viewer, room_id)
    assert viewer is not None
    participant = await find_participant(session, anonymity, viewer, room_id)
    if participant is None:
        raise Forbidden("Please open the room page and acknowledge the ground rules first.")
    if participant.removed_at is not None:
        raise Forbidden("You were removed from this session and cannot rejoin it.")
    if room.state == "ended":
        raise Forbidden("This session has ended.")
    return room, participant


async def maybe_open(session: AsyncSession, viewer: Viewer, room: Room) -> int | None:
    """A scheduled session opens when its host or a moderator arrives (not long before its start); a private
    room when either of its two participants arrives (the socket has checked that the viewer is one)."""
    if room.state != "scheduled" or not (room.private or can_moderate(viewer, room)):
        return None
    early = PRIVATE_OPEN_EARLY if room.private else OPEN_EARLY
    if room.starts_at is not None and room.starts_at - early > now():
        return None
    locked = (await session.scalars(select(Room).where(Room.id == room.id).with_for_update())).one()
    if locked.state != "scheduled":
        return None
    locked.state, locked.opened_at = "open", now()
    await session.flush()
    return await add_event(session, room.id, "open", {})


# ---- presence -----------------------------------------------------------------------------------------------

ROOM_FULL = "This room is full right now. Please try again a little later."


async def room_is_full(session: AsyncSession, room: Room, participant: RoomParticipant, viewer: Viewer) -> bool:
    """Whether this participant would be turned away: as many others are present as the room holds (its host and
    moderators always get in). Only live leases count: a ghost (a crashed process's row, a leave that could not
    be written) stops counting when its lease runs out. The room page and the socket both ask here, so whoever
    is turned away sees nothing of the room: neither its transcript nor who is in it."""
    if can_moderate(viewer, room):
        return False
    count = await session.scalar(
        select(func.count(func.distinct(RoomPresence.participant_id))).where(
            RoomPresence.room_id == room.id, RoomPresence.participant_id != participant.id,
            RoomPresence.expires_at > func.now()))
    return (count or 0) >= room.capacity


async def enter_presence(session: AsyncSession, room: Room, participant: RoomParticipant, process: str,
                         viewer: Viewer, lease_seconds: float) -> int:
    """A presence lease for one socket; its process renews it while the socket is open (see leases.py)."""
    if await room_is_full(session, room, participant, viewer):
        raise Forbidden(ROOM_FULL)
    if room.private and not participant.entered:  # a booking's no-show check asks whether the guest came
        participant.entered = True
    presence_id = await session.scalar(insert(RoomPresence).values(
        room_id=room.id, participant_id=participant.id, process=process,
        expires_at=func.now() + timedelta(seconds=lease_seconds)).returning(RoomPresence.id))
    await notify(session, room.id, 0, "p")
    return presence_id


async def leave_presence(session: AsyncSession, room_ids: dict[int, int]) -> None:
    """Ends leases ({presence id: room id}) and tells their rooms."""
    await session.execute(delete(RoomPresence).where(RoomPresence.id.in_(list(room_ids))))
    for room_id in sorted(set(room_ids.values())):
        await notify(session, room_id, 0, "p")


async def renew_leases(session: AsyncSession, live: dict[int, tuple[int, int]], process: str,
                       lease_seconds: float, still_open: Callable[[int], bool]) -> None:
    """Renews the leases of open sockets ({presence id: (room id, participant id)}), and only those: a leave
    that failed is never refreshed. A lease that ran out while its socket stayed open (the database was away
    longer than a lease, and another process expired it) is taken again, and its room told, if its socket is
    `still_open` (a socket closing meanwhile writes its own leave; at worst its retaken lease runs out)."""
    if not live:
        return
    expires = func.now() + timedelta(seconds=lease_seconds)
    renewed = set((await session.scalars(update(RoomPresence).where(RoomPresence.id.in_(list(live))).values(
        seen_at=func.now(), expires_at=expires).returning(RoomPresence.id))).all())
    lost = {pid: where for pid, where in live.items() if pid not in renewed and still_open(pid)}
    if not lost:
        return
    await session.execute(insert(RoomPresence).values([
        {"id": presence_id, "room_id": room_id, "participant_id": participant_id, "process": process,
         "expires_at": expires} for presence_id, (room_id, participant_id) in lost.items()]))
    for room_id in sorted({room_id for room_id, _ in lost.values()}):
        await notify(session, room_id, 0, "p")


async def expire_leases(session: AsyncSession) -> int:
    """Deletes every lease that ran out (a crashed process's, a leave never written) and tells those rooms."""
    rooms = (await session.scalars(delete(RoomPresence).where(RoomPresence.expires_at <= func.now())
                                   .returning(RoomPresence.room_id))).all()
    for room_id in sorted(set(rooms)):
        await notify(session, room_id, 0, "p")
    return len(rooms)


async def presence(session: AsyncSession, room_id: int) -> list[dict[str, Any]]:
    return people_from_rows((await session.execute(text(_PRESENCE), {"room": room_id})).all())


# ---- messages -----------------------------------------------------------------------------------------------

@dataclass
class Posted:
    seq: int | None = None
    message_id: int | None = None
    held: Any = None  # the Screening when likely identifiers wait for the writer's confirmation
    crisis: bool = False
    frame: dict[str, Any] | None = None  # the committed message's frame, when the fast path wrote it
    duplicate: bool = False  # a resend of a message already stored: `seq` is the original's


async def _already_sent(session: AsyncSession, room_id: int, participant_id: int, client_id: str | None) -> Posted | None:
    """A resend of a stored message answers with the original. Called with the participant row locked (every
    insert of this participant's messages holds that lock), so a commit that raced with this one is seen."""
    if client_id is None:
        return None
    row = (await session.execute(select(RoomMessage.seq, RoomMessage.id).where(
        RoomMessage.room_id == room_id, RoomMessage.participant_id == participant_id,
        RoomMessage.client_id == client_id))).first()
    return Posted(seq=row.seq, message_id=row.id, duplicate=True) if row else None


async def _room_allows(session: AsyncSession, viewer: Viewer, room_id: int, participant_id: int,
                       at: datetime) -> tuple[Room, RoomParticipant]:
    """Step 2 for a live message: the room is open and the participant present, not muted, not read-only."""
    room = await access_room(session, viewer, room_id)
    participant = await session.get(RoomParticipant, participant_id, with_for_update=True)
    if participant is None or participant.room_id != room_id:
        raise Forbidden("You are not in this room.")
    if participant.removed_at is not None:
        raise Forbidden("You were removed from this session.")
    if room.state == "ended":
        raise Forbidden("This session has ended.")
    if room.state != "open":
        raise Forbidden("The session has not started yet: it opens when the host arrives.")
    publishing.require_not_silenced(viewer, at)
    if participant.muted_until and participant.muted_until > at:
        raise Forbidden(f"You are muted in this room until {participant.muted_until:%H:%M} UTC.")
    if room.locked and not can_moderate(viewer, room):
        raise Forbidden("The host has made the room read-only for now.")
    return room, participant


def _slow_mode(viewer: Viewer, room: Room, participant: RoomParticipant, at: datetime) -> None:
    """Step 3 for a live message: the room's slow mode is its rate limit (hosts and moderators are exempt)."""
    if room.slow_mode_seconds and not can_moderate(viewer, room) and participant.last_message_at:
        wait = (participant.last_message_at + timedelta(seconds=room.slow_mode_seconds) - at).total_seconds()
        if wait > 0:
            raise RateLimited(f"Slow mode is on: one message every {room.slow_mode_seconds} seconds. "
                              f"Please wait {int(wait) + 1} s.", int(wait) + 1)


async def post_message(session: AsyncSession, anonymity: Anonymity, viewer: Viewer, room_id: int, participant_id: int,
                       body: str, *, client_id: str | None = None, confirm: bool = False,
                       per_minute: int = MESSAGES_PER_MINUTE) -> Posted:
    """The careful path: every step of the publishing pipeline, in a session. A message with likely patient
    identifiers is not sent: it comes back `held`, for the writer to confirm or change. A resend of a stored
    client id changes nothing and answers with the original seq, whatever the room's state is now. `per_minute`:
    the participant's posting limit (0: none), counted from their messages of the last minute."""
    at = now()
    await session.execute(select(RoomParticipant.id).where(RoomParticipant.id == participant_id).with_for_update())
    sent = await _already_sent(session, room_id, participant_id, client_id)
    if sent is not None:
        return sent
    body = publishing.check_body(MESSAGE, body)
    room, participant = await _room_allows(session, viewer, room_id, participant_id, at)

    async def rate() -> None:
        _slow_mode(viewer, room, participant, at)
        await rate_limits.check_recent(session, viewer, limit=per_minute, when=RoomMessage.created_at,
                                       mine=RoomMessage.participant_id == participant.id, what="messages")

    try:  # hosts and moderators are not exempt from the watched words, as in threads
        checked = await publishing.check(session, MESSAGE, viewer, body, confirmed=confirm, rate=rate, at=at)
    except publishing.NeedsConfirmation as held:
        return Posted(held=held.screening)
    html = render_light(body)
    seq = await next_seq(session, room_id)
    message_id = await session.scalar(insert(RoomMessage).values(
        room_id=room_id, seq=seq, participant_id=participant.id, body_text=body, body_html=html,
        client_id=client_id).returning(RoomMessage.id))
    participant.last_message_at = at
    await notify(session, room_id, seq, "m")
    await publishing.follow_up(session, MESSAGE, checked, message_id)
    return Posted(seq=seq, message_id=message_id, crisis=checked.crisis)


# The common case of a send in ONE statement and one round trip (autocommit: the statement is its own
# transaction, and PostgreSQL delivers the NOTIFY on its commit). It writes only when every check of
# `post_message` passes (room open and not overdue, participant present, not muted, not read-only or staff,
# slow mode and the posting limit respected); otherwise it changes nothing and returns no row, and the caller runs `post_message`,
# which says exactly why. Lock order is the same as there: the participant row, then the room row (whose lock
# keeps commit order equal to seq order).
_FAST_POST_SQL = f"""
WITH p AS (
    UPDATE room_participants p SET last_message_at = $8
      FROM rooms r
     WHERE p.id = $2 AND p.room_id = $1 AND r.id = $1 AND p.removed_at IS NULL AND r.state = 'open'
       AND NOT (r.kind = 'scheduled' AND r.ends_at IS NOT NULL AND r.ends_at <= $8)
       AND (p.muted_until IS NULL OR p.muted_until <= $8)
       AND (NOT r.locked OR $4 OR r.host_id = $3)
       AND (r.slow_mode_seconds = 0 OR $4 OR r.host_id = $3 OR p.last_message_at IS NULL
            OR p.last_message_at + make_interval(secs => r.slow_mode_seconds) <= $8)
       AND ($4 OR $10::int <= 0 OR (SELECT count(*) FROM room_messages rm WHERE rm.participant_id = $2
            AND rm.created_at > now() - make_interval(secs => {rate_limits.WINDOW_SECONDS})) < $10::int)
 RETURNING p.id, p.local_id, p.label, p.anonymous, p.role
), s AS (
    UPDATE rooms SET last_seq = last_seq + 1 WHERE id = $1 AND EXISTS (SELECT 1 FROM p) RETURNING last_seq
), m AS (
    INSERT INTO room_messages (room_id, seq, participant_id, body_text, body_html, client_id)
    SELECT $1, s.last_seq, $2, $5, $6, $7 FROM s RETURNING id, seq, created_at
)
SELECT m.id, m.seq, m.created_at, p.local_id, p.label, p.anonymous, p.role, pg_notify('{CHANNEL}', $9 || m.seq || ':m')
  FROM m, p
"""


async def post_message_fast(conn: Any, viewer: Viewer, room_id: int, participant_id: int, body: str, *,
                            client_id: str | None = None, confirm: bool = False,
                            per_minute: int = MESSAGES_PER_MINUTE) -> Posted | None:
    """`post_message` on a raw asyncpg connection, for the live socket's hot path; None: take the careful path.

    Same checks, same rows, same notification; only sends that need nothing else (no review item, no error)
    are done here, everything else returns None so `post_message` does it in a session.
    """
    at = now()
    try:  # the same step 1 and step 2 (not silenced) as the careful path
        body = publishing.check_body(MESSAGE, body)
        publishing.require_not_silenced(viewer, at)
    except (Invalid, Forbidden):
        return None  # the careful path says why
    # Screening (on its thread pool) and the watched words (a query) at the same time: one wait, not two.
    screening_done = screening.screen_soon(body)
    watched_words = await watched.check_watched_raw(conn, body)
    screened = await screening_done
    if screened.needs_confirmation(confirm) or screened.crisis_fired or screened.findings:
        return None  # held, or a review item to open in the same transaction: the careful path
    if watched_words.matched:
        return None  # refused, or a review item to open in the same transaction: the careful path
    html = render_light(body)
    try:
        row = await conn.fetchrow(_FAST_POST_SQL, room_id, participant_id, viewer.id, viewer.is_moderator, body,
                                  html, client_id, at, f"{room_id}:", per_minute)
    except asyncpg.UniqueViolationError:
        return None  # a resend of a stored client id (the statement wrote nothing): the careful path answers
    if row is None:
        return None
    # The frame every reader would build from these rows (see frames_from_rows): the sending process delivers it
    # to its own subscribers at once, without waiting for its NOTIFY and reading the row back.
    frame = protocol.message_frame(seq=row["seq"], id=row["id"], pid=row["local_id"], author=row["label"],
                                   anonymous=row["anonymous"], role="member" if row["anonymous"] else row["role"],
                                   html=html, at=row["created_at"], client_id=client_id, deleted=False)
    return Posted(seq=row["seq"], message_id=row["id"], frame=frame)


_MESSAGE_COLUMNS = (RoomMessage.seq, RoomMessage.id, RoomParticipant.local_id, RoomParticipant.label,
                    RoomParticipant.anonymous, RoomParticipant.role, RoomMessage.body_html, RoomMessage.created_at,
                    RoomMessage.client_id, RoomMessage.deleted_at)


def _message_frames(rows: Any) -> list[dict[str, Any]]:
    return [protocol.message_frame(seq=seq, id=mid, pid=pid, author=label, anonymous=anon,
                                   role="member" if anon else role, html=html, at=at, client_id=client_id,
                                   deleted=deleted is not None)
            for seq, mid, pid, label, anon, role, html, at, client_id, deleted in rows]


async def message_page(session: AsyncSession, room_id: int, before: int | None = None,
                       limit: int = protocol.HISTORY_LIMIT) -> tuple[list[dict[str, Any]], bool]:
    """The `limit` latest messages (before seq `before`, if given), oldest first, and whether there are older
    ones: "load earlier messages" pages back to the start of what retention keeps."""
    query = (select(*_MESSAGE_COLUMNS).join(RoomParticipant, RoomParticipant.id == RoomMessage.participant_id)
             .where(RoomMessage.room_id == room_id, RoomMessage.deleted_at.is_(None)))
    if before is not None:
        query = query.where(RoomMessage.seq < before)
    rows = (await session.execute(query.order_by(RoomMessage.seq.desc()).limit(limit + 1))).all()
    return _message_frames(reversed(rows[:limit])), len(rows) > limit


async def recent_messages(session: AsyncSession, room_id: int,
                          limit: int = protocol.HISTORY_LIMIT) -> list[dict[str, Any]]:
    return (await message_page(session, room_id, limit=limit))[0]


# One query for everything after a seq: messages (tombstones for deleted ones) and events, in seq order, so a
# LIMIT always leaves a contiguous prefix. Written for SQLAlchemy's text(); EVENTS_AFTER_PG is the same for
# asyncpg ($1 room, $2 after, $3 limit), used by the hub.
_EVENTS_AFTER = """
SELECT m.seq, m.id, p.local_id, p.label, p.anonymous, p.role, m.body_html, m.created_at, m.client_id,
       m.deleted_at IS NOT NULL AS deleted, NULL::text AS kind, NULL::jsonb AS data
  FROM room_messages m JOIN room_participants p ON p.id = m.participant_id
 WHERE m.room_id = :room AND m.seq > :after
UNION ALL
SELECT e.seq, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, e.kind, e.data
  FROM room_events e
 WHERE e.room_id = :room AND e.seq > :after
 ORDER BY 1 LIMIT :limit
"""
EVENTS_AFTER_PG = _EVENTS_AFTER.replace(":room", "$1").replace(":after", "$2").replace(":limit", "$3")

# How many of the seqs in (after, upto] still have a row: the others were deleted under the room's retention
# (seqs are taken inside the inserting transaction, so every committed seq had a row).
KEPT_BETWEEN_PG = """
SELECT (SELECT count(*) FROM room_messages WHERE room_id = $1 AND seq > $2 AND seq <= $3)
     + (SELECT count(*) FROM room_events WHERE room_id = $1 AND seq > $2 AND seq <= $3)
"""

_PRESENCE = """
SELECT r.local_id, r.label, r.anonymous, r.role
  FROM room_participants r
 WHERE r.room_id = :room AND r.removed_at IS NULL AND r.id IN (
       SELECT participant_id FROM room_presence WHERE room_id = :room AND expires_at > now())
 ORDER BY r.label
"""
PRESENCE_PG = _PRESENCE.replace(":room", "$1")


def frames_from_rows(rows: Any) -> list[dict[str, Any]]:
    frames = []
    for seq, mid, pid, label, anon, role, html, at, client_id, deleted, kind, data in rows:
        if kind is None:
            frames.append(protocol.message_frame(seq=seq, id=mid, pid=pid, author=label, anonymous=anon,
                                                 role="member" if anon else role, html=html, at=at,
                                                 client_id=client_id, deleted=deleted))
        else:
            frames.append(protocol.event_frame(seq, kind, data if isinstance(data, dict) else json.loads(data)))
    return frames


def people_from_rows(rows: Any) -> list[dict[str, Any]]:
    return [{"pid": pid, "label": label, "anonymous": anon, "role": "member" if anon else role}
            for pid, label, anon, role in rows]


async def events_after(session: AsyncSession, room_id: int, after: int,
                       limit: int = 1000) -> list[dict[str, Any]]:
    """Messages (deleted ones as tombstones) and events with seq > after, in seq order."""
    rows = (await session.execute(text(_EVENTS_AFTER), {"room": room_id, "after": after, "limit": limit})).all()
    return frames_from_rows(rows)


def room_state(room: Room) -> dict[str, Any]:
    return {"id": room.id, "title": room.title, "kind": room.kind, "state": room.state, "locked": room.locked,
            "slow_mode_seconds": room.slow_mode_seconds, "last_seq": room.last_seq,
            "ends_at": room.ends_at, "retention_hours": room.retention_hours}


# ---- retention ----------------------------------------------------------------------------------------------

async def purge_expired(session: AsyncSession) -> dict[str, int]:
    """Ends overdue sessions, deletes transcripts past their retention, and forgets stale presence rows."""
    at = now()
    ended = 0
    for room in (await session.scalars(select(Room).where(
            Room.kind == "scheduled", Room.state != "ended", Room.ends_at <= at).with_for_update(skip_locked=True))):
        await end_room(session, room)
        ended += 1
    due = (await session.scalars(select(Room.id).where(
        Room.kind == "scheduled", Room.state == "ended", Room.retention_hours.is_not(None), Room.purged_at.is_(None),
        Room.ended_at + func.make_interval(0, 0, 0, 0, Room.retention_hours) <= at))).all()
    purged_messages = 0
    if due:
        result = await session.execute(delete(RoomMessage).where(RoomMessage.room_id.in_(due)))
        purged_messages += result.rowcount or 0
        await session.execute(delete(RoomEvent).where(RoomEvent.room_id.in_(due)))
        await session.execute(delete(RoomParticipant).where(RoomParticipant.room_id.in_(due)))
        await session.execute(update(Room).where(Room.id.in_(due)).values(purged_at=at))
    # Standing rooms never end: their messages are kept for retention_hours after being written.
    standing = (select(Room.id).where(Room.kind == "standing", Room.retention_hours.is_not(None),
                                      RoomMessage.room_id == Room.id,
                                      RoomMessage.created_at + func.make_interval(0, 0, 0, 0, Room.retention_hours)
                                      <= at)).exists()
    result = await session.execute(delete(RoomMessage).where(standing))
    purged_messages += result.rowcount or 0
    stale = await expire_leases(session)
    return {"room sessions ended": ended, "room transcripts purged": len(due),
            "room messages purged": purged_messages, "stale room presence": stale}


def transcript_note(room: Room) -> str:
    if room.retention_hours is None:
        return "The history of this room is kept."
    if room.kind == "standing":
        return f"Messages here are deleted {room.retention_hours} hours after they are written."
    if room.retention_hours == 0:
        return "The transcript is deleted when the session ends: what is said in the room stays in the room."
    return (f"The transcript is deleted {room.retention_hours} hours after the session ends: "
            "what is said in the room stays in the room.")



# The first `$3` rooms of each of list_rooms' lists (live, then coming up), with how many are present, in one
# statement: the same rooms (of the same first 200), the same order and the same rule for "live". $1: now,
# $2: OPEN_EARLY.
HOME_ROOMS_SQL = """
WITH listed AS (
  SELECT id, title, kind, starts_at, (state = 'open' OR starts_at IS NULL OR starts_at - $2::interval <= $1) AS live
  FROM rooms WHERE state <> 'ended' AND NOT private AND (ends_at IS NULL OR ends_at > $1)
  ORDER BY kind DESC, starts_at NULLS FIRST, id LIMIT 200
), firsts AS (
  (SELECT * FROM listed WHERE live ORDER BY kind DESC, starts_at NULLS FIRST, id LIMIT $3::int)
  UNION ALL
  (SELECT * FROM listed WHERE NOT live ORDER BY kind DESC, starts_at NULLS FIRST, id LIMIT $3::int)
)
SELECT f.id, f.title, f.starts_at, f.live,
       (SELECT count(DISTINCT p.participant_id) FROM room_presence p WHERE p.room_id = f.id AND p.expires_at > $1)
         AS present
FROM firsts f ORDER BY f.live DESC, f.kind DESC, f.starts_at NULLS FIRST, f.id
"""


async def home_section(connection: Any, viewer: Viewer, *, room_count: int = 3) -> dict[str, Any]:
    """The home page's live and upcoming sessions (one prepared statement on a raw connection): (room row, count)
    pairs, as list_rooms gives them."""
    rows = await connection.fetch(HOME_ROOMS_SQL, now(), OPEN_EARLY, room_count)
    return {"live_rooms": [(row, row["present"]) for row in rows if row["live"]],
            "upcoming_rooms": [(row, row["present"]) for row in rows if not row["live"]]}
