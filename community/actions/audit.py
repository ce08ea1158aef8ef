"""The one way to write to the append-only audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.models.moderation import AuditEntry


async def record(session: AsyncSession, actor: Any, action: str, *, target_type: str | None = None,
                 target_id: object = None, target_label: str | None = None, reason: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
    """`actor` is a Viewer (or None for the system/CLI). Never pass an anonymous author here."""
    await session.execute(insert(AuditEntry).values(
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "display_name", None) or "system",
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        target_label=(target_label or None) and target_label[:200],
        reason=reason or None,
        details=details or {},
    ))
