"""Urgent alerts by email (issue 15 with issue 16's outbox): whoever an alert tells is mailed once, the mail
names nothing of the writer or the writing, and an escalation mails every moderator and admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from community.platform.mail.models import OutboxMessage
from community.platform.mail.outbox import Outbox
from community.platform.review import pulse, urgent
from community.platform.review.models import OnCallHours
from tests.discussions.conftest import reply_to, start_thread

CRISIS = "I have been thinking about ending my life"


async def _on_call(db, user) -> None:
    async with db.transaction() as session:
        await session.execute(delete(OnCallHours).where(OnCallHours.user_id == user.id))
        for day in range(7):
            session.add(OnCallHours(user_id=user.id, weekday=day, start_minute=0, end_minute=1440))


async def _mail(db) -> list[OutboxMessage]:
    async with db.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_the_on_call_moderator_is_mailed_once_and_everyone_on_escalation(member_factory, moderator, admin,
                                                                               login, db, settings):
    other = await member_factory("moderator", name="Second Moderator")
    await _on_call(db, moderator)
    writer = await login(await member_factory(name="Quiet Resident"))
    thread_id, _ = await start_thread(writer, title="A long week", body="It has been a long week on nights.")
    await reply_to(writer, thread_id, CRISIS)
    outbox = Outbox(settings)
    state = pulse.Pulse()
    await pulse.tick(db, settings, state, outbox)
    mails = await _mail(db)
    assert [m.to_addr for m in mails] == [moderator.email]
    text = mails[0].text_body
    assert "crisis" in mails[0].subject.lower() or "urgent" in mails[0].subject.lower()
    assert "/review/post/" in text and "Quiet Resident" not in text and CRISIS not in text
    await pulse.tick(db, settings, state, outbox)
    assert len(await _mail(db)) == 1  # once per person and alert

    later = datetime.now(UTC) + timedelta(minutes=settings.urgent_escalation_minutes + 1)
    await pulse.tick(db, settings, state, outbox, now=later)
    mails = await _mail(db)
    assert sorted(m.to_addr for m in mails[1:]) == sorted([moderator.email, other.email, admin.email])
    assert all("Escalated" in m.subject for m in mails[1:])
    async with db.transaction() as session:
        assert await urgent.mail_alerts(session, outbox) == 0
