"""The `community` command: every subcommand has --help; invite and create-admin print working links."""

import asyncio
import subprocess
import sys

import asyncpg
import pytest

from community.cli import build_parser

SUBCOMMANDS = ["serve", "mailer", "migrate", "seed", "create-admin", "invite", "reset-link", "reset-factors",
               "housekeeping", "anonymity"]


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: community " + command in capsys.readouterr().out


def test_serve_has_workers():
    args = build_parser().parse_args(["serve", "--workers", "3"])
    assert args.workers == 3


async def test_invite_and_create_admin_commands(live_database, tmp_path):
    env = {"DATABASE_URL": live_database, "VAR_DIR": str(tmp_path), "BASE_URL": "http://example.test",
           "PATH": "/usr/bin:/bin"}
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "community.cli", *args], env=env, capture_output=True,
                              text=True, timeout=60)

    result = await asyncio.to_thread(run, "invite", "--role", "attending", "--days", "3")
    assert result.returncode == 0, result.stderr
    assert "http://example.test/join/" in result.stdout
    result = await asyncio.to_thread(run, "create-admin")
    assert result.returncode == 0, result.stderr
    assert "http://example.test/link/" in result.stdout
    result = await asyncio.to_thread(run, "invite", "--role", "wizard")
    assert result.returncode != 0


async def test_serve_refuses_until_anonymity_rekey_has_run(live_database, tmp_path):
    """A database migration 0018 marked as holding member-wide tags: serve says what to run, rekey clears it."""
    connection = await asyncpg.connect(live_database)
    try:
        await connection.execute("INSERT INTO anon_rekey_pending (id) VALUES (1)")
    finally:
        await connection.close()
    env = {"DATABASE_URL": live_database, "VAR_DIR": str(tmp_path), "ANON_KEY": "cli-anon-key-" + "k" * 40,
           "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "community.cli", *args], env=env, capture_output=True,
                              text=True, timeout=60)

    refused = await asyncio.to_thread(run, "serve", "--no-bootstrap", "--port", "9")
    assert refused.returncode != 0 and "community anonymity rekey" in refused.stderr
    rekeyed = await asyncio.to_thread(run, "anonymity", "rekey")
    assert rekeyed.returncode == 0, rekeyed.stderr
    assert "anonymity rekey:" in rekeyed.stdout
    connection = await asyncpg.connect(live_database)
    try:
        assert await connection.fetchval("SELECT count(*) FROM anon_rekey_pending") == 0
    finally:
        await connection.close()


def test_production_refuses_without_secret(tmp_path):
    env = {"PRODUCTION": "1", "DATABASE_URL": "postgresql://x@localhost/x", "VAR_DIR": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "community.cli", "migrate"], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY" in (result.stdout + result.stderr)
