"""HTTP benchmarks: our pages against bare baselines, measured by wrk in the same run, side by side.

Every target runs as its own server process with the same uvicorn settings (`community serve` for the app,
`python -m bench.baselines` for b0/b1), on an isolated database `bench_http` on the embedded PostgreSQL
(var/pgdata), never the development database. wrk (Debian) is its own process; bench/wrk_session.lua sends the
signed-in member's cookie. Rounds interleave the targets (b0, b1, pages, b1, pages, ...) and each metric is the
median over rounds, so a ratio compares numbers taken minutes apart on the same machine, never across runs.

Each page benchmark is a small function returning (path, marker) or raising Skip with a note, so a page whose
route or table does not exist yet is reported as skipped instead of failing the run.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from community.platform.anonymity import Anonymity
from community.settings import ROOT, Settings

BENCH_DIR = ROOT / "var" / "bench"
LUA = Path(__file__).with_name("wrk_session.lua")
SECRET_KEY = "bench-secret-key-" + "k" * 40
ANON_KEY = "bench-anon-key-" + "a" * 40
HTTP_DB = "bench_http"

# Notes about skipped benchmarks, and the settings of the last run (bench/__main__.py writes them out).
NOTES: list[str] = []
SETTINGS: dict[str, Any] = {}

TARGETS: dict[str, tuple[str, float]] = {
    "http.thread.ratio_b1": (">=", 0.5),
    "http.thread.p99_ms": ("<=", 100.0),
}


class Skip(Exception):
    """A benchmark that cannot run yet (route or table missing); the message says why."""


@dataclass
class Options:
    duration: float = 10.0      # seconds per measurement
    warmup: float = 2.0         # seconds of unmeasured load before each measurement
    concurrency: int = 32       # open connections (wrk -c)
    threads: int = 2            # wrk -t
    workers: int = 1            # server worker processes (1 = what one process holds)
    rounds: int = 2             # interleaved rounds; metrics are medians over rounds
    keep: bool = False          # keep the benchmark database afterwards


# ---- processes ------------------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server subprocess on 127.0.0.1 with its output in var/bench/<name>.log."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = BENCH_DIR / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(argv, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=str(ROOT))

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n" + self.log_path.read_text()[-3000:])
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start:\n" + self.log_path.read_text()[-3000:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()


def start_app(database_url: str, options: Options, name: str = "app") -> Server:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "HOST": "127.0.0.1", "PORT": str(port),
           "SECRET_KEY": SECRET_KEY, "ANON_KEY": ANON_KEY, "BASE_URL": f"http://127.0.0.1:{port}",
           "VAR_DIR": str(BENCH_DIR / "var"), "LOG_JSON": "1", "PRODUCTION": "1", "POSTS_PER_MINUTE": "1000000",
           # Production needs a mail server; nothing is mailed during the benchmark, so nothing listens there.
           "SMTP_URL": f"smtp://127.0.0.1:{free_port()}", "MAIL_FROM": "Bench <bench@localhost>"}
    server = Server(name, [sys.executable, "-m", "community.cli", "serve", "--no-bootstrap",
                            "--workers", str(options.workers)], env, port)
    server.wait_ready()
    return server


def start_baselines(database_url: str, options: Options) -> Server:
    port = free_port()
    server = Server("baselines", [sys.executable, "-m", "bench.baselines", "--port", str(port),
                                  "--workers", str(options.workers), "--database-url", database_url],
                    dict(os.environ), port)
    server.wait_ready()
    return server


def wrk_binary() -> str | None:
    return shutil.which("wrk") or next((p for p in ("/usr/bin/wrk", "/usr/local/bin/wrk") if os.access(p, os.X_OK)),
                                       None)


def wrk_version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    match = re.search(r"wrk\s+(\S+)", out.stdout + out.stderr)
    return match.group(1) if match else "unknown"


def wrk(url: str, options: Options, *, cookie: str = "", duration: float | None = None,
        concurrency: int | None = None, threads: int | None = None) -> dict[str, float]:
    """One wrk run; returns requests/s and latency percentiles in ms. Raises if any request failed."""
    binary = wrk_binary()
    assert binary is not None
    seconds = max(1, round(duration if duration is not None else options.duration))
    conns = concurrency or options.concurrency
    argv = [binary, "-t", str(min(threads or options.threads, conns)), "-c", str(conns), "-d", f"{seconds}s",
            "--timeout", "10s", "-s", str(LUA), url]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60,
                            env={**os.environ, "BENCH_COOKIE": cookie})
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr or result.stdout}")
    raw = json.loads(line.removeprefix("BENCHJSON "))
    if raw["requests"] == 0:
        raise RuntimeError(f"{url}: no request completed in {seconds}s")
    errors = sum(raw[k] for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts"))
    if errors:
        raise RuntimeError(f"{url}: {errors} failed requests out of {raw['requests']}: {raw}")
    return {"rps": raw["requests"] / (raw["duration_us"] / 1e6), "p50_ms": raw["p50_us"] / 1000,
            "p90_ms": raw["p90_us"] / 1000, "p99_ms": raw["p99_us"] / 1000, "mean_ms": raw["mean_us"] / 1000,
            "requests": raw["requests"]}


# ---- the benchmark database -----------------------------------------------------------------------------------

def server_url() -> str:
    """The embedded PostgreSQL under var/pgdata (started if needed), or BENCH_DATABASE_SERVER when set."""
    if os.environ.get("BENCH_DATABASE_SERVER"):
        return os.environ["BENCH_DATABASE_SERVER"]
    from community.platform.db import start_embedded

    return start_embedded(ROOT / "var")


async def _admin(server: str, *statements: str) -> None:
    from community.platform.db import asyncpg_args

    conn = await asyncpg.connect(**{**asyncpg_args(server), "database": "postgres"})
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def create_database(server: str, name: str) -> str:
    """A fresh, migrated, seeded database `name` (must start with bench_: never the dev database)."""
    from community import seed
    from community.platform.db import Database, with_database
    from community.platform.migrate import upgrade

    assert name.startswith("bench_"), name
    await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    url = with_database(server, name)
    await upgrade(url)
    db = Database(url, pool_size=1)
    try:
        async with db.transaction() as session:
            await seed.run(session)
    finally:
        await db.dispose()
    return url


async def drop_database(server: str, name: str) -> None:
    assert name.startswith("bench_"), name
    await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


PARAGRAPHS = [
    "Last night a patient's daughter asked me whether her father was *dying*. I gave the scripted answer, and "
    "then I sat down next to her, and we just stayed there for a minute. That minute felt like the real work.",
    "What helped me in my second year was an attending who named the feeling out loud after a code: "
    "**this is hard, and it is supposed to feel hard**. It gave the rest of us permission to feel it too.",
    "I keep coming back to the difference between sharing someone's pain and moving to help them. The first one "
    "empties me by the end of a 28-hour call; the second one, oddly, fills something back up.",
    "A small practice that works for me: before I open the door, one breath, and one sentence in my head about "
    "what this person might be afraid of. It takes five seconds. See [the guidelines](/guidelines).",
]


@dataclass
class Fixture:
    url: str
    cookie: str
    user_id: int
    thread_id: int | None = None
    category_slug: str | None = None
    notes: list[str] = field(default_factory=list)


async def populate(url: str) -> Fixture:
    """Members, a signed-in session, a thread with 50 replies, a category with 40 threads, shared reflections.

    Content goes through the app's own actions (rendering, screening, counters), not hand-written SQL.
    """
    from sqlalchemy import select

    from community.platform.accounts import actions as accounts
    from community.platform.accounts.models import User
    from community.platform.db import Database

    settings = Settings(database_url=url, secret_key=SECRET_KEY, anon_key=ANON_KEY, posts_per_minute=10**9)
    db = Database(url, pool_size=2)
    try:
        async with db.transaction() as session:
            users = []
            for n, role in enumerate(["resident", "attending", "resident", "attending", "resident"]):
                name = f"Bench Member {n}"
                user = User(email=f"bench{n}@example.org", display_name=name, role=role,
                            handle=await accounts._unique_handle(session, name), guidelines_accepted_at=accounts.now())
                session.add(user)
                users.append(user)
            await session.flush()
            tokens = [await accounts.create_session(session, u.id, 30) for u in users]
        async with db.raw() as connection:
            viewers = [await accounts.load_viewer(connection, t) for t in tokens]
        fixture = Fixture(url=url, cookie=f"session={tokens[0]}; csrf=benchcsrftoken", user_id=users[0].id)

        try:
            from community.discussions import actions as discussions
            from community.discussions.models import Category
        except ImportError as exc:
            fixture.notes.append(f"threads: not available yet ({exc})")
            return fixture
        async with db.transaction() as session:
            slug = (await session.scalars(select(Category.slug).order_by(Category.position))).first()
        if slug is None:
            fixture.notes.append("threads: no category seeded")
            return fixture
        fixture.category_slug = slug
        async with db.transaction() as session:
            published = await discussions.create_thread(
                session, viewers[1], settings, category_slug=slug, title="What does compassion look like at 3 a.m.?",
                body="\n\n".join(PARAGRAPHS[:2]), confirmed=True)
        fixture.thread_id = published.thread_id
        for n in range(50):
            async with db.transaction() as session:
                await discussions.create_reply(session, viewers[n % len(viewers)], settings,
                                               thread_id=published.thread_id,
                                               body=f"{PARAGRAPHS[n % len(PARAGRAPHS)]}\n\n(reply {n + 1})",
                                               confirmed=True)
        for n in range(40):
            async with db.transaction() as session:
                await discussions.create_thread(session, viewers[n % len(viewers)], settings, category_slug=slug,
                                                title=f"A small thing that helped this week ({n + 1})",
                                                body=PARAGRAPHS[n % len(PARAGRAPHS)], confirmed=True)

        try:
            from community.reflections import actions as reflections
        except ImportError as exc:
            fixture.notes.append(f"reflections: not available yet ({exc})")
            return fixture
        shared = next((v for v in ("anonymous", "shared", "members") if v in getattr(reflections, "SHARED", ())),
                      None)
        if shared is None:
            fixture.notes.append("reflections: no shared visibility found")
            return fixture
        for n in range(30):
            async with db.transaction() as session:
                await reflections.create_reflection(session, viewers[n % len(viewers)], Anonymity(ANON_KEY), settings=settings,
                                                    title=f"After the family meeting ({n + 1})",
                                                    body=PARAGRAPHS[n % len(PARAGRAPHS)], visibility=shared,
                                                    confirmed=True)
        return fixture
    finally:
        await db.dispose()


# ---- pages ----------------------------------------------------------------------------------------------------

def _probe(app_url: str, path: str, cookie: str, marker: str) -> None:
    response = httpx.get(app_url + path, headers={"Cookie": cookie}, timeout=10, follow_redirects=False)
    if response.status_code != 200:
        raise Skip(f"GET {path} answered {response.status_code}")
    if marker not in response.text:
        raise Skip(f"GET {path} does not show {marker!r}")


def page_thread(fx: Fixture, app_url: str) -> str:
    if fx.thread_id is None:
        raise Skip("no thread (threads pillar not available)")
    path = f"/t/{fx.thread_id}"
    _probe(app_url, path, fx.cookie, "(reply 49)")
    return path


def page_category(fx: Fixture, app_url: str) -> str:
    if fx.category_slug is None:
        raise Skip("no category (threads pillar not available)")
    path = f"/c/{fx.category_slug}"
    _probe(app_url, path, fx.cookie, "A small thing that helped this week")
    return path


def page_wall(fx: Fixture, app_url: str) -> str:
    path = "/reflections"
    _probe(app_url, path, fx.cookie, "After the family meeting")
    return path


PAGES: dict[str, Callable[[Fixture, str], str]] = {
    "thread": page_thread,
    "category": page_category,
    "wall": page_wall,
}


# ---- the run --------------------------------------------------------------------------------------------------

def _median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def measure(options: Options, fixture: Fixture, app: Server, baselines: Server) -> dict[str, float]:
    targets: dict[str, tuple[str, str]] = {"b0": (baselines.url + "/plaintext", ""),
                                           "b1": (baselines.url + "/fortunes", "")}
    for name, page in PAGES.items():
        try:
            targets[name] = (app.url + page(fixture, app.url), fixture.cookie)
        except Skip as exc:
            NOTES.append(f"http.{name}: skipped: {exc}")
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
    for round_no in range(options.rounds):
        for name, (url, cookie) in targets.items():
            if options.warmup:
                wrk(url, options, cookie=cookie, duration=options.warmup)
            sample = wrk(url, options, cookie=cookie)
            samples[name].append(sample)
            print(f"  round {round_no + 1}/{options.rounds} {name:9s} {sample['rps']:9.0f} req/s  "
                  f"p99 {sample['p99_ms']:7.1f} ms", flush=True)
    results: dict[str, float] = {}
    for name, runs in samples.items():
        results[f"http.{name}.rps"] = _median([r["rps"] for r in runs])
        results[f"http.{name}.p50_ms"] = _median([r["p50_ms"] for r in runs])
        results[f"http.{name}.p99_ms"] = _median([r["p99_ms"] for r in runs])
    for name in PAGES:
        if name in samples:
            # The ratio per round (page and b1 measured minutes apart), then the median of those.
            ratios = [p["rps"] / b["rps"] for p, b in zip(samples[name], samples["b1"], strict=True)]
            results[f"http.{name}.ratio_b1"] = round(statistics.median(ratios), 3)
    return results


async def _prepare(server: str) -> Fixture:
    url = await create_database(server, HTTP_DB)
    from bench.baselines import create_fortunes
    from community.platform.db import asyncpg_args

    conn = await asyncpg.connect(**asyncpg_args(url))
    try:
        await create_fortunes(conn)
    finally:
        await conn.close()
    return await populate(url)


def run(options: Options | None = None) -> dict[str, float]:
    options = options or Options()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    binary = wrk_binary()
    if binary is None:
        NOTES.append("http: skipped: wrk is not installed (make system-deps as root installs Debian's wrk)")
        return {}
    SETTINGS.update({"http": {**asdict(options), "wrk": wrk_version(binary), "wrk_path": binary,
                              "cpus": os.cpu_count(), "started": datetime.now(UTC).isoformat(timespec="seconds")}})
    server = server_url()
    print(f"http: preparing database {HTTP_DB} ...", flush=True)
    fixture = asyncio.run(_prepare(server))
    NOTES.extend(fixture.notes)
    servers: list[Server] = []
    try:
        app = start_app(fixture.url, options)
        servers.append(app)
        baselines = start_baselines(fixture.url, options)
        servers.append(baselines)
        return measure(options, fixture, app, baselines)
    finally:
        for s in servers:
            s.stop()
        if not options.keep:
            asyncio.run(drop_database(server, HTTP_DB))



# ---- database scaling: the same page at 10,000 and 1,000,000 posts ----------------------------------------------

SCALES = {"10k": 10_000, "1m": 1_000_000}
SEARCH_QUERY = "compassion mentor"


async def _prepare_scale(server: str, name: str, posts: int) -> Fixture:
    from sqlalchemy import select

    from community.discussions.models import Category
    from community.platform.accounts import actions as accounts
    from community.platform.accounts.models import User
    from community.platform.db import Database

    gen_posts = importlib.import_module("bench.gen_posts")
    url = await create_database(server, name)
    started = time.monotonic()
    await gen_posts.generate(url, posts, quiet=True)
    print(f"db: {name}: {posts:,} posts generated in {time.monotonic() - started:.0f}s", flush=True)
    db = Database(url, pool_size=1)
    try:
        async with db.transaction() as session:
            user = User(email="reader@example.org", display_name="Bench Reader", role="resident",
                        handle=await accounts._unique_handle(session, "Bench Reader"),
                        guidelines_accepted_at=accounts.now())
            session.add(user)
            await session.flush()
            token = await accounts.create_session(session, user.id, 30)
            slug = (await session.scalars(select(Category.slug).order_by(Category.position))).first()
    finally:
        await db.dispose()
    return Fixture(url=url, cookie=f"session={token}; csrf=benchcsrftoken", user_id=user.id, category_slug=slug)


def sequential_latency(url: str, cookie: str, options: Options) -> dict[str, float]:
    """One member, one request at a time, for `duration` seconds (at least 3 requests, at most 2000): the
    median page time. Unlike wrk, a page slower than the run still counts (with its real duration)."""
    times: list[float] = []
    with httpx.Client(headers={"Cookie": cookie}, timeout=120) as client:
        client.get(url)  # warm-up: connection, plan cache
        deadline = time.monotonic() + options.duration
        while len(times) < 2000 and (len(times) < 3 or time.monotonic() < deadline):
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")
    return {"p50_ms": statistics.median(times), "max_ms": max(times), "requests": len(times)}


def run_db_scaling(options: Options) -> dict[str, float]:
    """db.category.ratio_1m_10k and db.search.ratio_1m_10k: page latency at 1M posts over 10k posts.

    Latency, not throughput: one request at a time, so the number is what one member waits for the page.
    Both databases are served at once by their own app process and measured in interleaved rounds.
    """
    try:
        importlib.import_module("bench.gen_posts")
    except ModuleNotFoundError as exc:
        if exc.name != "bench.gen_posts":
            raise
        NOTES.append("db: skipped: bench/gen_posts.py (the threads pillar's COPY generator) does not exist yet")
        return {}
    if wrk_binary() is None:
        NOTES.append("db: skipped: wrk is not installed")
        return {}
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    server = server_url()
    fixtures = {label: asyncio.run(_prepare_scale(server, f"bench_db_{label}", posts))
                for label, posts in SCALES.items()}
    SETTINGS["db"] = {"posts": SCALES, "search_query": SEARCH_QUERY, "connections": 1,
                      "duration": options.duration, "rounds": options.rounds}
    apps: dict[str, Server] = {}
    try:
        for label, fx in fixtures.items():
            apps[label] = start_app(fx.url, options, name=f"app-{label}")
        pages = {"category": lambda fx: f"/c/{fx.category_slug}",
                 "search": lambda fx: "/search?q=" + SEARCH_QUERY.replace(" ", "+")}
        samples: dict[tuple[str, str], list[float]] = {}
        for page, path_of in pages.items():
            for label, fx in fixtures.items():
                response = httpx.get(apps[label].url + path_of(fx), headers={"Cookie": fx.cookie}, timeout=60)
                if response.status_code != 200:
                    NOTES.append(f"db.{page}: skipped: GET {path_of(fx)} answered {response.status_code}")
                    break
            else:
                for round_no in range(options.rounds):
                    for label, fx in fixtures.items():
                        url = apps[label].url + path_of(fx)
                        sample = sequential_latency(url, fx.cookie, options)
                        samples.setdefault((page, label), []).append(sample["p50_ms"])
                        print(f"  round {round_no + 1}/{options.rounds} {page:8s} {label:3s} "
                              f"{sample['p50_ms']:8.2f} ms median of {sample['requests']:.0f}", flush=True)
        results: dict[str, float] = {}
        for page in pages:
            if (page, "1m") in samples and (page, "10k") in samples:
                big, small = samples[(page, "1m")], samples[(page, "10k")]
                results[f"db.{page}.ms_10k"] = _median(small)
                results[f"db.{page}.ms_1m"] = _median(big)
                results[f"db.{page}.ratio_1m_10k"] = round(statistics.median(b / s for b, s in zip(big, small,
                                                                                                   strict=True)), 3)
        return results
    finally:
        for app in apps.values():
            app.stop()
        if not options.keep:
            for label in fixtures:
                asyncio.run(drop_database(server, f"bench_db_{label}"))
