"""Office-hour reminders, once a minute in the mail-sending process (Pillar.mail_jobs): an hour before a booked
slot, the mentor and a signed booker get a mail with the booking's .ics (by their room-reminder choice); an
anonymous booker gets a notice addressed to the booking's tag, which notification email delivers in their
digest, and the booking page offers the same .ics to download.

The job gets the settings, not the app: it builds the anonymity service from them, as the mail process does for
notification email (cli), to seal the anonymous booker's notice.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.mentorship.models import Booking
from community.mentorship.office_hours import REMIND_BEFORE, Party, ics, now, tell, when
from community.platform.accounts.models import User
from community.platform.anonymity import Anonymity
from community.platform.mail import preferences
from community.platform.mail.outbox import Attachment, Mail, Outbox
from community.settings import Settings


def _mail(settings: Settings, outbox: Outbox, booking: Booking, mentor: User, to: User) -> Mail:
    link = f"{settings.base_url}/unsubscribe/" + preferences.unsubscribe_token(settings.secret_key, to.id,
                                                                               "room_reminders")
    return Mail(to.email, "office_hour_reminder", {
        "name": to.display_name, "mentor": mentor.display_name, "starts": when(booking.starts_at, to.timezone),
        "booking_url": f"{settings.base_url}/mentorship/bookings/{booking.id}",
        "with_whom": booking.label if to.id == mentor.id else mentor.display_name},
        unsubscribe_url=link, attachments=(Attachment("office-hour.ics", "text/calendar",
                                                      ics(booking, mentor.display_name, settings.base_url,
                                                          outbox.domain)),))


async def send_reminders(session: AsyncSession, outbox: Outbox, settings: Settings) -> dict[str, int]:
    due = list(await session.scalars(select(Booking).where(
        Booking.state == "booked", Booking.reminded.is_(False), Booking.starts_at > now(),
        Booking.starts_at <= now() + REMIND_BEFORE).with_for_update(skip_locked=True)))
    if not due:
        return {"office hour reminders": 0}
    ids = sorted({b.mentor_id for b in due} | {b.booker_id for b in due if b.booker_id is not None})
    members = {u.id: u for u in await session.scalars(select(User).where(User.id.in_(ids)))}
    choices = await preferences.for_members(session, ids)
    anonymity = Anonymity(settings.anon_key)
    mails, notices = [], 0
    for booking in due:
        booking.reminded = True
        mentor = members[booking.mentor_id]
        for uid in (booking.mentor_id, booking.booker_id):
            member = members.get(uid) if uid is not None else None
            if member is not None and member.deleted_at is None and choices[uid]["room_reminders"] != "off":
                mails.append(_mail(settings, outbox, booking, mentor, member))
        if booking.booker_tag is not None:
            await tell(session, anonymity, Party(None, booking.booker_tag),
                       f"Reminder: your office hour with {mentor.display_name} starts "
                       f"{when(booking.starts_at, 'UTC')}.", f"/mentorship/bookings/{booking.id}")
            notices += 1
    await outbox.enqueue_many(session, mails)
    return {"office hour reminders": len(mails) + notices}
