"""Reading the audit log: filters for admins, and a member's history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.review.models import AuditEntry


async def search(session: AsyncSession, *, action: str = "", actor: str = "", target: str = "",
                 since: datetime | None = None, before: int | None = None, limit: int = 50) -> list[AuditEntry]:
    """Newest first, keyset-paginated by id (`before`)."""
    query = select(AuditEntry)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if actor:
        query = query.where(AuditEntry.actor_label.ilike(f"%{actor}%", escape="\\"))
    if target:
        query = query.where(or_(AuditEntry.target_label.ilike(f"%{target}%"), AuditEntry.target_id == target,
                                AuditEntry.target_type == target))
    if since:
        query = query.where(AuditEntry.at >= since)
    if before:
        query = query.where(AuditEntry.id < before)
    return list(await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit)))


async def for_target(session: AsyncSession, target_type: str, target_id: object, limit: int = 50) -> list[AuditEntry]:
    return list(await session.scalars(
        select(AuditEntry).where(AuditEntry.target_type == target_type, AuditEntry.target_id == str(target_id))
        .order_by(AuditEntry.id.desc()).limit(limit)))


async def known_actions(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(AuditEntry.action).distinct().order_by(AuditEntry.action)))
