"""Every session the app opens runs with db.SERVER_SETTINGS: the ORM's, the raw pool's, and the named ones
(listeners, the rooms' I/O pool) that add their application_name.

JIT is the setting that matters. PostgreSQL compiles any statement whose estimated cost is over
jit_above_cost. The search statement's estimate is far over it, because of the branch that looks further back,
which it almost never runs. With JIT on, as in the postgres:17 image the deploy uses, a search paid ~27 ms of
compilation for ~3 ms of work. The embedded server has no LLVM, so the setting is asserted here, not timed.
"""

import asyncpg
from sqlalchemy import text

from community.platform.db import SERVER_SETTINGS, Database, asyncpg_args


def test_the_settings_turn_jit_off() -> None:
    assert SERVER_SETTINGS["jit"] == "off"


async def test_orm_and_raw_sessions_have_jit_off(live_database: str) -> None:
    database = Database(live_database)
    try:
        async with database.read() as session:
            assert (await session.execute(text("SHOW jit"))).scalar_one() == "off"
        async with database.transaction() as session:
            assert (await session.execute(text("SHOW jit"))).scalar_one() == "off"
        async with database.raw() as connection:
            assert await connection.fetchval("SHOW jit") == "off"
    finally:
        await database.dispose()


async def test_named_sessions_keep_their_name_and_the_settings(live_database: str) -> None:
    connection = await asyncpg.connect(**asyncpg_args(live_database, "community-test-name"))
    try:
        assert await connection.fetchval("SHOW jit") == "off"
        assert await connection.fetchval("SHOW application_name") == "community-test-name"
    finally:
        await connection.close()
    plain = await asyncpg.connect(**asyncpg_args(live_database))
    try:
        assert await plain.fetchval("SHOW jit") == "off"
        assert await plain.fetchval("SHOW application_name") != "community-test-name"
    finally:
        await plain.close()
