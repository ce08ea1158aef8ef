"""What admins see of the outbox: counts by status, recent messages, dead letters, and sending a dead one again."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.errors import Invalid, NotFound
from community.platform.mail.models import STATUSES, OutboxMessage
from community.platform.review import audit
from community.platform.viewer import Viewer


@dataclass(frozen=True)
class OutboxView:
    counts: dict[str, int]
    recent: list[OutboxMessage]
    dead: list[OutboxMessage]


async def overview(session: AsyncSession, *, limit: int = 50) -> OutboxView:
    """Counts, the newest messages and the newest dead letters (metadata only: bodies are never shown)."""
    rows = await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    counts = dict.fromkeys(STATUSES, 0) | {status: count for status, count in rows}
    recent = await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit))
    dead = await session.scalars(select(OutboxMessage).where(OutboxMessage.status == "dead")
                                 .order_by(OutboxMessage.id.desc()).limit(limit))
    return OutboxView(counts=counts, recent=list(recent), dead=list(dead))


async def retry_dead(session: AsyncSession, actor: Viewer, message_id: int) -> None:
    """Puts a dead letter back in the queue with a fresh count of tries (after the cause is fixed)."""
    row = await session.get(OutboxMessage, message_id, with_for_update=True)
    if row is None:
        raise NotFound("No such message.")
    if row.status != "dead":
        raise Invalid(f"This message is {row.status}, not a dead letter.")
    await session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                          .values(status="queued", attempts=0, next_attempt_at=func.now()))
    await audit.record(session, actor, "mail.retry", target_type="mail", target_id=message_id,
                       target_label=row.template)


async def prune(session: AsyncSession) -> dict[str, int]:
    """Housekeeping: sent messages are kept 30 days (who got what, when), dead letters 90."""
    sent = await session.execute(OutboxMessage.__table__.delete().where(
        OutboxMessage.status == "sent", OutboxMessage.created_at < func.now() - func.make_interval(0, 0, 0, 30)))
    dead = await session.execute(OutboxMessage.__table__.delete().where(
        OutboxMessage.status == "dead", OutboxMessage.created_at < func.now() - func.make_interval(0, 0, 0, 90)))
    return {"old mail": (sent.rowcount or 0) + (dead.rowcount or 0)}
