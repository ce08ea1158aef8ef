"""Peers measured side by side with us in the day run (bench/day_bench.py): other forum software serving its
topic page, signed in, from one worker, on the same embedded PostgreSQL, with the same 50 replies.

Spirit (`django-spirit` from the package registry) lives in a bench-only virtualenv under var/bench/peers/spirit,
created and installed by the bench itself when missing (pip, from the configured registry); the site is made by
Spirit's own `spirit startproject` there, with a settings module written here (DEBUG off, our PostgreSQL) and its
admin setting "comments per page" at 50, so the page shows what ours shows. Nothing of Spirit's is an app dependency or committed.
Its database `bench_peer_spirit` is rebuilt when SPIRIT_SETUP_VERSION or the content changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx

from community.platform.db import asyncpg_args
from community.settings import ROOT

PEERS_DIR = ROOT / "var" / "bench" / "peers"
SPIRIT_PACKAGES = ["django-spirit==0.14.3", "gunicorn", "psycopg2-binary"]
SPIRIT_SETUP_VERSION = 2
SPIRIT_DB = "bench_peer_spirit"

SPIRIT_SETTINGS = '''"""Bench settings for Spirit (written by bench/peers.py): production-like, our embedded PostgreSQL."""
from .base import *  # noqa

DEBUG = False
SECRET_KEY = "bench-spirit-" + "s" * 40
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.postgresql", "NAME": {name!r}, "USER": {user!r},
                          "PASSWORD": {password!r}, "HOST": {host!r}, "PORT": {port!r}, "CONN_MAX_AGE": 600}}}}
ST_SITE_URL = "http://127.0.0.1/"
LOGGING = {{"version": 1, "disable_existing_loggers": False}}
'''

# Run inside Spirit's venv (`manage.py shell -c`): one member, one topic with the given opening post and replies,
# a signed-in session; prints the topic's path and the session cookie as JSON.
SPIRIT_POPULATE = '''
import json, sys
from django.contrib.auth import get_user_model
from django.test import Client
from spirit.category.models import Category
from spirit.comment.models import Comment
from spirit.core.utils import markdown as md
from spirit.topic.models import Topic
from djconfig.models import Config
# Spirit's admin setting (djconfig, in the database): 50 comments a page, as ours shows 50 posts.
Config.objects.update_or_create(key="comments_per_page", defaults={"value": "50"})
data = json.load(open(sys.argv[-1] if sys.argv[-1].endswith(".json") else "content.json"))
User = get_user_model()
user, _ = User.objects.get_or_create(username="bench", defaults={"email": "bench@example.org"})
user.set_password("bench-password-1"); user.save()
category = Category.objects.filter(is_private=False, parent=None).exclude(title__iexact="private").first()
if category is None:
    category = Category.objects.create(title="Bench", slug="bench")
topic = Topic.objects.create(user=user, category=category, title=data["title"])
for body in data["posts"]:
    Comment.objects.create(user=user, topic=topic, comment=body, comment_html=md.Markdown()(body))
topic.comment_count = len(data["posts"]); topic.save()
client = Client(); client.force_login(user)
print("SPIRITJSON " + json.dumps({"path": topic.get_absolute_url(), "session": client.cookies["sessionid"].value}))
'''


class PeerUnavailable(Exception):
    """A peer that cannot be set up here (no registry, an install that failed); the message says why."""


class Peer:
    """A peer's server process on 127.0.0.1, with what wrk needs to ask for its topic page."""

    def __init__(self, name: str, process: subprocess.Popen, port: int, path: str, cookie: str,
                 log_path: Path, concurrency: int) -> None:
        self.name, self.process, self.port, self.cookie = name, process, port, cookie
        self.url = f"http://127.0.0.1:{port}{path}"
        self.log_path, self.concurrency = log_path, concurrency

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 900) -> str:
    result = subprocess.run(argv, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise PeerUnavailable(f"{' '.join(argv[:3])} failed: {(result.stderr or result.stdout)[-800:]}")
    return result.stdout


def spirit_venv() -> Path:
    """var/bench/peers/spirit/venv with Spirit, gunicorn and psycopg2 installed (made once)."""
    home = PEERS_DIR / "spirit"
    venv = home / "venv"
    stamp = venv / ".installed"
    if not stamp.exists():
        shutil.rmtree(venv, ignore_errors=True)
        home.mkdir(parents=True, exist_ok=True)
        print("  peers: installing Spirit into var/bench/peers/spirit/venv (once) ...", flush=True)
        _run([sys.executable, "-m", "venv", str(venv)], home)
        _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *SPIRIT_PACKAGES], home)
        stamp.write_text(" ".join(SPIRIT_PACKAGES) + "\n")
    return venv


