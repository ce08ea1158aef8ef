"""The one way to write to the append-only audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.anonymity import Anonymity
from community.platform.review.models import AuditEntry

SEALED_PREFIX = "sealed:"


async def record(session: AsyncSession, actor: Any, action: str, *, target_type: str | None = None,
                 target_id: object = None, target_label: str | None = None, reason: str | None = None,
                 details: dict[str, Any] | None = None, seal_reason_with: Anonymity | None = None) -> None:
    """`actor` is a Viewer (or None for the system/CLI). Never pass an anonymous author here.

    `seal_reason_with` (the anonymity service) encrypts the reason: for sanctions on anonymous writing, the same
    reason is stored on the member's row, and a plain copy here would link the member to the writing in a
    database dump. Admins still read it in the app (see `readable_reason`).
    """
    if reason and seal_reason_with:
        reason = SEALED_PREFIX + seal_reason_with.seal(reason)
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


def readable_reason(reason: str | None, anonymity: Anonymity) -> str:
    """The reason as admins read it: sealed reasons are opened with the app's key."""
    if not reason:
        return ""
    if reason.startswith(SEALED_PREFIX):
        try:
            return anonymity.unseal(reason[len(SEALED_PREFIX):])
        except Exception:  # a key rotated since: say so rather than fail the page
            return "(sealed with an earlier key)"
    return reason
