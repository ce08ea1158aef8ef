"""Test fixtures on a real PostgreSQL: one migrated template database per run, a rolled-back transaction per test.

Without TEST_DATABASE_URL the embedded server under var/pgdata is used. Databases are named after the
pytest process id, so several runs can share one server.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import unquote

import asyncpg
import httpx
import pyotp
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from community.app import create_app
from community.platform.accounts.security import new_token, token_hash
from community.platform.db import Database, async_url, asyncpg_args, start_embedded, with_database
from community.settings import ROOT, Settings

RUN = f"t{os.getpid()}"
TEMPLATE_DB = f"{RUN}_tmpl"
MAIN_DB = f"{RUN}_main"
PASSWORD = "a calm and long test password"


def _server_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return start_embedded(ROOT / "var")


async def _admin_execute(server_url: str, *statements: str) -> None:
    conn = await asyncpg.connect(**{**asyncpg_args(server_url), "database": "postgres"})
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def _build_template(server_url: str) -> None:
    from community import seed
    from community.platform.migrate import upgrade

    await _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{MAIN_DB}"', f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"',
                         f'CREATE DATABASE "{TEMPLATE_DB}"')
    template_url = with_database(server_url, TEMPLATE_DB)
    await upgrade(template_url)
    db = Database(template_url, pool_size=1)
    try:
        async with db.transaction() as session:
            await seed.run(session)
    finally:
        await db.dispose()
    await _admin_execute(server_url, f'CREATE DATABASE "{MAIN_DB}" TEMPLATE "{TEMPLATE_DB}"')


async def _drop_stale(server_url: str) -> None:
    """Drops databases left by earlier runs whose pytest process is gone."""
    conn = await asyncpg.connect(**{**asyncpg_args(server_url), "database": "postgres"})
    try:
        names = [r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database WHERE datname ~ '^t[0-9]+_'")]
        for name in names:
            pid = int(re.match(r"t(\d+)_", name).group(1))
            try:
                os.kill(pid, 0)
                continue
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def server_url() -> str:
    return _server_url()


@pytest.fixture(scope="session")
async def database_urls(server_url: str) -> AsyncIterator[dict[str, str]]:
    await _drop_stale(server_url)
    await _build_template(server_url)
    yield {"server": server_url, "template": with_database(server_url, TEMPLATE_DB),
           "main": with_database(server_url, MAIN_DB)}
    conn = await asyncpg.connect(**{**asyncpg_args(server_url), "database": "postgres"})
    try:
        for name in [r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE $1",
                                                            f"{RUN}_%")]:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def engine(database_urls: dict[str, str]):
    engine = create_async_engine(async_url(database_urls["main"]), poolclass=NullPool)
    yield engine
    await engine.dispose()


def make_settings(database_url: str, tmp: Path, **overrides: object) -> Settings:
    base = Settings(
        database_url=database_url,
        secret_key="test-secret-key-" + "x" * 40,
        anon_key="test-anon-key-" + "y" * 40,
        base_url="http://testserver",
        var_dir=tmp,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        log_json=False,
    )
    return base.with_(**overrides)


@pytest.fixture
def settings(database_urls: dict[str, str], tmp_path: Path) -> Settings:
    return make_settings(database_urls["main"], tmp_path)


@pytest.fixture
async def db(engine) -> AsyncIterator[Database]:
    """A Database whose every transaction is a savepoint inside one outer transaction, rolled back after."""
    async with engine.connect() as connection:
        outer = await connection.begin()
        yield Database("", engine=engine, bind=connection)
        await outer.rollback()


@pytest.fixture
def app(settings: Settings, db: Database):
    return create_app(settings, db=db)


class Client(httpx.AsyncClient):
    """An in-process browser: keeps cookies and adds the CSRF token to form posts."""

    async def ensure_csrf(self) -> str:
        """The CSRF cookie's value (named `__Host-csrf` when the app's BASE_URL is https)."""
        token = self.cookies.get("csrf") or self.cookies.get("__Host-csrf")
        if not token:
            await self.get("/healthz")
            await self.get("/signin")
            token = self.cookies.get("csrf") or self.cookies.get("__Host-csrf")
        return token or ""

    async def post_form(self, url: str, data: dict | None = None, **kwargs) -> httpx.Response:
        token = await self.ensure_csrf()
        payload = dict(data or {})
        payload.setdefault("csrf_token", token)
        return await self.post(url, data=payload, **kwargs)


@pytest.fixture
async def client(app) -> AsyncIterator[Client]:
    async with Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def make_client(app):
    """Several independent browsers in one test."""
    clients: list[Client] = []

    def make() -> Client:
        c = Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.aclose()


_counter = {"n": 0}


async def create_member(db: Database, role: str = "resident", *, name: str | None = None,
                        email: str | None = None, password: str | None = PASSWORD, app=None, **fields):
    """Inserts a member directly (with a cheap password hash).

    Members have held their role for a year unless `role_changed_at` says otherwise: the two-admin rules refuse
    admins made in the last days (tests/anonymity/test_two_admins.py makes those on purpose)."""
    from datetime import UTC, datetime, timedelta

    from community.platform.accounts.actions import _unique_handle
    from community.platform.accounts.models import User
    from community.platform.accounts.security import Passwords

    _counter["n"] += 1
    n = _counter["n"]
    name = name or f"{role.title()} {n}"
    hasher = Passwords(1, 1024)
    async with db.transaction() as session:
        user = User(email=email or f"{role}{n}@example.org", display_name=name,
                    handle=await _unique_handle(session, name), role=role,
                    password_hash=hasher.hash(password) if password else None,
                    **{"role_changed_at": datetime.now(UTC) - timedelta(days=365), **fields})
        session.add(user)
        await session.flush()
        return user


async def sign_in(client: Client, db: Database, user, *, factor_at=True) -> Client:
    """Creates a session row directly and sets the cookie: fast, no argon2.

    The session has passed a second factor just now (`factor_at=True`), as a moderator's or admin's must have
    before any page (web.factor_guard); pass a time for an older check, or None for a session that has not checked
    one (tests/accounts/test_factors.py)."""
    from datetime import UTC, datetime, timedelta

    from community.platform.accounts.models import Session

    token = new_token()
    checked = datetime.now(UTC) if factor_at is True else factor_at
    async with db.transaction() as session:
        session.add(Session(token_hash=token_hash(token), user_id=user.id, factor_at=checked,
                            expires_at=datetime.now(UTC) + timedelta(days=1)))
    client.cookies.set("session", token)
    await client.ensure_csrf()
    return client


async def enrol_totp(client: Client, *, at: float | None = None) -> str:
    """Sets up an authenticator app through the real pages, as a member would; returns its secret (base32)."""
    page = await client.get("/account/security/totp")
    assert page.status_code == 200, page.text[:500]
    secret = re.search(r"data-totp-secret>([A-Z2-7]+)<", page.text).group(1)
    code = pyotp.TOTP(secret).at(at if at is not None else time.time())
    done = await client.post_form("/account/security/totp", {"code": code})
    assert done.status_code == 200 and "recovery codes" in done.text, done.text[:500]
    return secret


@pytest.fixture
def member_factory(db: Database):
    async def factory(role: str = "resident", **kwargs):
        return await create_member(db, role, **kwargs)
    return factory


@pytest.fixture
def login(db: Database, make_client):
    """`await login(user)` -> a new signed-in client."""
    async def do(user) -> Client:
        return await sign_in(make_client(), db, user)
    return do


# ---- live servers (real uvicorn processes) ------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def clone_database(database_urls: dict[str, str], name: str) -> str:
    await _admin_execute(database_urls["server"], f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                         f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    return with_database(database_urls["server"], name)


class LiveServer:
    """`community serve` in a subprocess on 127.0.0.1; stopped with SIGTERM (graceful) or SIGKILL."""

    def __init__(self, database_url: str, port: int, var_dir: Path, workers: int = 1,
                 extra_env: dict[str, str] | None = None) -> None:
        self.database_url = database_url
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DATABASE_URL": database_url, "HOST": "127.0.0.1", "PORT": str(port),
               "SECRET_KEY": "live-secret-key-" + "s" * 40, "ANON_KEY": "live-anon-key-" + "a" * 40,
               "BASE_URL": f"http://127.0.0.1:{port}", "VAR_DIR": str(var_dir), "LOG_JSON": "1",
               # Delivery and load tests send floods on purpose; the limit's own tests set it (tests/security).
               "ROOM_MESSAGES_PER_MINUTE": "0",
               # Each server's own mail catcher (no SMTP_URL): parallel runs never share a port.
               "MAIL_CATCHER_PORT": str(free_port())}
        env.update(extra_env or {})
        self.log_path = var_dir / f"server-{port}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "community.cli", "serve", "--no-bootstrap", "--workers", str(workers)],
            env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=str(ROOT))

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log_path.read_text()[-3000:])
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start:\n" + self.log_path.read_text()[-3000:])

    def stop(self, kill: bool = False) -> None:
        if self.process.poll() is None:
            self.process.kill() if kill else self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


@pytest.fixture
async def live_database(database_urls: dict[str, str], request) -> str:
    name = f"{RUN}_live_{re.sub(r'[^a-z0-9]', '', request.node.name.lower())[:30]}_{free_port()}"
    return await clone_database(database_urls, name)


@pytest.fixture
def live_server_factory(tmp_path: Path) -> Iterator:
    servers: list[LiveServer] = []

    def start(database_url: str, *, workers: int = 1, port: int | None = None,
              extra_env: dict[str, str] | None = None) -> LiveServer:
        server = LiveServer(database_url, port or free_port(), tmp_path, workers, extra_env)
        servers.append(server)
        server.wait_ready()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def live_server(live_database: str, live_server_factory) -> LiveServer:
    return live_server_factory(live_database)


def decode(url: str) -> str:
    return unquote(url)
