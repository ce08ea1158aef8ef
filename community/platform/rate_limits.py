"""Posting rate limits: one rule, "at most N in a minute", for every writing surface.

New writing is counted from the rows it left, by the columns that already say whose it is (a member id on named
writing, the keyed author tag on anonymous writing), so a limit stores nothing new about who wrote what.
Edits leave no row to count (an anonymous reply keeps only the day of its edit, on purpose), so they are counted
in this process's memory, by member, for one window, and never written anywhere: with several worker processes
the edit limit applies per process, which is enough for what it is for, a brake on floods. New anonymous and
private writing is counted the same way (`UNRECORDED`): its rows keep only the day, and no tag that all of a
member's pieces share, so there is nothing in the database to count them by.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.errors import RateLimited
from community.platform.viewer import Viewer

WINDOW_SECONDS = 60


def refuse_if_over(count: int, oldest_age: float, limit: int, what: str) -> None:
    """Raises RateLimited when `count` events in the window reach `limit`; the wait is until the oldest leaves."""
    if count < limit:
        return
    wait = max(1, int(WINDOW_SECONDS - oldest_age) + 1)
    raise RateLimited(f"You are posting quickly: at most {limit} {what} a minute. Your draft is kept below; "
                      f"please try again in {wait} seconds.", wait)


_WINDOW_START = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, WINDOW_SECONDS)  # built once


async def check_recent(session: AsyncSession, viewer: Viewer, *, limit: int, when: Any, mine: Any,
                       what: str = "posts", unrecorded: str | None = None) -> None:
    """Counts the viewer's rows whose `when` column falls in the last minute (`mine`: the WHERE clause that
    selects the viewer's rows), and with `unrecorded`, what `UNRECORDED` noted for that surface (anonymous
    writing, counted together with the signed rows). A limit of 0 or less turns it off; moderators are never
    limited."""
    if limit <= 0 or viewer.is_moderator:
        return
    count, oldest_age = (await session.execute(
        select(func.count(), func.extract("epoch", func.now() - func.min(when)))
        .where(mine, when > _WINDOW_START)
    )).one()
    oldest = float(oldest_age or 0)
    if unrecorded is not None:
        more, more_oldest = UNRECORDED.recent(viewer, unrecorded)
        count, oldest = count + more, max(oldest, more_oldest)
    refuse_if_over(count, oldest, limit, what)


def check_counted(viewer: Viewer, count: int, oldest_age: Any, *, limit: int, what: str = "posts") -> None:
    """check_recent for signed rows the caller counted in a statement of its own (the same window: rows newer
    than WINDOW_SECONDS; `oldest_age`: seconds since the oldest of them, None when there is none)."""
    if limit <= 0 or viewer.is_moderator:
        return
    refuse_if_over(count, float(oldest_age or 0), limit, what)


class RecentEdits:
    """When each member last edited, per surface, for one window; in memory only, pruned as it goes."""

    def __init__(self) -> None:
        self._times: dict[tuple[str, int], deque[float]] = {}

    def _recent(self, key: tuple[str, int], now: float) -> deque[float]:
        times = self._times.get(key, deque())
        while times and now - times[0] >= WINDOW_SECONDS:
            times.popleft()
        return times

    def recent(self, viewer: Viewer, surface: str) -> tuple[int, float]:
        """(how many in the window, the age in seconds of the oldest of them)."""
        now = time.monotonic()
        times = self._recent((surface, viewer.id), now)
        return len(times), now - times[0] if times else 0.0

    def check(self, viewer: Viewer, surface: str, *, limit: int, what: str = "edits") -> None:
        if limit <= 0 or viewer.is_moderator:
            return
        refuse_if_over(*self.recent(viewer, surface), limit, what)

    def note(self, viewer: Viewer, surface: str) -> None:
        """Called once an edit is saved."""
        now = time.monotonic()
        if len(self._times) > 10_000:  # drop members who have not edited within the window
            self._times = {k: v for k, v in self._times.items() if v and now - v[-1] < WINDOW_SECONDS}
        times = self._recent((surface, viewer.id), now)
        times.append(now)
        self._times[(surface, viewer.id)] = times


# One per process: edits are never counted in the database (see the module docstring).
EDITS = RecentEdits()
# One per process: new anonymous and private writing, which leaves nothing in the database to count it by.
UNRECORDED = RecentEdits()
