"""Reading the audit log: filters for admins (every entry) and moderators (their scope), and a member's history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.review.models import AuditEntry

# What moderators see: moderation itself (decisions, claims, sanctions on members, watched words, rooms, prompts,
# on-call hours). Accounts, invitations, roles, mail, categories, unmasking and two-admin approvals are admins'.
MODERATOR_SCOPE = ("moderation.", "watched_word.", "room.", "prompt.", "oncall.", "member.suspend",
                   "member.unsuspend", "member.unsilence")


def scope_clause(scope: tuple[str, ...] | None):  # type: ignore[no-untyped-def]
    """None: every entry (admins); otherwise entries whose action starts with one of `scope`."""
    if scope is None:
        return None
    if not scope:
        return false()
    return or_(*(AuditEntry.action.startswith(prefix, autoescape=True) for prefix in scope))


async def search(session: AsyncSession, *, action: str = "", actor: str = "", target: str = "",
                 since: datetime | None = None, before: int | None = None, limit: int = 50,
                 scope: tuple[str, ...] | None = None) -> list[AuditEntry]:
    """Newest first, keyset-paginated by id (`before`); `scope` limits it to those actions (moderators)."""
    query = select(AuditEntry)
    clause = scope_clause(scope)
    if clause is not None:
        query = query.where(clause)
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


async def known_actions(session: AsyncSession, scope: tuple[str, ...] | None = None) -> list[str]:
    query = select(AuditEntry.action).distinct().order_by(AuditEntry.action)
    clause = scope_clause(scope)
    return list(await session.scalars(query if clause is None else query.where(clause)))
