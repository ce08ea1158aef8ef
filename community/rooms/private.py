"""Private rooms for two (platform.meetings.PrivateRooms): the rooms pillar's side of an office-hours booking.

A private room is a scheduled room with both participant rows made with it, so nobody else can join (join_room
refuses, the room page answers 403, the list, the calendar and host announcements leave it out). An anonymous
guest's row is made the way join_room makes one: the room-scoped tag, the sealed member id, a pseudonym the
anonymity service picks in the room's scope, and the tag enrolled in the guest's keyring; its rules-accepted time
is the day only (the booking, not a visit, made it).
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts import scopes
from community.platform.anonymity import Anonymity
from community.platform.meetings import Meeting
from community.platform.text import render_markdown
from community.rooms import actions
from community.rooms.models import ANON_SEQUENCE, LOCAL_IDS, Room, RoomParticipant

PRIVATE_RULES = """- This is a private conversation for the two of you; nobody else can enter.
- What is said here stays here. No screenshots, no retelling with names.
- No patient identifiers: no names, dates, record numbers, or details that could identify someone.
- Either of you can report a message; a moderator then reads that message, and only that one.
- If you are in crisis, use "Need help now?" at the top of the page; a person will follow up."""


PRIVATE_RULES_HTML = render_markdown(PRIVATE_RULES)


class RoomsForTwo:
    """The rooms pillar's PrivateRooms."""

    async def create(self, session: AsyncSession, anonymity: Anonymity, *, title: str, host_id: int,
                     host_name: str, guest_id: int, guest_name: str, anonymous: bool, starts_at: datetime,
                     ends_at: datetime, retention_hours: int | None) -> Meeting:
        room = Room(kind="scheduled", title=title[:120], description="", ground_rules=PRIVATE_RULES,
                    ground_rules_html=PRIVATE_RULES_HTML, capacity=2,
                    starts_at=starts_at, ends_at=ends_at, host_id=host_id, retention_hours=retention_hours,
                    allow_anonymous=anonymous, state="scheduled", private=True)
        if anonymous:  # the room's rows keep the day only: their times would date the anonymous booking
            room.created_at = anonymity.day_of(actions.now())
        session.add(room)
        await session.flush()
        host_local, guest_local = secrets.SystemRandom().sample(range(1, LOCAL_IDS + 1), 2)  # room-local ids
        host = RoomParticipant(room_id=room.id, local_id=host_local,
                               member_tag=actions.member_tag(anonymity, host_id, room.id),
                               user_id=host_id, anonymous=False, label=host_name, role="host")
        if anonymous:
            host.accepted_rules_at = anonymity.day_of(actions.now())
        tag = actions.member_tag(anonymity, guest_id, room.id)
        if anonymous:
            label = actions.pseudonym(anonymity, guest_id, room.id)
            guest = RoomParticipant(id=int(await session.scalar(select(func.nextval(ANON_SEQUENCE)))),
                                    local_id=guest_local, room_id=room.id, member_tag=tag, user_id=None,
                                    anonymous=True, label=label,
                                    role="member", sealed_member=anonymity.seal(str(guest_id)), notify_tag=tag,
                                    accepted_rules_at=anonymity.day_of(actions.now()))
            await scopes.enrol(session, anonymity, guest_id, tag)
        else:
            label = guest_name
            guest = RoomParticipant(room_id=room.id, local_id=guest_local, member_tag=tag, user_id=guest_id,
                                    anonymous=False, label=label, role="member")
        session.add_all([host, guest])
        await session.flush()
        return Meeting(room_id=room.id, url=f"/rooms/{room.id}", guest_label=label,
                       guest_tag=tag if anonymous else None)

    async def move(self, session: AsyncSession, room_id: int, starts_at: datetime, ends_at: datetime) -> None:
        await session.execute(update(Room).where(Room.id == room_id, Room.private.is_(True),
                                                 Room.state == "scheduled")
                              .values(starts_at=starts_at, ends_at=ends_at))

    async def close(self, session: AsyncSession, room_id: int) -> None:
        room = (await session.scalars(select(Room).where(Room.id == room_id, Room.private.is_(True))
                                      .with_for_update())).first()
        if room is not None and room.state != "ended":
            await actions.end_room(session, room)

    async def guest_arrived(self, session: AsyncSession, room_ids: list[int]) -> set[int]:
        if not room_ids:
            return set()
        rows = await session.scalars(select(RoomParticipant.room_id).where(
            RoomParticipant.room_id.in_(room_ids), RoomParticipant.role == "member",
            RoomParticipant.entered.is_(True)))
        return set(rows)


PRIVATE_ROOMS = RoomsForTwo()
