"""The mentorship pillar, as create_app wires it: member cards, the mentor directory, office hours and mentor
conversations; the conversation-message adapter, seed mentors, no-shows and reminders.

It holds office hours in private rooms without importing the rooms pillar: `build` takes the private-room seam
(platform.meetings.PrivateRooms), and app.PILLARS passes the rooms pillar's (`rooms.pillar.PRIVATE_ROOMS`).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from community.mentorship import office_hours, own_data, reminders, seed
from community.mentorship.moderation import MentorMessageAdapter
from community.mentorship.web import conversations, pages
from community.mentorship.web.bookings import Bookings
from community.platform.mail.outbox import Outbox
from community.platform.meetings import PrivateRooms
from community.platform.pillar import Pillar
from community.settings import Settings


def build(rooms: PrivateRooms) -> Pillar:
    async def no_shows(session: AsyncSession) -> dict[str, int]:
        return await office_hours.mark_no_shows(session, rooms)

    async def no_shows_each_minute(session: AsyncSession, outbox: Outbox, settings: Settings) -> dict[str, int]:
        """Also with the minute's mail jobs: housekeeping runs hourly, a no-show should free its slot at once."""
        return await office_hours.mark_no_shows(session, rooms)

    return Pillar(
        name="mentorship",
        routes=(*pages.routes, *Bookings(rooms).routes, *conversations.routes),
        adapters=lambda anonymity: (MentorMessageAdapter(),),
        seeders=(seed.seed,),
        housekeeping=(no_shows,),
        mail_jobs=(reminders.send_reminders, no_shows_each_minute),
        own_data=own_data.own_data(rooms),
    )
