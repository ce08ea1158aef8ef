"""Creating and reading in-app notifications (to a member id, or to a sealed tag for anonymous content)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.models.moderation import Notification
from community.sealing import author_tag
from community.viewer import Viewer


async def notify(session: AsyncSession, *, user_id: int | None = None, tag: str | None = None, kind: str,
                 text: str, url: str | None = None) -> None:
    """Exactly one of user_id (ordinary content) or tag (anonymous content's author) is given."""
    assert (user_id is None) != (tag is None), "address a notification to a member id or to a sealed tag"
    await session.execute(insert(Notification).values(user_id=user_id, recipient_tag=tag, kind=kind,
                                                      text=text[:500], url=url))


def _mine(viewer: Viewer, anon_key: str):  # type: ignore[no-untyped-def]
    return or_(Notification.user_id == viewer.id, Notification.recipient_tag == author_tag(anon_key, viewer.id))


async def list_for(session: AsyncSession, viewer: Viewer, anon_key: str, *, before: int | None = None,
                   limit: int = 50) -> list[Notification]:
    query = select(Notification).where(_mine(viewer, anon_key))
    if before:
        query = query.where(Notification.id < before)
    return list(await session.scalars(query.order_by(Notification.id.desc()).limit(limit)))


async def mark_read(session: AsyncSession, viewer: Viewer, anon_key: str, ids: list[int] | None = None) -> None:
    query = update(Notification).where(_mine(viewer, anon_key), Notification.read_at.is_(None))
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    await session.execute(query.values(read_at=datetime.now(UTC)))
