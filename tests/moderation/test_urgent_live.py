"""Escalation without a request, on committed data: two processes never escalate one item twice, and a live
`community serve` escalates and refreshes the moderators' urgent count on its own, with no request arriving."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from community.platform.accounts import actions as accounts
from community.platform.db import Database
from community.platform.review import urgent
from community.platform.review.models import Notification, ReviewItem, UrgentAlert
from tests.conftest import create_member

pytestmark = pytest.mark.live


async def _waiting_item(db: Database, minutes_ago: int) -> int:
    """An open, unclaimed urgent item whose alert was raised `minutes_ago` minutes ago (committed)."""
    async with db.transaction() as session:
        item = ReviewItem(target_kind="post", target_id=987_654, priority=0, reasons=["crisis"], source="crisis",
                          urgent=True)
        session.add(item)
        await session.flush()
        session.add(UrgentAlert(item_id=item.id, raised_at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
                                notified=[]))
        return item.id


async def test_two_processes_escalating_at_once_escalate_each_item_once(live_database: str) -> None:
    first, second = Database(live_database, pool_size=1), Database(live_database, pool_size=1)
    try:
        staff = [await create_member(first, role) for role in ("moderator", "moderator", "admin")]
        item_id = await _waiting_item(first, 20)
        async with first.transaction() as one:
            assert await urgent.escalate_due(one, minutes=15) == [item_id]

            async def other_process() -> list[int]:
                async with second.transaction() as two:
                    return await urgent.escalate_due(two, minutes=15)

            racing = asyncio.create_task(other_process())
            await asyncio.sleep(0.5)
            assert not racing.done()  # waiting on the row the first process is escalating
        assert await racing == []  # after the first committed, the row no longer qualifies
        async with first.transaction() as session:
            told = await session.scalar(select(func.count()).select_from(Notification).where(
                Notification.kind == "urgent", Notification.user_id.in_([s.id for s in staff])))
        assert told == len(staff)
    finally:
        await first.dispose()
        await second.dispose()


async def test_a_live_server_escalates_and_counts_with_no_request(live_database: str, live_server_factory) -> None:
    db = Database(live_database, pool_size=1)
    try:
        moderator = await create_member(db, "moderator")
        item_id = await _waiting_item(db, 20)
        server = live_server_factory(live_database, extra_env={"URGENT_CHECK_SECONDS": "0.3",
                                                               "URGENT_ESCALATION_MINUTES": "15"})
        deadline = time.monotonic() + 15
        escalated = None
        while time.monotonic() < deadline and escalated is None:  # nothing asks the server anything meanwhile
            await asyncio.sleep(0.2)
            async with db.transaction() as session:
                escalated = await session.scalar(select(UrgentAlert.escalated_at)
                                                 .where(UrgentAlert.item_id == item_id))
        assert escalated is not None
        async with db.transaction() as session:
            texts = list(await session.scalars(select(Notification.text).where(Notification.user_id == moderator.id)))
            # A session that has checked a second factor, as a moderator's must (web.factor_guard).
            token = await accounts.create_session(session, moderator.id, 1, factor_at=accounts.now())
        assert len(texts) == 1 and texts[0].startswith("Escalated")
        async with httpx.AsyncClient(base_url=server.url, cookies={"session": token}) as client:
            home = await client.get("/")  # the home page reads nothing of the queue: the count is the process's
        assert 'data-urgent-count aria-label="1 urgent">1<' in home.text
    finally:
        await db.dispose()
