"""The signed-in home page: what is worth a tired member's next five minutes, one section per pillar."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from community.platform.pillar import HomeSection
from community.platform.viewer import Viewer


@dataclass
class Dashboard:
    prompt: Any = None
    live_rooms: list[tuple[Any, int]] = field(default_factory=list)
    upcoming_rooms: list[tuple[Any, int]] = field(default_factory=list)
    threads: list[Any] = field(default_factory=list)


async def dashboard(connection: Any, viewer: Viewer, sections: Sequence[HomeSection]) -> Dashboard:
    """`connection`: a raw asyncpg connection (Database.raw); each pillar's section runs one prepared statement."""
    board = Dashboard()
    for section in sections:
        for name, value in (await section(connection, viewer)).items():
            if not hasattr(board, name):
                raise KeyError(f"the home page has no section {name!r}")
            setattr(board, name, value)
    return board
