"""Flags and the review queue, for every kind of content (through its TargetAdapter).

- `flag`: any member, once per target, with a reason. Flags' weight past settings.flag_hide_threshold hides the
  content pending review; a moderator's flag hides at once; "I'm worried about this person" is urgent and never
  hides anything.
- `queue`: open items by priority then age, each with its target in context, its flags and (for named authors)
  the author's sanctions, in a fixed number of queries whatever the queue's length.
Decisions live in community.platform.review.decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from community.platform.accounts.actions import require_staff
from community.platform.accounts.models import User
from community.platform.errors import Forbidden, Invalid, NotFound
from community.platform.review import audit
from community.platform.review import items as review
from community.platform.review import urgent as alerts
from community.platform.review.models import Flag, ReviewItem, Sanction, UrgentAlert
from community.platform.review.targets import TargetAdapter, Targets, TargetView
from community.platform.viewer import Viewer
from community.settings import Settings

FLAG_REASONS = {
    "harassment": "Disrespect or harassment",
    "privacy": "Patient privacy",
    "concern": "I'm worried about this person",
    "spam": "Spam or advertising",
    "off_topic": "Off-topic",
    "other": "Something else",
}
FLAG_HINTS = {
    "harassment": "Unkind, demeaning, or aimed at a person.",
    "privacy": "Details that could identify a patient.",
    "concern": "The writer may be at risk. This goes to the top of the queue; the post stays visible and a "
               "moderator checks in privately.",
    "spam": "Advertising or repeated, unrelated content.",
    "off_topic": "Does not belong in this conversation.",
    "other": "Tell the moderators what is wrong.",
}
REASON_LABELS = {**FLAG_REASONS, "crisis": "Crisis language (detector)", "approval": "Waiting for approval",
                 "watched": "Watched word", "safety": "Safety"}
NOTE_MAX = 1000


def adapter_or_404(targets: Targets, kind: str) -> TargetAdapter:
    adapter = targets.get(kind)
    if adapter is None:
        raise NotFound("There is no such kind of content.")
    return adapter


async def access_target(session: AsyncSession, viewer: Viewer, targets: Targets, kind: str,
                        target_id: int) -> TargetView:
    """Loads a target the viewer may see (moderators see everything; others, visible content they may read where
    it lives, as its adapter says). What a member may not read answers the same 404 as what does not exist."""
    adapter = adapter_or_404(targets, kind)
    view = (await adapter.load(session, [target_id])).get(target_id)
    if view is None:
        raise NotFound("This content does not exist.")
    if viewer.is_moderator:
        return view
    if view.state != "visible":
        raise NotFound("This content is no longer available.")
    if not await adapter.readable(session, viewer, view):
        raise NotFound("This content does not exist.")
    return view


@dataclass
class FlagOutcome:
    view: TargetView
    hidden: bool
    urgent: bool


def check_flag(reason: str, note: str) -> tuple[str, str | None]:
    errors: dict[str, str] = {}
    if reason not in FLAG_REASONS:
        errors["reason"] = "Please choose what is wrong."
    note = note.strip()
    if reason == "other" and not note:
        errors["note"] = "Please tell the moderators what is wrong."
    if len(note) > NOTE_MAX:
        errors["note"] = f"Use at most {NOTE_MAX:,} characters (this has {len(note):,})."
    if errors:
        raise Invalid(fields=errors)
    return reason, note or None


async def flag(session: AsyncSession, viewer: Viewer, settings: Settings, targets: Targets, kind: str,
               target_id: int, reason: str, note: str = "") -> FlagOutcome:
    if viewer.is_silenced():
        raise Forbidden("Your posting and flagging are paused for now. If something needs urgent attention, "
                        "please contact a moderator directly or see the crisis resources.")
    adapter = adapter_or_404(targets, kind)
    view = await access_target(session, viewer, targets, kind, target_id)
    reason, note_text = check_flag(reason, note)
    if view.author_id is not None and view.author_id == viewer.id:
        raise Invalid("You cannot flag your own writing. You can edit or delete it instead.")
    threshold = max(1, settings.flag_hide_threshold)
    weight = threshold if viewer.is_moderator else 1
    flag_id = await session.scalar(insert(Flag).values(
        target_kind=kind, target_id=target_id, flagger_id=viewer.id, reason=reason, note=note_text, weight=weight,
    ).on_conflict_do_nothing(constraint="uq_flags_once").returning(Flag.id))
    if flag_id is None:
        raise Invalid("You have already flagged this. Thank you: moderators will review it.")
    await review.open_item(session, target_kind=kind, target_id=target_id, reason=reason, source="flag")
    hidden = False
    if reason != "concern" and view.state == "visible":
        total = await session.scalar(select(func.coalesce(func.sum(Flag.weight), 0)).where(
            Flag.target_kind == kind, Flag.target_id == target_id, Flag.resolved_at.is_(None),
            Flag.reason != "concern"))
        if (total or 0) >= threshold:
            await adapter.set_state(session, target_id, "hidden", None)
            hidden = True
            await audit.record(session, viewer if viewer.is_moderator else None,
                               "moderation.flag_hide" if viewer.is_moderator else "moderation.auto_hide",
                               target_type=kind, target_id=target_id, target_label=view.title,
                               reason=FLAG_REASONS[reason] if viewer.is_moderator else
                               "Flag weight reached the hiding threshold.",
                               details={"weight": int(total or 0), "threshold": threshold})
            await adapter.notify_author(session, target_id, "moderation",
                                        f"Your writing ({view.title}) is hidden while a moderator reviews it. "
                                        "You can still see it.", view.url)
    return FlagOutcome(view, hidden, reason == "concern")


# ---- the queue ----------------------------------------------------------------------------------------------

@dataclass
class QueueEntry:
    item: ReviewItem
    view: TargetView | None
    flags: list[dict[str, Any]] = field(default_factory=list)
    sanctions: list[Sanction] = field(default_factory=list)
    claimed_by_name: str | None = None
    alert: UrgentAlert | None = None  # an urgent item's alert: who was told, whether it escalated
    told: list[str] = field(default_factory=list)  # the names of the moderators the alert went to first

    @property
    def reason_labels(self) -> list[str]:
        return [REASON_LABELS.get(r, r) for r in self.item.reasons]

    @property
    def anonymous(self) -> bool:
        """About anonymous writing: its waiting time is shown to the day (see `waited`)."""
        return self.view is not None and self.view.anonymous

    def escalates_at(self, minutes: int) -> datetime | None:
        """When an unclaimed urgent item will go to every moderator; None if it will not (or did). Not shown for
        anonymous writing: it is the piece's time of writing plus a constant."""
        alert = self.alert
        if alert is None or alert.escalated_at is not None or self.item.claimed_by is not None or self.anonymous:
            return None
        return alert.raised_at + timedelta(minutes=minutes)