def spirit_site(venv: Path, server: str) -> tuple[Path, dict[str, str]]:
    """Spirit's own project template (`spirit startproject`), plus our settings module; returns the site
    directory and the environment its commands run with."""
    site = PEERS_DIR / "spirit" / "site"
    if not (site / "manage.py").exists():
        site.mkdir(parents=True, exist_ok=True)
        _run([str(venv / "bin" / "spirit"), "startproject", "benchsite", "--path", str(site)], site,
             env={**os.environ, "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '')}"})
    parts = urlsplit(server)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "127.0.0.1"])[0]
    settings = SPIRIT_SETTINGS.format(name=SPIRIT_DB, user=parts.username or "postgres",
                                      password=parts.password or "", host=host, port=str(parts.port or ""))
    (site / "benchsite" / "settings" / "bench.py").write_text(settings)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "benchsite.settings.bench", "PYTHONDONTWRITEBYTECODE": "1",
           "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '')}"}
    env.pop("PYTHONPATH", None)
    return site, env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def spirit_content(day_url: str, thread_id: int, count: int = 50) -> dict[str, Any]:
    """The title and the first `count` posts' Markdown of our 50-post thread page: Spirit serves the same words
    (its topic page shows the opening post as its first comment, as ours does)."""
    conn = await asyncpg.connect(**asyncpg_args(day_url))
    try:
        title = await conn.fetchval("SELECT title FROM threads WHERE id = $1", thread_id)
        posts = [r["body_md"] for r in await conn.fetch(
            "SELECT body_md FROM posts WHERE thread_id = $1 ORDER BY position LIMIT $2", thread_id, count)]
    finally:
        await conn.close()
    return {"title": title, "posts": posts}


async def _admin(server: str, statement: str) -> Any:
    conn = await asyncpg.connect(**{**asyncpg_args(server), "database": "postgres"})
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


def spirit_db_exists(server: str) -> bool:
    return bool(asyncio.run(_admin(server, f"SELECT 1 FROM pg_database WHERE datname = '{SPIRIT_DB}'")))


def recreate_db(server: str) -> None:
    asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{SPIRIT_DB}" WITH (FORCE)'))
    asyncio.run(_admin(server, f'CREATE DATABASE "{SPIRIT_DB}"'))


def _prepare_spirit(server: str, venv: Path, content: dict[str, Any]) -> dict[str, str]:
    """Database, migrations, cache tables and the topic; cached in var/bench/peers/spirit/setup.json while the
    setup version and the content are the same. Returns {"path", "session"}."""
    site, env = spirit_site(venv, server)
    key = hashlib.sha256(json.dumps([SPIRIT_SETUP_VERSION, content], sort_keys=True).encode()).hexdigest()
    marker = PEERS_DIR / "spirit" / "setup.json"
    if marker.exists():
        saved = json.loads(marker.read_text())
        if saved.get("key") == key and spirit_db_exists(server):
            return saved
    recreate_db(server)
    python = str(venv / "bin" / "python")
    _run([python, "manage.py", "migrate", "--noinput"], site, env)
    _run([python, "manage.py", "createcachetable"], site, env)
    (site / "content.json").write_text(json.dumps(content))
    out = _run([python, "manage.py", "shell", "-c", SPIRIT_POPULATE], site, env)
    line = next((ln for ln in out.splitlines() if ln.startswith("SPIRITJSON ")), None)
    if line is None:
        raise PeerUnavailable(f"Spirit's topic was not created: {out[-500:]}")
    saved = {**json.loads(line.removeprefix("SPIRITJSON ")), "key": key}
    marker.write_text(json.dumps(saved))
    return saved


def start_spirit(server: str, content: dict[str, Any]) -> Peer:
    """Spirit's topic page from one gunicorn sync worker (its documented deployment), signed in."""
    try:
        venv = spirit_venv()
    except (OSError, subprocess.SubprocessError) as exc:
        raise PeerUnavailable(f"could not install Spirit: {exc}") from exc
    setup = _prepare_spirit(server, venv, content)
    site, env = spirit_site(venv, server)
    port = free_port()
    log_path = ROOT / "var" / "bench" / "peer-spirit.log"
    log = open(log_path, "wb")  # noqa: SIM115  (closed with the process)
    process = subprocess.Popen([str(venv / "bin" / "gunicorn"), "benchsite.wsgi:application", "--workers", "1",
                                "--bind", f"127.0.0.1:{port}", "--timeout", "60"], cwd=str(site), env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    peer = Peer("spirit", process, port, setup["path"], f"sessionid={setup['session']}", log_path, concurrency=4)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PeerUnavailable("gunicorn exited: " + log_path.read_text(errors="replace")[-1500:])
        try:
            response = httpx.get(peer.url, headers={"Cookie": peer.cookie}, timeout=10)
            last = content["posts"][-1][:40] if content["posts"] else ""
            if response.status_code == 200 and "logout" in response.text and last in response.text:
                return peer
            if response.status_code == 200:
                peer.stop()
                raise PeerUnavailable("Spirit's topic page does not show a signed-in member and all 50 comments")
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    peer.stop()
    raise PeerUnavailable("Spirit did not answer within 60 s")


# name -> start(server URL, content) -> Peer. flaskbb or misago would go here.
PEERS: dict[str, Callable[[str, dict[str, Any]], Peer]] = {"spirit": start_spirit}
