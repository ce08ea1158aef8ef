"""Office hours: a mentor's weekly windows cut into slots, bookings (signed or anonymous), cancelling,
rescheduling, no-shows and reminders.

Times are stored in UTC. A window is written in the mentor's time zone (their profile's, `users.timezone`) and
kept with it, so a slot stays at 19:00 for the mentor across daylight-saving changes; every page shows times in
the viewer's own time zone. A slot is bookable when it starts in the future, within BOOK_DAYS_AHEAD days, and
no booked row holds it: the partial unique index `uq_mentor_bookings_slot` decides, in the insert itself.

An anonymous booking is made through the anonymity service: the private room's scope gives the booker a tag,
a seal and a pseudonym (rooms.private), and the booking keeps those and no member id. Notices to the anonymous
booker go to that tag (sealed text, the day only); the mentor only ever sees the pseudonym.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from community.mentorship.models import ANON_BOOKING_SEQUENCE, Booking, MentorProfile, OfficeHours
from community.platform.accounts import scopes
from community.platform.accounts.models import User
from community.platform.anonymity import Anonymity
from community.platform.errors import Conflict, Forbidden, Invalid, NotFound
from community.platform.meetings import PrivateRooms
from community.platform.notify.notifications import notify
from community.platform.numbers import parse_int
from community.platform.times import parse_moment
from community.platform.viewer import Viewer

BOOK_DAYS_AHEAD = 21
NO_SHOW_AFTER = timedelta(minutes=10)  # the booker has not entered the room this long after the start
REMIND_BEFORE = timedelta(hours=1)
OPEN_EARLY = timedelta(minutes=5)  # the booking page offers the room from then (rooms.PRIVATE_OPEN_EARLY)
MAX_UPCOMING = 3  # upcoming bookings one member may hold with one mentor
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
RETENTION = {"0": 0, "24": 24, "168": 168, "keep": None}
SLOT_TAKEN = "Someone has just booked that slot. Please choose another."


def now() -> datetime:
    return datetime.now(UTC)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError, OSError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class Slot:
    hours_id: int
    starts_at: datetime
    ends_at: datetime

    @property
    def key(self) -> str:
        return self.starts_at.isoformat()


def occurrences(hours: OfficeHours, after: datetime, days: int = BOOK_DAYS_AHEAD) -> list[Slot]:
    """The window's slots that start after `after` and within `days` days, in UTC (the window is local time)."""
    tz = zone(hours.timezone)
    first = after.astimezone(tz).date()
    slots = []
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        if day.weekday() != hours.weekday:
            continue
        for minute in range(hours.start_minute, hours.end_minute - hours.slot_minutes + 1, hours.slot_minutes):
            start = _local(day, minute, tz)
            if after < start <= after + timedelta(days=days):
                slots.append(Slot(hours.id, start, start + timedelta(minutes=hours.slot_minutes)))
    return slots


def _local(day: date, minute: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz).astimezone(UTC)


def _minute(value: str, field: str) -> int:
    try:
        hour, _, minute = value.strip().partition(":")
        if not (hour.isascii() and minute.isascii() and len(hour) <= 2 and len(minute) == 2):
            raise ValueError
        hours, minutes = int(hour), int(minute)
    except ValueError:
        raise Invalid(fields={field: "Use a time like 19:00."}) from None
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 1440:
        raise Invalid(fields={field: "Use a time like 19:00."})
    return hours * 60 + minutes


async def publish_hours(session: AsyncSession, viewer: Viewer, *, weekday_field: str, start: str, end: str,
                        slot_field: str, retention: str) -> OfficeHours:
    """A weekly window in the mentor's time zone; only members listed in the directory publish office hours.
    Every field is checked, so the form shows every message at once."""
    weekday, slot_minutes = parse_int(weekday_field.strip(), max_digits=2), parse_int(slot_field.strip(), max_digits=4)
    profile = await session.get(MentorProfile, viewer.id)
    if profile is None or not profile.listed:
        raise Forbidden("Join the mentor directory first: office hours are booked from your directory card.")
    errors: dict[str, str] = {}
    minutes = {}
    for field, value in (("start", start), ("end", end)):
        try:
            minutes[field] = _minute(value, field)
        except Invalid as exc:
            errors.update(exc.fields)
    if weekday is None or not 0 <= weekday <= 6:
        errors["weekday"] = "Choose a day of the week."
    if slot_minutes is None or not 10 <= slot_minutes <= 120:
        errors["slot_minutes"] = "Slots last 10 to 120 minutes."
    if retention not in RETENTION:
        errors["retention"] = "Choose how long a conversation's transcript is kept."
    if not errors and not minutes["start"] + (slot_minutes or 0) <= minutes["end"]:
        errors["end"] = "The window must end after its start, with room for at least one slot."
    if errors:
        raise Invalid(fields=errors)
    count = await session.scalar(select(func.count()).where(OfficeHours.mentor_id == viewer.id,
                                                            OfficeHours.active.is_(True)))
    if (count or 0) >= 14:
        raise Invalid("You have 14 weekly windows already; remove one first.")
    hours = OfficeHours(mentor_id=viewer.id, weekday=weekday, start_minute=minutes["start"],
                        end_minute=minutes["end"], slot_minutes=slot_minutes, timezone=viewer.timezone or "UTC",
                        retention_hours=RETENTION[retention])
    session.add(hours)
    await session.flush()
    return hours


