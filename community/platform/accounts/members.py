"""Members as the composer's @ autocomplete shows them: handle, name and role. It lists no e-mail addresses, no
suspended or deleted members, and nothing anyone wrote (the member card is the mentorship pillar's, profiles.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts.models import User
from community.platform.errors import Invalid

SUGGEST_LIMIT = 8
QUERY_MAX = 30


def _active(now: datetime):  # type: ignore[no-untyped-def]
    """Not deleted, not suspended now (a suspension over anonymous writing is not on the row, and stays so)."""
    return (User.deleted_at.is_(None)
            & (User.suspended_at.is_(None) | (User.suspended_until.isnot(None) & (User.suspended_until <= now))))


def check_query(raw: str) -> str:
    """The typed part after "@": at most 30 characters of a handle or name (an empty one suggests nothing)."""
    value = " ".join(raw.removeprefix("@").split())
    if "\x00" in value or len(value) > QUERY_MAX:
        raise Invalid(fields={"q": f"Type at most {QUERY_MAX} characters after the @."})
    return value


def _like(value: str) -> str:
    return value.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def suggest(session: AsyncSession, viewer_id: int, query: str) -> list[dict[str, str]]:
    """Up to SUGGEST_LIMIT active members whose handle, or a word of whose name, starts with `query`: handles
    first. The viewer is left out (nobody needs to mention themselves)."""
    if not query:
        return []
    prefix = _like(query) + "%"
    handle_first = func.lower(User.handle).like(prefix, escape="\\")
    rows = (await session.execute(
        select(User.handle, User.display_name, User.role)
        .where(_active(datetime.now(UTC)), User.id != viewer_id,
               or_(handle_first, func.lower(User.display_name).like(prefix, escape="\\"),
                   func.lower(User.display_name).like("% " + prefix, escape="\\")))
        .order_by(handle_first.desc(), User.display_name, User.handle).limit(SUGGEST_LIMIT))).all()
    return [{"handle": handle, "name": name, "role": role} for handle, name, role in rows]
