"""Alembic environment: runs migrations over asyncpg with the URL the caller passes in."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

# Every table, so the metadata is whole (Alembic's autogenerate compares against it).
from community.discussions import models as _discussions_models  # noqa: F401
from community.platform.accounts import models as _accounts_models  # noqa: F401
from community.platform.base import Base
from community.platform.db import async_url
from community.platform.drafts import models as _drafts_models  # noqa: F401
from community.platform.mail import models as _mail_models  # noqa: F401
from community.platform.review import models as _review_models  # noqa: F401
from community.reflections import models as _reflections_models  # noqa: F401
from community.rooms import calendar_models as _calendar_models  # noqa: F401
from community.rooms import models as _rooms_models  # noqa: F401

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run() -> None:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    asyncio.run(_run_async(url))


run()
