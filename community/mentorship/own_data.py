"""The mentorship pillar's part of a member's own data: their directory entry, card choices, office hours,
bookings (anonymous ones found through the keyring) and conversation messages; and what leaving does to them.

Leaving takes the member out of the directory and their office hours out of reach, cancels their upcoming
bookings on both sides (telling the other person), and forgets the seal of their anonymous bookings, so not even
the app can tie those to anyone any more. Their conversation messages are removed, or kept under "Former member".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.mentorship import office_hours
from community.mentorship.models import (
    Booking,
    Conversation,
    ConversationMessage,
    MemberCard,
    MentorProfile,
    OfficeHours,
)
from community.platform.accounts import scopes
from community.platform.anonymity import Anonymity
from community.platform.meetings import PrivateRooms
from community.platform.pillar import OwnData
from community.platform.states import State
from community.platform.viewer import Viewer


async def export(session: AsyncSession, viewer: Viewer, anonymity: Anonymity) -> dict[str, Any]:
    profile = await session.get(MentorProfile, viewer.id)
    card = await session.get(MemberCard, viewer.id)
    hours = await office_hours.hours_of(session, viewer.id)
    listed = await office_hours.my_bookings(session, anonymity, viewer)
    messages = (await session.scalars(select(ConversationMessage).where(ConversationMessage.author_id == viewer.id)
                                      .order_by(ConversationMessage.id))).all()
    return {"mentorship": {
        "directory_entry": None if profile is None else {
            "listed": profile.listed, "specialties": profile.specialties, "interests": profile.interests,
            "help_with": profile.help_with},
        "card_visibility": card.visibility if card else {},
        "office_hours": [{"weekday": office_hours.WEEKDAYS[h.weekday], "start_minute": h.start_minute,
                          "end_minute": h.end_minute, "slot_minutes": h.slot_minutes, "timezone": h.timezone}
                         for h in hours],
        "bookings": [{"starts_at": item.booking.starts_at.isoformat(), "as": item.side, "with": item.other,
                      "anonymous": item.booking.anonymous, "state": item.booking.state} for item in listed],
        "conversation_messages": [{"conversation": m.conversation_id, "at": m.created_at.isoformat(),
                                   "text": m.body_text} for m in messages]}}


def own_data(rooms: PrivateRooms) -> OwnData:
    async def delete(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, keep_shared: bool) -> None:
        await session.execute(update(MentorProfile).where(MentorProfile.user_id == viewer.id).values(listed=False))
        await session.execute(update(OfficeHours).where(OfficeHours.mentor_id == viewer.id).values(active=False))
        tags = await scopes.tags_of(session, anonymity, viewer.id)
        mine = or_(Booking.mentor_id == viewer.id, Booking.booker_id == viewer.id, Booking.booker_tag.in_(tags))
        upcoming = (await session.scalars(select(Booking.id).where(
            mine, Booking.state == "booked", Booking.ends_at > office_hours.now()))).all()
        for booking_id in upcoming:
            await office_hours.cancel(session, anonymity, rooms, viewer, booking_id)
        await session.execute(update(Booking).where(Booking.booker_tag.in_(tags))
                              .values(sealed_booker=None, booker_tag=None))
        await session.execute(update(Conversation).where(
            or_(Conversation.mentor_id == viewer.id, Conversation.member_id == viewer.id),
            Conversation.state.in_(("requested", "open"))).values(state="closed"))
        if not keep_shared:
            await session.execute(update(ConversationMessage).where(ConversationMessage.author_id == viewer.id)
                                  .values(state=State.REMOVED))

    return OwnData(export=export, delete=delete)
