"""Info item: `community invite` printed links on port 8000 whatever the server's port. Links use BASE_URL; without
it the guessed address follows HOST/PORT (and `serve --host/--port`), and the command says it is a guess."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from community.cli import serving_settings
from community.settings import Settings


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "community.cli", *args], env={"PATH": "/usr/bin:/bin", **env},
                          capture_output=True, text=True, timeout=60)


async def test_invite_links_follow_base_url_or_say_they_guess(live_database, tmp_path):
    env = {"DATABASE_URL": live_database, "VAR_DIR": str(tmp_path)}
    result = await asyncio.to_thread(_run, {**env, "PORT": "9123"}, "invite", "--role", "resident")
    assert result.returncode == 0, result.stderr
    assert "http://127.0.0.1:9123/join/" in result.stdout
    assert "BASE_URL is not set" in result.stderr
    result = await asyncio.to_thread(_run, {**env, "PORT": "9123", "BASE_URL": "https://care.example.org"},
                                     "invite", "--role", "resident")
    assert result.returncode == 0, result.stderr
    assert "https://care.example.org/join/" in result.stdout and "BASE_URL" not in result.stderr


def test_serve_port_moves_the_guessed_address_not_base_url(tmp_path):
    guessed = Settings.from_env({"VAR_DIR": str(tmp_path)}, dotenv=tmp_path / ".env")
    assert serving_settings(guessed, None, 9200).base_url == "http://127.0.0.1:9200"
    assert serving_settings(guessed, "0.0.0.0", None).base_url == "http://0.0.0.0:8000"
    named = Settings.from_env({"VAR_DIR": str(tmp_path), "BASE_URL": "https://care.example.org"},
                              dotenv=tmp_path / ".env")
    moved = serving_settings(named, None, 9200)
    assert moved.base_url == "https://care.example.org" and moved.port == 9200
