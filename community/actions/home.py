"""The signed-in home page: what is worth a tired member's next five minutes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from community.actions import prompts, rooms
from community.viewer import Viewer

_RECENT_THREADS = text("""
SELECT t.id, t.title, t.reply_count, t.last_activity_at, c.name AS category_name, c.slug AS category_slug
FROM threads t JOIN categories c ON c.id = t.category_id
WHERE t.state = 'visible' AND c.archived_at IS NULL AND NOT t.pinned
ORDER BY t.last_activity_at DESC, t.id DESC
LIMIT :limit
""")


@dataclass
class Dashboard:
    prompt: Any = None
    live_rooms: list[tuple[Any, int]] = field(default_factory=list)
    upcoming_rooms: list[tuple[Any, int]] = field(default_factory=list)
    threads: list[Any] = field(default_factory=list)


async def dashboard(session: AsyncSession, viewer: Viewer, *, threads: int = 6, room_count: int = 3) -> Dashboard:
    listed = await rooms.list_rooms(session, viewer)
    recent = (await session.execute(_RECENT_THREADS, {"limit": threads})).mappings().all()
    return Dashboard(prompt=await prompts.prompt_of_week(session), live_rooms=listed["live"][:room_count],
                     upcoming_rooms=listed["upcoming"][:room_count], threads=list(recent))
