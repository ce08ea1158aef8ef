"""The queue's pulse: how many urgent and open items there are, for the moderators' navigation on every page
and for their pages' small poll; and the background task that escalates unclaimed urgent items.

Why a poll and not a socket: the count changes a few times a day, moderators are few, and an answer from
memory with an ETag costs one small request every POLL_SECONDS (10) per open staff tab (a 304 when nothing
changed). A poll holds no connection open, so it needs nothing from nginx, survives a process restart without a
reconnect protocol, and never holds up a graceful shutdown (a streamed response would, for uvicorn's full
drain timeout). Urgency is carried by the on-call alert and its escalation, not by this page's last seconds.

Each process keeps the last state it read (`Pulse.state`), refreshed by `watch` every URGENT_CHECK_SECONDS
and by every poll, so the navigation shows the count without a query per page.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.db import Database
from community.platform.mail.outbox import Outbox
from community.platform.review import urgent
from community.settings import Settings

log = logging.getLogger(__name__)

POLL_SECONDS = 10  # how often a moderator's open page asks (static/js/staff.js reads it from the page)

_STATE_SQL = text("""
SELECT count(*) FILTER (WHERE urgent) AS urgent, count(*) AS open,
       coalesce(string_agg(id || ':' || coalesce(claimed_by, 0) || ':' || priority, ',' ORDER BY id), '') AS shape
  FROM review_items WHERE resolved_at IS NULL
""")


@dataclass(frozen=True)
class QueueState:
    urgent: int
    open: int
    etag: str  # changes whenever an open item appears, goes, is claimed or released, or changes priority

    def as_json(self) -> dict[str, object]:
        return {"urgent": self.urgent, "open": self.open, "etag": self.etag}


class Pulse:
    """The last queue state this process read. `urgent` is what the navigation shows (0 before the first read)."""

    def __init__(self) -> None:
        self.state: QueueState | None = None

    @property
    def urgent(self) -> int:
        return self.state.urgent if self.state is not None else 0

    async def read(self, session: AsyncSession) -> QueueState:
        row = (await session.execute(_STATE_SQL)).one()
        etag = hashlib.sha256(f"{row.urgent}/{row.open}/{row.shape}".encode()).hexdigest()[:20]
        self.state = QueueState(int(row.urgent), int(row.open), etag)
        return self.state


async def tick(db: Database, settings: Settings, pulse: Pulse, outbox: Outbox,
               now: datetime | None = None) -> list[int]:
    """One round of the background task: escalate what is due, email whom the alerts told, then refresh the
    count. Returns the ids of the items escalated in this round."""
    async with db.transaction() as session:
        escalated = await urgent.escalate_due(session, minutes=settings.urgent_escalation_minutes,
                                              now=now or datetime.now(UTC))
    async with db.transaction() as session:
        await urgent.mail_alerts(session, outbox)
    async with db.transaction() as session:
        await pulse.read(session)
    if escalated:
        log.info("urgent items escalated to every moderator: %s", escalated)
    return escalated


async def watch(db: Database, settings: Settings, pulse: Pulse, outbox: Outbox) -> None:
    """Runs `tick` every URGENT_CHECK_SECONDS until cancelled, in every `community serve` process."""
    while True:
        try:
            await tick(db, settings, pulse, outbox)
        except Exception as exc:  # noqa: BLE001  (loud in the log; try again next round)
            log.warning("urgent-item check failed: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(settings.urgent_check_seconds)
