"""deploy/backup.sh and deploy/restore.sh for real: dump a cloned database with data, restore it into a fresh one,
compare every table's row count, and check that a non-empty database is refused unless --force."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import asyncpg

from community.platform.db import Database, asyncpg_args, with_database
from community.settings import ROOT
from tests.conftest import RUN, _admin_execute, clone_database, create_member

BACKUP = ROOT / "deploy" / "backup.sh"
RESTORE = ROOT / "deploy" / "restore.sh"


async def _row_counts(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(**asyncpg_args(url))
    try:
        tables = [r["t"] for r in await conn.fetch(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) AS t FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1")]
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in tables}
    finally:
        await conn.close()


def _run_sync(script: Path, url: str, pg_bin: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "PG_BIN": str(pg_bin)}
    return subprocess.run(["bash", str(script), *args], env=env, capture_output=True, text=True, timeout=120)


async def _run(script: Path, url: str, pg_bin: Path, *args: str) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(_run_sync, script, url, pg_bin, *args)


async def test_backup_then_restore_into_a_fresh_database(database_urls, pg_bin, tmp_path):
    source = await clone_database(database_urls, f"{RUN}_bk_source")
    db = Database(source, pool_size=1)
    try:
        for role in ("resident", "attending", "resident", "moderator"):
            await create_member(db, role, name=f"Backup {role} é ✓")
    finally:
        await db.dispose()
    before = await _row_counts(source)
    assert before, "the cloned database has no tables"
    assert sum(before.values()) > 0

    dump = tmp_path / "community.dump"
    # A SQLAlchemy-style URL is accepted as well: it is what operators have in DATABASE_URL.
    backup = await _run(BACKUP, source.replace("postgresql://", "postgresql+asyncpg://", 1), pg_bin, str(dump))
    assert backup.returncode == 0, backup.stderr
    assert dump.stat().st_size > 0
    assert oct(dump.stat().st_mode & 0o777) == "0o600", "a dump holds personal data: owner-only"
    assert not dump.with_suffix(".dump.partial").exists()

    target_name = f"{RUN}_bk_target"
    await _admin_execute(database_urls["server"], f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)',
                         f'CREATE DATABASE "{target_name}"')
    target = with_database(database_urls["server"], target_name)
    restore = await _run(RESTORE, target, pg_bin, str(dump))
    assert restore.returncode == 0, restore.stderr
    assert await _row_counts(target) == before

    # Sequences came back too: the restored database takes new rows.
    db = Database(target, pool_size=1)
    try:
        await create_member(db, "resident", name="After restore")
    finally:
        await db.dispose()
    after = await _row_counts(target)
    assert sum(after.values()) == sum(before.values()) + 1

    # A non-empty database is refused and left untouched...
    refused = await _run(RESTORE, target, pg_bin, str(dump))
    assert refused.returncode != 0
    assert "not empty" in refused.stderr
    assert await _row_counts(target) == after

    # ...unless --force, which replaces the dump's objects with the backup's content.
    forced = await _run(RESTORE, target, pg_bin, "--force", str(dump))
    assert forced.returncode == 0, forced.stderr
    assert await _row_counts(target) == before


async def test_restore_refuses_bad_input(database_urls, pg_bin, tmp_path):
    not_a_dump = tmp_path / "garbage.dump"
    not_a_dump.write_bytes(b"not a pg_dump archive")
    target = with_database(database_urls["server"], f"{RUN}_bk_unused")
    result = await _run(RESTORE, target, pg_bin, str(not_a_dump))
    assert result.returncode != 0
    assert "not a pg_dump custom-format archive" in result.stderr

    usage = await _run(RESTORE, target, pg_bin)
    assert usage.returncode == 2 and "usage" in usage.stderr

    missing_url = await asyncio.to_thread(
        subprocess.run, ["bash", str(BACKUP), str(tmp_path / "x.dump")], capture_output=True, text=True,
        timeout=30, env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"})
    assert missing_url.returncode != 0 and "DATABASE_URL is not set" in missing_url.stderr
