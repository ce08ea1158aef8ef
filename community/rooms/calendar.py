"""Following scheduled sessions: follow and unfollow, a reminder by mail before each (with an .ics invitation,
built with icalendar), and each member's private calendar feed of what they follow (revocable, reissued on demand).

The feed address carries a random token of 32 bytes; only its hash is stored, so it cannot be guessed or read
back, and revoking deletes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts.models import User
from community.platform.accounts.security import new_token, token_hash
from community.platform.errors import Invalid
from community.platform.mail import preferences
from community.platform.mail.outbox import Attachment, Mail, Outbox
from community.platform.review.models import Notification
from community.platform.viewer import Viewer
from community.rooms.actions import access_room, now
from community.rooms.calendar_models import CalendarFeed, HostFollow, RoomAnnouncement, RoomFollow
from community.rooms.models import Room
from community.settings import Settings

REMIND_BEFORE = timedelta(hours=1)
DEFAULT_LENGTH = timedelta(hours=1)


async def follow(session: AsyncSession, viewer: Viewer, room_id: int, *, on: bool) -> Room:
    """Follows (or stops following) a session that has not started yet."""
    room = await access_room(session, viewer, room_id)
    if on:
        if room.kind != "scheduled" or room.state != "scheduled" or room.starts_at is None or room.private:
            raise Invalid("Only a session that has not started yet can be followed.")
        await session.execute(insert(RoomFollow).values(user_id=viewer.id, room_id=room.id)
                              .on_conflict_do_nothing())
    else:
        await session.execute(delete(RoomFollow).where(RoomFollow.user_id == viewer.id, RoomFollow.room_id == room.id))
    return room


@dataclass(frozen=True)
class Upcoming:
    room: Room
    followed: bool
    host_name: str | None
    host_followed: bool


async def upcoming(session: AsyncSession, viewer: Viewer, limit: int = 50) -> list[Upcoming]:
    """Scheduled sessions still to come, soonest first; whether the viewer follows each, and its host."""
    followed = select(RoomFollow.room_id).where(RoomFollow.user_id == viewer.id).scalar_subquery()
    hosts = select(HostFollow.host_id).where(HostFollow.user_id == viewer.id).scalar_subquery()
    rows = await session.execute(
        select(Room, Room.id.in_(followed), User.display_name, Room.host_id.in_(hosts))
        .outerjoin(User, User.id == Room.host_id)
        .where(Room.kind == "scheduled", Room.state == "scheduled", Room.private.is_(False),
               Room.starts_at > now() - DEFAULT_LENGTH)
        .order_by(Room.starts_at).limit(limit))
    return [Upcoming(room, bool(f), name, bool(h)) for room, f, name, h in rows]


async def follow_host(session: AsyncSession, viewer: Viewer, host_id: int, *, on: bool) -> str:
    """Follows (or stops following) a host's new sessions; returns the host's name."""
    host = await session.get(User, host_id)
    if host is None or host.deleted_at is not None or host.role not in ("attending", "moderator", "admin"):
        raise Invalid("Only a host of sessions can be followed.")
    if host.id == viewer.id:
        raise Invalid("You host these sessions yourself.")
    if on:
        await session.execute(insert(HostFollow).values(user_id=viewer.id, host_id=host.id).on_conflict_do_nothing())
    else:
        await session.execute(delete(HostFollow).where(HostFollow.user_id == viewer.id, HostFollow.host_id == host.id))
    return host.display_name


async def announce_new_sessions(session: AsyncSession, outbox: Outbox, settings: Settings) -> dict[str, int]:
    """Tells the followers of a host, once, about each session they schedule (an in-app notification, which
    notification email then delivers by the member's room-reminder choice)."""
    rows = (await session.execute(
        select(Room.id, Room.title, Room.starts_at, User.display_name, HostFollow.user_id)
        .join(User, User.id == Room.host_id)
        .outerjoin(HostFollow, HostFollow.host_id == Room.host_id)
        .where(Room.kind == "scheduled", Room.state == "scheduled", Room.starts_at > now(), Room.private.is_(False),
               ~select(RoomAnnouncement.room_id).where(RoomAnnouncement.room_id == Room.id).exists()))).all()
    if not rows:
        return {"new sessions announced": 0}
    notes = [{"user_id": follower, "recipient_tag": None, "kind": "room_session", "url": f"/rooms/{room_id}",
              "text": f"{host} scheduled a session: “{title}”, {starts:%d %b %Y, %H:%M} UTC."[:500],
              "target_kind": None, "target_id": None}
             for room_id, title, starts, host, follower in rows if follower is not None]
    if notes:
        await session.execute(insert(Notification), notes)
    await session.execute(insert(RoomAnnouncement), [{"room_id": r} for r in sorted({row[0] for row in rows})])
    return {"new sessions announced": len(notes)}


def _event(room: Room, settings: Settings, domain: str) -> Event:
    event = Event()
    event.add("uid", f"room-{room.id}@{domain}")
    event.add("dtstamp", now())
    event.add("dtstart", room.starts_at)
    event.add("dtend", room.ends_at or room.starts_at + DEFAULT_LENGTH)
    event.add("summary", room.title)
    event.add("url", f"{settings.base_url}/rooms/{room.id}")
    event.add("description", f"A live peer-support session. Join at {settings.base_url}/rooms/{room.id}")
    return event


def ics(rooms: list[Room], settings: Settings, domain: str, *, name: str) -> str:
    """An iCalendar (RFC 5545) text with one event per session."""
    calendar = Calendar()
    calendar.add("prodid", "-//Compassionate Practice//rooms//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    for room in rooms:
        calendar.add_component(_event(room, settings, domain))
    return calendar.to_ical().decode()


async def issue_feed(session: AsyncSession, viewer: Viewer) -> str:
    """A new private feed token (any earlier address stops working); shown once."""
    token = new_token()
    await session.execute(insert(CalendarFeed).values(user_id=viewer.id, token_hash=token_hash(token))
                          .on_conflict_do_update(index_elements=["user_id"], set_={"token_hash": token_hash(token)}))
    return token


async def revoke_feed(session: AsyncSession, viewer: Viewer) -> None:
    await session.execute(delete(CalendarFeed).where(CalendarFeed.user_id == viewer.id))


async def has_feed(session: AsyncSession, viewer: Viewer) -> bool:
    return await session.get(CalendarFeed, viewer.id) is not None


async def feed_rooms(session: AsyncSession, token: str) -> list[Room] | None:
    """The followed sessions behind a feed token, or None when the token is unknown (revoked, or never was)."""
    owner = await session.scalar(select(CalendarFeed.user_id).where(CalendarFeed.token_hash == token_hash(token)))
    if owner is None:
        return None
    rows = await session.scalars(select(Room).join(RoomFollow, RoomFollow.room_id == Room.id)
                                 .where(RoomFollow.user_id == owner, Room.starts_at.is_not(None),
                                        Room.state != "ended").order_by(Room.starts_at))
    return list(rows)


async def send_reminders(session: AsyncSession, outbox: Outbox, settings: Settings) -> dict[str, int]:
    """Mails each follower of a session that starts within the hour, once, with its .ics; a member who turned
    room reminders off is marked reminded without mail."""
    rows = (await session.execute(
        select(RoomFollow.user_id, Room, User.email, User.display_name, User.timezone)
        .join(Room, Room.id == RoomFollow.room_id).join(User, User.id == RoomFollow.user_id)
        .where(RoomFollow.reminded_at.is_(None), Room.state == "scheduled", Room.starts_at > now(),
               Room.starts_at <= now() + REMIND_BEFORE, User.deleted_at.is_(None)))).all()
    if not rows:
        return {"room reminders": 0}
    choices = await preferences.for_members(session, sorted({row[0] for row in rows}))
    mails = [_reminder(settings, outbox.domain, *row) for row in rows
             if choices[row[0]]["room_reminders"] != "off"]
    await outbox.enqueue_many(session, mails)
    await session.execute(update(RoomFollow).where(
        RoomFollow.reminded_at.is_(None),
        tuple_(RoomFollow.user_id, RoomFollow.room_id).in_([(row[0], row[1].id) for row in rows]))
        .values(reminded_at=now()))
    return {"room reminders": len(mails)}


def _reminder(settings: Settings, domain: str, user_id: int, room: Room, email: str, name: str, tz: str) -> Mail:
    link = f"{settings.base_url}/unsubscribe/" + preferences.unsubscribe_token(settings.secret_key, user_id,
                                                                               "room_reminders")
    starts = room.starts_at.astimezone(_zone(tz))
    return Mail(email, "room_reminder", {
        "name": name, "title": room.title, "starts": f"{starts:%A %d %B, %H:%M} ({tz})",
        "room_url": f"{settings.base_url}/rooms/{room.id}"}, unsubscribe_url=link,
        attachments=(Attachment("session.ics", "text/calendar", ics([room], settings, domain, name=room.title)),))


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        return ZoneInfo("UTC")
