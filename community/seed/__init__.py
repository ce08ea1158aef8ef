"""Idempotent seed content; each domain module listed here exposes `async def seed(session) -> dict[str, int]`."""

from __future__ import annotations

import importlib

from sqlalchemy.ext.asyncio import AsyncSession

SEEDERS = [
    "community.seed.categories",
    "community.seed.prompts",
    "community.seed.rooms",
]


async def run(session: AsyncSession) -> dict[str, int]:
    """Runs every available seeder; running it twice creates nothing new and keeps admins' edits."""
    counts: dict[str, int] = {}
    for name in SEEDERS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        counts.update(await module.seed(session))
    return counts
