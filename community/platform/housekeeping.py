"""Retention jobs, each run under a PostgreSQL advisory lock so many hosts can schedule them safely."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts import actions as accounts
from community.platform.drafts import store as drafts
from community.platform.mail import status as mail_status
from community.platform.pillar import Job

LOCK_ID = 727_001  # one advisory lock for the whole housekeeping run


async def run(session: AsyncSession, jobs: Sequence[Job]) -> dict[str, int]:
    """Expired sessions, old mail (sent: 30 days, dead letters: 90), drafts untouched for 30 days, then every pillar's jobs (Pillar.housekeeping), once across all hosts."""
    got = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": LOCK_ID})
    if not got:
        return {"skipped (another host is running it)": 1}
    counts = {"expired sessions": await accounts.mark_used_sessions_clean(session)}
    counts.update(await mail_status.prune(session))
    counts.update(await drafts.purge(session))
    for job in jobs:
        counts.update(await job(session))
    return counts