async def remove_hours(session: AsyncSession, viewer: Viewer, hours_id: int) -> None:
    """Stops offering a window; bookings already made stay (cancel them one by one to tell the people)."""
    hours = await session.get(OfficeHours, hours_id)
    if hours is None or hours.mentor_id != viewer.id:
        raise NotFound("These office hours do not exist.")
    hours.active = False


async def hours_of(session: AsyncSession, mentor_id: int) -> list[OfficeHours]:
    return list(await session.scalars(select(OfficeHours).where(
        OfficeHours.mentor_id == mentor_id, OfficeHours.active.is_(True))
        .order_by(OfficeHours.weekday, OfficeHours.start_minute)))


async def free_slots(session: AsyncSession, mentor_id: int, at: datetime | None = None) -> list[Slot]:
    """The mentor's bookable slots, soonest first: future, within the booking horizon, not held by a booking."""
    at = at or now()
    slots = [slot for hours in await hours_of(session, mentor_id) for slot in occurrences(hours, at)]
    taken = set((await session.scalars(select(Booking.starts_at).where(
        Booking.mentor_id == mentor_id, Booking.state == "booked", Booking.starts_at > at))).all())
    return sorted((s for s in slots if s.starts_at not in taken), key=lambda s: s.starts_at)


async def _listed_mentor(session: AsyncSession, mentor_id: int) -> User:
    row = (await session.execute(select(User, MentorProfile.listed).join(
        MentorProfile, MentorProfile.user_id == User.id).where(User.id == mentor_id))).first()
    if row is None or not row[1] or row[0].deleted_at is not None or row[0].suspended_at is not None:
        raise NotFound("This mentor is not in the directory.")
    return row[0]


async def _slot(session: AsyncSession, mentor_id: int, hours_id: int | None, starts: str) -> Slot:
    moment = parse_moment(starts)
    hours = await session.get(OfficeHours, hours_id) if hours_id is not None else None
    if moment is None or hours is None or hours.mentor_id != mentor_id or not hours.active:
        raise Invalid(fields={"slot": "Choose one of the open slots."})
    if moment <= now():
        raise Invalid(fields={"slot": "That slot has already started. Please choose a later one."})
    for slot in occurrences(hours, now()):
        if slot.starts_at == moment:
            return slot
    raise Invalid(fields={"slot": "Choose one of the open slots."})


async def _upcoming_mine(session: AsyncSession, anonymity: Anonymity, viewer: Viewer, mentor_id: int) -> int:
    tags = await scopes.tags_of(session, anonymity, viewer.id)
    return await session.scalar(select(func.count()).where(
        Booking.mentor_id == mentor_id, Booking.state == "booked", Booking.starts_at > now(),
        or_(Booking.booker_id == viewer.id, Booking.booker_tag.in_(tags)))) or 0


@dataclass(frozen=True)
class Party:
    """Who is on the other side of a booking, to notify: a member id, or an anonymous booker's tag."""

    user_id: int | None
    tag: str | None


async def tell(session: AsyncSession, anonymity: Anonymity, party: Party, text: str, url: str, *,
               anonymous: bool = False) -> None:
    """A notice to one side of a booking; `anonymous`: it is about an anonymous booking, so even a notice to the
    mentor keeps the day only (its time would otherwise date the booker's request)."""
    if party.tag is not None:
        await notify(session, tag=party.tag, anonymity=anonymity, kind="office_hours", text=text, url=url)
    elif party.user_id is not None:
        await notify(session, user_id=party.user_id, kind="office_hours", text=text, url=url, day_only=anonymous)


def when(value: datetime, tz: str) -> str:
    """A slot's time for a notice, in the recipient's zone (the zone named, so a reader elsewhere can tell)."""
    return f"{value.astimezone(zone(tz)):%A %d %B, %H:%M} ({tz or 'UTC'})"


