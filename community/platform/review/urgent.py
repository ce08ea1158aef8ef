"""Urgent review items reach a person: on-call hours, the alert, escalation, acknowledgement, time to a human.

- An item becomes urgent (crisis language from screening, an "I'm worried about this person" flag):
  `raise_alert` tells whoever is on call now, by in-app notification; `mail_alerts` (the background task) emails
  them through the outbox within URGENT_CHECK_SECONDS. With nobody on call it goes to every moderator and admin
  at once, and counts as escalated.
- `escalate_due` runs without a request (a background task in every `community serve` process, see
  review.pulse): an alert nobody has claimed within URGENT_ESCALATION_MINUTES goes to every moderator and admin.
  It is one `UPDATE ... WHERE escalated_at IS NULL ... RETURNING`, so of several processes exactly one escalates
  each alert, and a rerun does nothing.
- The first human action on an urgent item (acknowledge, claim or a decision) is recorded once, for the
  time-to-a-human figures on the review page; every acknowledgement and claim is in the audit log.

Every function that depends on the time takes `now`, so tests run it on a clock they control. Alerts name the
kind of content and why it is urgent, never the writer or the text: the review page shows the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, or_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts.models import User
from community.platform.mail.outbox import Outbox
from community.platform.notify import notifications
from community.platform.review.models import OnCallHours, ReviewItem, UrgentAlert

STAFF_ROLES = ("moderator", "admin")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
KIND_WORDS = {"post": "a thread post", "reflection": "a shared reflection", "reflection_reply": "a reply to a reflection",
              "room_message": "a message in a live room"}
WHY_WORDS = {"crisis": "crisis language", "concern": "a member is worried about the writer", "safety": "safety"}


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def covers(span: OnCallHours | tuple[int, int, int], tz: str | None, now: datetime) -> bool:
    """Whether one on-call span (weekday, start minute, end minute, in the moderator's zone) covers `now`.
    An end at or before the start runs past midnight into the next day."""
    weekday, start, end = (span.weekday, span.start_minute, span.end_minute) if isinstance(span, OnCallHours) \
        else span
    local = now.astimezone(_zone(tz))
    minute = local.hour * 60 + local.minute
    if end > start:
        return local.weekday() == weekday and start <= minute < end
    return (local.weekday() == weekday and minute >= start) or \
        (local.weekday() == (weekday + 1) % 7 and minute < end)


def _active_staff():  # type: ignore[no-untyped-def]
    """Moderators and admins who can act now: not deleted, not suspended."""
    return (User.role.in_(STAFF_ROLES), User.deleted_at.is_(None),
            or_(User.suspended_at.is_(None), User.suspended_until <= func.now()))


async def staff_ids(session: AsyncSession) -> list[int]:
    return list(await session.scalars(select(User.id).where(*_active_staff()).order_by(User.id)))


async def on_call_now(session: AsyncSession, now: datetime | None = None) -> list[int]:
    """The moderators and admins whose on-call hours cover `now`."""
    rows = (await session.execute(select(OnCallHours, User.timezone).join(User, User.id == OnCallHours.user_id)
                                  .where(*_active_staff()))).all()
    moment = _now(now)
    return sorted({span.user_id for span, tz in rows if covers(span, tz, moment)})


async def on_call_names(session: AsyncSession, now: datetime | None = None) -> list[str]:
    """Who is on call now, by name (for the on-call page)."""
    ids = await on_call_now(session, now)
    if not ids:
        return []
    return list(await session.scalars(select(User.display_name).where(User.id.in_(ids)).order_by(User.display_name)))


_TO_MAIL = sql_text("""
SELECT a.id, a.mailed, a.notified, a.escalated_at IS NOT NULL AS escalated, a.escalated_mailed,
       i.target_kind, i.target_id, i.reasons
  FROM urgent_alerts a JOIN review_items i ON i.id = a.item_id
 WHERE i.resolved_at IS NULL AND i.claimed_by IS NULL
   AND (NOT a.notified <@ a.mailed OR (a.escalated_at IS NOT NULL AND NOT a.escalated_mailed))
 ORDER BY a.id FOR UPDATE OF a SKIP LOCKED LIMIT 50
""")


async def mail_alerts(session: AsyncSession, outbox: Outbox) -> int:
    """Emails the people an open, unclaimed urgent alert has told and not yet mailed (the on-call moderators
    when it is raised, every moderator and admin once it escalates). Run by the background task every
    URGENT_CHECK_SECONDS, in the outbox's transaction; each person is mailed once per alert, whichever process
    runs it (the rows are locked and marked). Returns how many messages were queued."""
    queued = 0
    for row in (await session.execute(_TO_MAIL)).all():
        # An escalation mails every moderator and admin once, the on-call ones again included (it is a nudge).
        escalating = row.escalated and not row.escalated_mailed
        new = sorted(set(await staff_ids(session)) if escalating else set(row.notified) - set(row.mailed))
        people = (await session.execute(select(User.display_name, User.email).where(
            User.id.in_(new), User.deleted_at.is_(None)))).all() if new else []
        why = ", ".join(WHY_WORDS[r] for r in row.reasons if r in WHY_WORDS) or "safety"
        context = {"why": why, "where": KIND_WORDS.get(row.target_kind, "some writing"), "escalated": escalating,
                   "url": f"{outbox.settings.base_url}/review/{row.target_kind}/{row.target_id}"}
        for name, email in people:
            await outbox.enqueue(session, to=email, template="urgent_alert", context={**context, "name": name})
        queued += len(people)
        await session.execute(update(UrgentAlert).where(UrgentAlert.id == row.id).values(
            mailed=sorted(set(row.mailed) | set(new)), escalated_mailed=row.escalated))
    return queued


def _alert_text(item: ReviewItem, on_call: bool) -> str:
    why = ", ".join(WHY_WORDS[r] for r in item.reasons if r in WHY_WORDS) or "safety"
    who = "You are on call. " if on_call else "Nobody is on call right now, so every moderator is told. "
    return (f"Urgent: {why}, in {KIND_WORDS.get(item.target_kind, 'some writing')}. {who}"
            "Please claim it in the review queue so others know it is in hand.")


async def _tell(session: AsyncSession, recipients: list[int], text: str, url: str) -> None:
    for user_id in recipients:
        await notifications.notify(session, user_id=user_id, kind="urgent", text=text, url=url)


async def raise_alert(session: AsyncSession, item: ReviewItem, now: datetime | None = None) -> UrgentAlert | None:
    """Tells whoever is on call about an item that has just become urgent (once per item; None if it already
    had its alert). With nobody on call, every moderator and admin is told and the alert is escalated."""
    moment = _now(now)
    on_call = await on_call_now(session, moment)
    recipients = on_call or await staff_ids(session)
    alert_id = await session.scalar(insert(UrgentAlert).values(
        item_id=item.id, raised_at=moment, notified=recipients, escalated_at=None if on_call else moment,
    ).on_conflict_do_nothing(index_elements=["item_id"]).returning(UrgentAlert.id))
    if alert_id is None:
        return None
    await _tell(session, recipients, _alert_text(item, bool(on_call)), review_url(item))
    return await session.get(UrgentAlert, alert_id)


def review_url(item: ReviewItem) -> str:
    return f"/review/{item.target_kind}/{item.target_id}"


async def escalate_due(session: AsyncSession, *, minutes: int, now: datetime | None = None) -> list[int]:
    """Every alert raised at least `minutes` ago whose item is still open and unclaimed, and that was not
    escalated yet, goes to every moderator and admin. Returns the escalated items' ids. Safe to run in several
    processes at once: the UPDATE takes each row once (a concurrent run waits for the row lock, then finds
    escalated_at set and skips it)."""
    moment = _now(now)
    rows = (await session.execute(
        update(UrgentAlert).where(
            UrgentAlert.escalated_at.is_(None), UrgentAlert.raised_at <= moment - timedelta(minutes=minutes),
            UrgentAlert.item_id == ReviewItem.id, ReviewItem.resolved_at.is_(None), ReviewItem.claimed_by.is_(None),
        ).values(escalated_at=moment).returning(ReviewItem.id, ReviewItem.target_kind, ReviewItem.target_id,
                                               UrgentAlert.raised_at))).all()
    if not rows:
        return []
    everyone = await staff_ids(session)
    for _item, kind, target_id, raised_at in rows:
        waited = int((moment - raised_at).total_seconds() // 60)
        text = (f"Escalated: an urgent item ({KIND_WORDS.get(kind, 'some writing')}) has waited {waited} min "
                "and nobody on call has claimed it. Every moderator and admin is told: please claim it if you "
                "can act now.")
        await _tell(session, everyone, text, f"/review/{kind}/{target_id}")
    return [row[0] for row in rows]


async def record_action(session: AsyncSession, item_id: int | None, actor_id: int, action: str,
                        now: datetime | None = None) -> bool:
    """The first human action on an urgent item (later ones change nothing). True if this was the first."""
    if item_id is None:
        return False
    first = await session.scalar(update(UrgentAlert).where(
        UrgentAlert.item_id == item_id, UrgentAlert.first_action_at.is_(None),
    ).values(first_action_at=_now(now), first_action_by=actor_id, first_action=action).returning(UrgentAlert.id))
    return first is not None


@dataclass(frozen=True)
class TimeToHuman:
    """Urgent items raised in the window, and the time from raising to the first human action on them."""

    days: int
    raised: int
    acted: int
    escalated: int
    median_seconds: float | None
    p90_seconds: float | None

    @property
    def waiting(self) -> int:
        return self.raised - self.acted


_TIME_TO_HUMAN_SQL = sql_text("""
SELECT count(*) AS raised, count(first_action_at) AS acted, count(escalated_at) AS escalated,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_action_at - raised_at)) AS p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM first_action_at - raised_at)) AS p90
  FROM urgent_alerts WHERE raised_at > :since AND raised_at <= :now
""")


async def time_to_human(session: AsyncSession, now: datetime | None = None, days: int = 30) -> TimeToHuman:
    moment = _now(now)
    row = (await session.execute(_TIME_TO_HUMAN_SQL, {"since": moment - timedelta(days=days), "now": moment})).one()
    return TimeToHuman(days, row.raised, row.acted, row.escalated,
                       None if row.p50 is None else float(row.p50), None if row.p90 is None else float(row.p90))


def duration(seconds: float | None) -> str:
    """A figure for the review page: "45 s", "3 min", "2 h 5 min"."""
    if seconds is None:
        return "no data yet"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s" if whole < 600 and whole % 60 else f"{whole // 60} min"
    return f"{whole // 3600} h {whole % 3600 // 60} min"
