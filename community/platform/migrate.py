"""Applies Alembic migrations programmatically (no alembic.ini needed)."""

from __future__ import annotations

import asyncio
from functools import partial

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from community.platform.db import async_url
from community.settings import ROOT


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", async_url(url).replace("%", "%%"))
    config.attributes["url"] = url
    return config


def _upgrade_sync(config: Config, target: str, connection) -> None:  # type: ignore[no-untyped-def]
    config.attributes["connection"] = connection
    command.upgrade(config, target)


async def upgrade(url: str, target: str = "heads") -> None:
    """Brings the database to the newest revision of every branch (or to `target`, a revision: for the tests of
    a migration that changes rows)."""
    config = alembic_config(url)
    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(partial(_upgrade_sync, config, target))
    finally:
        await engine.dispose()


def head_revisions(url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


async def current_revisions(connection) -> set[str]:  # type: ignore[no-untyped-def]
    """The revisions the database is at (used by /readyz)."""
    return set(await connection.run_sync(lambda c: MigrationContext.configure(c).get_current_heads()))


def upgrade_blocking(url: str) -> None:
    asyncio.run(upgrade(url))