QUEUE_FILTERS = {"all": "Everything", "urgent": "Urgent", "approval": "Approvals", "mine": "Claimed by me"}


async def queue(session: AsyncSession, viewer: Viewer, targets: Targets, *, which: str = "all", limit: int = 50,
                offset: int = 0) -> tuple[list[QueueEntry], int]:
    require_staff(viewer)
    claimer = aliased(User)
    query = select(ReviewItem, claimer.display_name).outerjoin(claimer, claimer.id == ReviewItem.claimed_by) \
        .where(ReviewItem.resolved_at.is_(None))
    count_query = select(func.count()).select_from(ReviewItem).where(ReviewItem.resolved_at.is_(None))
    conditions = []
    if which == "urgent":
        conditions.append(ReviewItem.urgent.is_(True))
    elif which == "approval":
        conditions.append(ReviewItem.reasons.contains(["approval"]))
    elif which == "mine":
        conditions.append(ReviewItem.claimed_by == viewer.id)
    if conditions:
        query = query.where(*conditions)
        count_query = count_query.where(*conditions)
    rows = (await session.execute(query.order_by(ReviewItem.priority, ReviewItem.created_at, ReviewItem.id)
                                  .limit(limit).offset(offset))).all()
    total = await session.scalar(count_query) or 0
    entries = [QueueEntry(item, None, claimed_by_name=name) for item, name in rows]
    await attach_context(session, targets, entries)
    return entries, total