async def book(session: AsyncSession, anonymity: Anonymity, rooms: PrivateRooms, viewer: Viewer, *,
               mentor_id: int, hours_id: int | None, starts: str, anonymous: bool) -> Booking:
    """Books a slot; the insert itself refuses a slot someone holds (the partial unique index), then the private
    room is made and the mentor told. Anonymous: no member id on the row, the id from its own sequence, the day
    only, and the pseudonym the room's scope gives."""
    mentor = await _listed_mentor(session, mentor_id)
    if mentor.id == viewer.id:
        raise Invalid("These are your own office hours.")
    if anonymous and viewer.role != "resident":
        raise Invalid(fields={"anonymous": "Booking under a pseudonym is for residents."})
    slot = await _slot(session, mentor.id, hours_id, starts)
    if await _upcoming_mine(session, anonymity, viewer, mentor.id) >= MAX_UPCOMING:
        raise Invalid(f"You already have {MAX_UPCOMING} upcoming office hours with this mentor.")
    hours = await session.get(OfficeHours, slot.hours_id)
    assert hours is not None
    values = dict(office_hours_id=slot.hours_id, mentor_id=mentor.id, starts_at=slot.starts_at,
                  ends_at=slot.ends_at, anonymous=anonymous, booker_id=None if anonymous else viewer.id)
    if anonymous:
        values.update(id=func.nextval(ANON_BOOKING_SEQUENCE), created_at=anonymity.day_of(now()))
    booking_id = await session.scalar(insert(Booking).values(**values).on_conflict_do_nothing(
        index_elements=["mentor_id", "starts_at"], index_where=Booking.state == "booked").returning(Booking.id))
    if booking_id is None:
        raise Conflict(SLOT_TAKEN)
    meeting = await rooms.create(session, anonymity, title=f"Office hour with {mentor.display_name}",
                                 host_id=mentor.id, host_name=mentor.display_name, guest_id=viewer.id,
                                 guest_name=viewer.display_name, anonymous=anonymous, starts_at=slot.starts_at,
                                 ends_at=slot.ends_at, retention_hours=hours.retention_hours)
    booking = await session.get(Booking, booking_id)
    assert booking is not None
    booking.room_id, booking.label = meeting.room_id, meeting.guest_label
    if anonymous:
        booking.booker_tag, booking.sealed_booker = meeting.guest_tag, anonymity.seal(str(viewer.id))
    await session.flush()
    url = f"/mentorship/bookings/{booking.id}"
    await tell(session, anonymity, Party(mentor.id, None),
               f"{booking.label} booked your office hour on {when(slot.starts_at, mentor.timezone)}.", url,
               anonymous=anonymous)
    return booking


async def access_booking(session: AsyncSession, anonymity: Anonymity, viewer: Viewer,
                         booking_id: int) -> tuple[Booking, str]:
    """The booking and the viewer's side ("mentor" or "booker"); anyone else (staff too) is told it does not
    exist. An anonymous booker is recognised by the booking's tag in their keyring."""
    booking = await session.get(Booking, booking_id)
    if booking is not None and booking.mentor_id == viewer.id:
        return booking, "mentor"
    if booking is not None and booking.booker_id is not None and booking.booker_id == viewer.id:
        return booking, "booker"
    if booking is not None and booking.booker_tag is not None and \
            booking.booker_tag in await scopes.tags_of(session, anonymity, viewer.id):
        return booking, "booker"
    raise NotFound("This booking does not exist.")


def _other(booking: Booking, side: str) -> Party:
    if side == "booker":
        return Party(booking.mentor_id, None)
    return Party(booking.booker_id, booking.booker_tag)


async def _zone_of(session: AsyncSession, party: Party) -> str:
    if party.user_id is None:
        return "UTC"  # an anonymous booker's zone is not known to the booking: times say UTC
    return await session.scalar(select(User.timezone).where(User.id == party.user_id)) or "UTC"


async def cancel(session: AsyncSession, anonymity: Anonymity, rooms: PrivateRooms, viewer: Viewer,
                 booking_id: int) -> Booking:
    """Either side cancels a booking that has not ended; the room ends and the other person is told."""
    booking, side = await access_booking(session, anonymity, viewer, booking_id)
    if booking.state != "booked" or booking.ends_at <= now():
        raise Invalid("This booking can no longer be cancelled.")
    booking.state = "cancelled"
    if booking.room_id is not None:
        await rooms.close(session, booking.room_id)
    other = _other(booking, side)
    who = viewer.display_name if side == "mentor" else booking.label
    await tell(session, anonymity, other, f"{who} cancelled the office hour on "
               f"{when(booking.starts_at, await _zone_of(session, other))}. The slot is free again.",
               f"/mentorship/bookings/{booking.id}", anonymous=booking.anonymous)
    return booking


