"""Idempotent seed content: every pillar's seeders, in the order the app lists the pillars."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from community.app import PILLARS
from community.platform.pillar import Pillar


async def run(session: AsyncSession, pillars: Sequence[Pillar] = PILLARS) -> dict[str, int]:
    """Runs every pillar's seeders; running it twice creates nothing new and keeps admins' edits."""
    counts: dict[str, int] = {}
    for pillar in pillars:
        for seeder in pillar.seeders:
            counts.update(await seeder(session))
    return counts