async def attach_context(session: AsyncSession, targets: Targets, entries: list[QueueEntry], *,
                         all_flags: bool = False) -> None:
    """Targets (one query per kind), flags (one query) and named authors' sanctions (one query)."""
    if not entries:
        return
    by_kind: dict[str, list[int]] = {}
    for entry in entries:
        by_kind.setdefault(entry.item.target_kind, []).append(entry.item.target_id)
    views: dict[tuple[str, int], TargetView] = {}
    for kind, ids in by_kind.items():
        adapter = targets.get(kind)
        if adapter is None:
            continue
        for ident, view in (await adapter.load(session, ids)).items():
            views[(kind, ident)] = view
    keys = [(e.item.target_kind, e.item.target_id) for e in entries]
    flag_query = (select(Flag, User.display_name).join(User, User.id == Flag.flagger_id)
                  .where(tuple_(Flag.target_kind, Flag.target_id).in_(keys)).order_by(Flag.id))
    if not all_flags:
        flag_query = flag_query.where(Flag.resolved_at.is_(None))
    flags: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for flag_row, name in (await session.execute(flag_query)).all():
        flags.setdefault((flag_row.target_kind, flag_row.target_id), []).append(
            {"reason": flag_row.reason, "label": FLAG_REASONS.get(flag_row.reason, flag_row.reason),
             "note": flag_row.note, "by": name, "at": flag_row.created_at, "weight": flag_row.weight,
             "resolved_at": flag_row.resolved_at, "outcome": flag_row.outcome})
    author_ids = {v.author_id for v in views.values() if v.author_id is not None and not v.anonymous}
    sanctions: dict[int, list[Sanction]] = {}
    if author_ids:
        for sanction in await session.scalars(select(Sanction).where(Sanction.user_id.in_(author_ids))
                                              .order_by(Sanction.created_at.desc())):
            sanctions.setdefault(sanction.user_id, []).append(sanction)
    await _attach_alerts(session, entries)
    for entry in entries:
        key = (entry.item.target_kind, entry.item.target_id)
        entry.view = views.get(key)
        entry.flags = flags.get(key, [])
        if entry.view is not None and entry.view.author_id is not None and not entry.view.anonymous:
            entry.sanctions = sanctions.get(entry.view.author_id, [])


async def _attach_alerts(session: AsyncSession, entries: list[QueueEntry]) -> None:
    """Urgent items' alerts (one query) and the names of those told first (one query)."""
    item_ids = [e.item.id for e in entries if e.item.urgent and e.item.id is not None]
    if not item_ids:
        return
    alerts = {a.item_id: a for a in await session.scalars(select(UrgentAlert).where(UrgentAlert.item_id.in_(item_ids)))}
    told_ids = {uid for a in alerts.values() for uid in a.notified}
    names = dict((await session.execute(select(User.id, User.display_name).where(User.id.in_(told_ids)))).all()) \
        if told_ids else {}
    for entry in entries:
        entry.alert = alerts.get(entry.item.id)
        if entry.alert is not None:
            entry.told = [names[uid] for uid in entry.alert.notified if uid in names]


async def target_detail(session: AsyncSession, viewer: Viewer, targets: Targets, kind: str,
                        target_id: int) -> QueueEntry:
    """One target for the decision page: its open item if any, every flag ever, sanctions."""
    require_staff(viewer)
    adapter_or_404(targets, kind)
    claimer = aliased(User)
    row = (await session.execute(select(ReviewItem, claimer.display_name)
                                 .outerjoin(claimer, claimer.id == ReviewItem.claimed_by)
                                 .where(ReviewItem.target_kind == kind, ReviewItem.target_id == target_id,
                                        ReviewItem.resolved_at.is_(None)))).first()
    item = row[0] if row else ReviewItem(id=None, target_kind=kind, target_id=target_id, priority=9, reasons=[],
                                         source="direct", urgent=False, created_at=None)
    entry = QueueEntry(item, None, claimed_by_name=row[1] if row else None)
    await attach_context(session, targets, [entry], all_flags=True)
    if entry.view is None:
        raise NotFound("This content does not exist.")
    return entry