async def reschedule(session: AsyncSession, anonymity: Anonymity, rooms: PrivateRooms, viewer: Viewer,
                     booking_id: int, *, hours_id: int | None, starts: str) -> Booking:
    """The booker moves a booking to another open slot of the same mentor; the mentor is told. The unique index
    refuses a slot taken meanwhile (inside a savepoint, so the request can answer with a message)."""
    booking, side = await access_booking(session, anonymity, viewer, booking_id)
    if side != "booker":
        raise Forbidden("Only the person who booked can move it; you can cancel it, and they are told.")
    if booking.state != "booked" or booking.starts_at <= now():
        raise Invalid("This booking can no longer be moved.")
    slot = await _slot(session, booking.mentor_id, hours_id, starts)
    before = booking.starts_at
    try:
        async with session.begin_nested():
            await session.execute(update(Booking).where(Booking.id == booking.id).values(
                starts_at=slot.starts_at, ends_at=slot.ends_at, office_hours_id=slot.hours_id, reminded=False))
    except IntegrityError:
        raise Conflict(SLOT_TAKEN) from None
    await session.refresh(booking)
    if booking.room_id is not None:
        await rooms.move(session, booking.room_id, slot.starts_at, slot.ends_at)
    mentor_tz = await _zone_of(session, Party(booking.mentor_id, None))
    await tell(session, anonymity, Party(booking.mentor_id, None),
               f"{booking.label} moved their office hour from {when(before, mentor_tz)} to "
               f"{when(slot.starts_at, mentor_tz)}.", f"/mentorship/bookings/{booking.id}",
               anonymous=booking.anonymous)
    return booking


@dataclass(frozen=True)
class Listed:
    booking: Booking
    side: str
    other: str  # the mentor's name, or the booker's name or pseudonym


async def my_bookings(session: AsyncSession, anonymity: Anonymity, viewer: Viewer) -> list[Listed]:
    """Upcoming and recent bookings, as mentor and as booker (anonymous ones found through the keyring)."""
    tags = await scopes.tags_of(session, anonymity, viewer.id)
    rows = (await session.execute(
        select(Booking, User.display_name).join(User, User.id == Booking.mentor_id)
        .where(or_(Booking.mentor_id == viewer.id, Booking.booker_id == viewer.id, Booking.booker_tag.in_(tags)),
               Booking.ends_at > now() - timedelta(days=14))
        .order_by(Booking.starts_at).limit(200))).all()
    return [Listed(b, "mentor", b.label) if b.mentor_id == viewer.id else Listed(b, "booker", name)
            for b, name in rows]


# ---- housekeeping and reminders --------------------------------------------------------------------------------

async def mark_no_shows(session: AsyncSession, rooms: PrivateRooms) -> dict[str, int]:
    """A booking whose booker has not entered the room NO_SHOW_AFTER its start frees its slot: it is marked a
    no-show, its room ends, and the mentor is told. Bookings that ended with the booker present are done."""
    due = list(await session.scalars(select(Booking).where(
        Booking.state == "booked", Booking.starts_at <= now() - NO_SHOW_AFTER).with_for_update(skip_locked=True)))
    arrived = await rooms.guest_arrived(session, [b.room_id for b in due if b.room_id is not None])
    missed = done = 0
    for booking in due:
        if booking.room_id in arrived:
            if booking.ends_at <= now():
                booking.state, done = "done", done + 1
            continue
        booking.state, missed = "no_show", missed + 1
        if booking.room_id is not None:
            await rooms.close(session, booking.room_id)
        await notify(session, user_id=booking.mentor_id, kind="office_hours", day_only=booking.anonymous,
                     text=f"{booking.label} did not come to the office hour; the slot was freed.",
                     url=f"/mentorship/bookings/{booking.id}")
    return {"office hours no-shows": missed, "office hours done": done}


def booking_event(booking: Booking, mentor_name: str, base_url: str, domain: str) -> Event:
    event = Event()
    event.add("uid", f"office-hour-{booking.id}@{domain}")
    event.add("dtstamp", now())
    event.add("dtstart", booking.starts_at)
    event.add("dtend", booking.ends_at)
    event.add("summary", f"Office hour with {mentor_name}")
    event.add("url", f"{base_url}/mentorship/bookings/{booking.id}")
    event.add("description", "A private conversation for two. Open the booking to enter the room: "
                             f"{base_url}/mentorship/bookings/{booking.id}")
    if booking.state == "cancelled":
        event.add("status", "CANCELLED")
    return event


def ics(booking: Booking, mentor_name: str, base_url: str, domain: str) -> str:
    """An iCalendar text for one booking (the booker's name is not in it: it may be anonymous)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Compassionate Practice//office hours//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(booking_event(booking, mentor_name, base_url, domain))
    return calendar.to_ical().decode()
