"""A post's state changes (hide, remove, restore, approve) and the thread and category counters that follow."""

from __future__ import annotations

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.discussions.fanout import publish_side_effects
from community.discussions.models import Category, Post, Thread
from community.platform.errors import NotFound
from community.platform.review.models import ReviewItem


async def refresh_counts(session: AsyncSession, thread_id: int) -> None:
    """Recomputes a thread's visible reply count and last activity, and its category's thread count.
    Only moderation and deletion call this (rare); new posts update the counters incrementally."""
    visible = and_(Post.thread_id == thread_id, Post.state == "visible")
    await session.execute(update(Thread).where(Thread.id == thread_id).values(
        reply_count=select(func.count()).where(visible, Post.position > 1).scalar_subquery(),
        last_activity_at=func.coalesce(select(func.max(Post.created_at)).where(visible).scalar_subquery(),
                                       Thread.created_at),
    ))
    category_id = await session.scalar(select(Thread.category_id).where(Thread.id == thread_id))
    await refresh_category(session, category_id)


async def refresh_category(session: AsyncSession, category_id: int | None) -> None:
    if category_id is None:
        return
    await session.execute(update(Category).where(Category.id == category_id).values(
        thread_count=select(func.count()).where(Thread.category_id == category_id, Thread.state == "visible")
        .scalar_subquery()))


async def _held_after_edit(session: AsyncSession, post_id: int) -> bool:
    """A post held for approval by an edit was published before: its replies and mentions were announced then,
    so approving it again must not send them a second time."""
    return bool(await session.scalar(select(ReviewItem.id).where(
        ReviewItem.target_kind == "post", ReviewItem.target_id == post_id, ReviewItem.source == "edit").limit(1)))


async def set_post_state(session: AsyncSession, target_id: int, state: str, reason: str | None) -> None:
    """Hide, remove, restore or approve a post: the thread follows its first post, counters are recomputed, and
    a post approved from "pending" gets its replies and mentions announced (once)."""
    row = (await session.execute(select(Post, Thread).join(Thread, Thread.id == Post.thread_id)
                                 .where(Post.id == target_id).with_for_update(of=Post))).first()
    if row is None:
        raise NotFound("This post no longer exists.")
    post, thread = row
    old = post.state
    if old == state:
        return
    post.state = state
    post.removed_reason = reason if state == "removed" else None
    if post.position == 1 and not post.deleted_by_author:
        thread.state = state
    await session.flush()
    if old == "pending" and state == "visible" and not await _held_after_edit(session, post.id):
        await publish_side_effects(session, post.id)
    await refresh_counts(session, thread.id)