async def claim(session: AsyncSession, viewer: Viewer, item_id: int, *, release: bool = False,
                now: datetime | None = None) -> ReviewItem:
    """Claims (or releases) an item; both are in the audit log, and a claim on an urgent item is a first human
    action (it stops its escalation)."""
    require_staff(viewer)
    item = await session.get(ReviewItem, item_id, with_for_update=True)
    if item is None or item.resolved_at is not None:
        raise NotFound("This item is no longer in the queue.")
    if release:
        if item.claimed_by not in (None, viewer.id) and not viewer.is_admin:
            raise Forbidden("Only the moderator who claimed this item (or an admin) can release it.")
        item.claimed_by = None
        item.claimed_at = None
    else:
        if item.claimed_by not in (None, viewer.id) and not viewer.is_admin:
            raise Invalid("Another moderator has already claimed this item. Open it to see who, or ask them "
                          "(an admin can take it over).")
        item.claimed_by = viewer.id
        item.claimed_at = now or func.now()
        await alerts.record_action(session, item.id, viewer.id, "claim", now)
    await audit.record(session, viewer, "moderation.release" if release else "moderation.claim",
                       target_type=item.target_kind, target_id=item.target_id, details={"item": item.id})
    await session.flush()
    return item


async def acknowledge(session: AsyncSession, viewer: Viewer, item_id: int, now: datetime | None = None) -> bool:
    """"I have seen it": recorded in the audit log, and a first human action on an urgent item. It does not
    claim the item, so escalation still runs if nobody claims it. True if it was the item's first action."""
    require_staff(viewer)
    item = await session.get(ReviewItem, item_id)
    if item is None or item.resolved_at is not None:
        raise NotFound("This item is no longer in the queue.")
    first = await alerts.record_action(session, item.id, viewer.id, "acknowledge", now)
    await audit.record(session, viewer, "moderation.acknowledge", target_type=item.target_kind,
                       target_id=item.target_id, details={"item": item.id, "first": first})
    return first


async def open_count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(ReviewItem)
                                .where(ReviewItem.resolved_at.is_(None))) or 0


async def resolve(session: AsyncSession, viewer: Viewer, kind: str, target_id: int, decision: str,
                  reason: str | None) -> tuple[int | None, list[int]]:
    """Closes the open item and the open flags; returns (item id, distinct flagger ids)."""
    item_id = await session.scalar(update(ReviewItem).where(
        ReviewItem.target_kind == kind, ReviewItem.target_id == target_id, ReviewItem.resolved_at.is_(None),
    ).values(resolved_at=func.now(), resolved_by=viewer.id, decision=decision, decision_reason=reason)
        .returning(ReviewItem.id))
    await alerts.record_action(session, item_id, viewer.id, decision)
    flaggers = list(await session.scalars(update(Flag).where(
        Flag.target_kind == kind, Flag.target_id == target_id, Flag.resolved_at.is_(None),
    ).values(resolved_at=func.now(), outcome=decision).returning(Flag.flagger_id)))
    return item_id, sorted(set(flaggers))


_FORGET_TIMES = text("""
WITH item AS (
    UPDATE review_items SET created_at = date_trunc('day', created_at, 'UTC'),
                            resolved_at = date_trunc('day', resolved_at, 'UTC')
     WHERE id = :item RETURNING id)
UPDATE urgent_alerts a
   SET raised_at = date_trunc('day', a.raised_at, 'UTC'),
       escalated_at = date_trunc('day', a.raised_at, 'UTC') + (a.escalated_at - a.raised_at),
       first_action_at = date_trunc('day', a.raised_at, 'UTC') + (a.first_action_at - a.raised_at)
  FROM item WHERE a.item_id = item.id
""")


async def forget_times(session: AsyncSession, item_id: int) -> None:
    """Once an item about anonymous writing is closed, its times keep only the day.

    An item opened by screening or a watched word is opened as the piece is written, so its exact time would be
    the piece's, which the piece itself keeps only to the day. The alert's times move with the day, so the time
    from alert to first human action (the review page's figures) is kept and nothing else of the moment."""
    await session.execute(_FORGET_TIMES, {"item": item_id})


def waited(created_at: datetime | None, anonymous: bool = False) -> str:
    """How long an item has waited. About anonymous writing only to the day: an item opened by screening or a
    watched word is opened when the piece is written, so its age by the minute would be the piece's exact time."""
    if created_at is None:
        return ""
    if anonymous:
        days = (datetime.now(UTC).date() - created_at.astimezone(UTC).date()).days
        return "since today" if days <= 0 else ("since yesterday" if days == 1 else f"{days} days")

    seconds = int((datetime.now(UTC) - created_at).total_seconds())
    if seconds < 3600:
        return f"{max(1, seconds // 60)} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"
