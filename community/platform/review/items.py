"""The shared review queue: one open item per target, whatever raised it (flags, crisis, privacy, approval).

Every pillar's content (thread posts, reflections, replies, room messages) reaches moderators through here.
Each kind of content registers a `TargetAdapter` (see community.moderation_targets) that loads it for the queue
and applies decisions, so this module never needs to know how a room message differs from a post.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.review import urgent as alerts
from community.platform.review.models import ReviewItem

# Lower is more urgent. The queue is ordered by priority, then by age.
PRIORITY = {
    "crisis": 0,        # the writer may be at risk (detector)
    "concern": 0,       # "I'm worried about this person" flag
    "safety": 0,
    "privacy": 1,       # patient identifiers
    "harassment": 2,    # disrespect or harassment
    "spam": 3,
    "off_topic": 3,
    "other": 3,
    "approval": 4,      # new member's first posts, watched words "require approval"
    "watched": 3,
}
URGENT = {"crisis", "concern", "safety"}


async def open_item(session: AsyncSession, *, target_kind: str, target_id: int, reason: str,
                    source: str) -> ReviewItem:
    """Creates the target's open item, or adds the reason to it and raises its priority if more urgent.
    An item that is (or becomes) urgent raises its alert to whoever is on call (once per item: urgent.raise_alert)."""
    priority = PRIORITY.get(reason, 3)
    urgent = reason in URGENT
    stmt = insert(ReviewItem).values(
        target_kind=target_kind, target_id=target_id, priority=priority, reasons=[reason], source=source,
        urgent=urgent,
    ).on_conflict_do_nothing(index_elements=["target_kind", "target_id"],
                             index_where=ReviewItem.resolved_at.is_(None))
    await session.execute(stmt)
    item = (await session.scalars(select(ReviewItem).where(
        ReviewItem.target_kind == target_kind, ReviewItem.target_id == target_id,
        ReviewItem.resolved_at.is_(None)).with_for_update())).one()
    if reason not in item.reasons:
        item.reasons = [*item.reasons, reason]
    if priority < item.priority:
        item.priority = priority
    item.urgent = item.urgent or urgent
    if urgent:
        await session.flush()
        await alerts.raise_alert(session, item)
    return item
