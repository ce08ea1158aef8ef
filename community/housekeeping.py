"""Retention jobs, each run under a PostgreSQL advisory lock so many hosts can schedule them safely."""

from __future__ import annotations

import importlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from community.actions import accounts

LOCK_ID = 727_001  # one advisory lock for the whole housekeeping run
JOBS = ["community.actions.rooms"]  # modules that expose `async def purge_expired(session) -> dict[str, int]`


async def run(session: AsyncSession) -> dict[str, int]:
    got = await session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": LOCK_ID})
    if not got:
        return {"skipped (another host is running it)": 1}
    counts = {"expired sessions": await accounts.mark_used_sessions_clean(session)}
    for name in JOBS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        purge = getattr(module, "purge_expired", None)
        if purge is not None:
            counts.update(await purge(session))
    return counts
