"""The community-day workload (`python -m bench --only day`): many signed-in members on a generated community
(bench/day_gen.py), Zipf-distributed reads over every kind of page, about 5% writes through screening, and live
room sockets, all at once against ONE app process for the pages, and the room sockets on a second app process on
the same database, as the deploy runs them (compose's `realtime` service; `--rooms-shared`: the sockets on the page
process too); b1 (and peers, bench/peers.py) measured in the same run, in interleaved rounds, on the same embedded
PostgreSQL.

Per round: b1 (fortunes) for `peer_duration`, the peers' topic page and our 50-post thread page, then the day
mix for `duration` (wrk, bench/day_mix.lua, c=32) while bench/day_rooms.py keeps 200 sockets talking at
5 messages a second. Latencies per route group come from day_mix.lua's per-request lines (matched by the
X-Request-Id the app echoes), so they are client-side, queueing included. Ratios are per-round, then the median.

The report also holds what the machine was doing: the load average before the run (others' load: the bench is
not running yet) and sampled during it; a busy machine gives a warning in the notes, never a silent number.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlencode

import asyncpg
import httpx

from bench import day_gen, http_bench, peers
from community.discussions.reads import PAGE_SIZE, THREADS_PER_PAGE, make_cursor
from community.platform.db import asyncpg_args
from community.reflections.actions import WALL_PAGE

LUA = Path(__file__).with_name("day_mix.lua")
NOTES: list[str] = []
SETTINGS: dict[str, Any] = {}
TARGETS: dict[str, tuple[str, float]] = {
    "day.read.p99_ms": ("<=", 50.0),
    "day.write.p99_ms": ("<=", 150.0),
    "day.read.ratio_b1": (">=", 0.30),
    "day.ws.p99_ms": ("<=", 50.0),
    "day.rss_mb": ("<=", 300.0),
    "http.thread.ratio_spirit": (">=", 50.0),
}

# The mix, in percent of requests. Reads 95, writes 5.
READS = {"thread": 40.0, "category": 12.0, "wall": 10.0, "reflection": 5.0, "home": 10.0, "search": 5.0,
         "notifications": 6.0, "prompts": 4.0, "journal": 3.0}
WRITES = {"reply": 1.5, "reaction": 1.2, "edit": 0.8, "reflection_new": 0.6, "reflection_reply": 0.6,
          "flag": 0.3}
WRITE_KEYS = {"reply": "write.reply", "reflection_new": "write.reflection"}
SEARCH_WORDS = ("compassion", "mentor", "burnout", "night call", "family", "rest", "coffee", "kindness",
                "hidden curriculum", "grateful")
# The generated posts use a small vocabulary, so every word above is in about half of them. Members also search
# for what is rare (a drug, a place, a name) and for quoted phrases, which take other plans: a fifth of searches
# are a word no post holds, and a tenth a quoted pair of common words.
RARE_WORDS = ("naloxone", "pager", "chaplain", "telemetry", "sepsis", "ketamine", "ombudsman", "locum")
SEARCH_SHAPES = (("words", 0.7), ("rare", 0.2), ("phrase", 0.1))
TOPOLOGIES = {False: "rooms on their own process (app-day-rooms, one worker; pages on app-day, one worker)",
              True: "rooms shared: sockets and pages on one process (app-day, one worker)"}
ROOM_PROCESS_KEYS = ("day.rooms.cpu_ms_per_msg", "day.rooms.rss_mb", "day.rooms.rss_peak_mb")
BUSY_LOAD = 1.0  # load average (1 min) of OTHER work above which the run is flagged as taken on a busy machine


@dataclass
class DayOptions:
    scale: float = 1.0
    duration: float = 60.0        # seconds of the day mix per round
    warmup: float = 10.0          # seconds of unmeasured day mix first (caches fill as they would by mid-morning)
    peer_duration: float = 10.0   # seconds per b1 / peer / single-page measurement per round
    concurrency: int = 32
    threads: int = 2
    rounds: int = 2
    room_sockets: int = 200
    room_rate: float = 5.0        # messages a second, all rooms together
    plan_size: int = 60_000
    peers: bool = True
    groups: tuple[str, ...] = ()  # only these groups of the mix (weights kept), to profile them; () = all
    rooms_shared: bool = False    # the room sockets on the page process (the topology before `realtime`)
    keep: bool = False            # keep the run's copy of the community (bench_day_<scale>_run) afterwards


@dataclass
class Community:
    """What the plan draws from, read back from the generated database."""
    sessions: list[tuple[int, str]]
    threads: list[tuple[int, int, int]]         # (id, post_count, first_post_id), most recently active first
    categories: list[tuple[str, list[str]]]     # (slug, cursors of pages 2..n), biggest first
    wall_cursors: list[int]
    reflections: list[int]                      # shared and visible, newest first
    own_posts: dict[int, int]                   # member -> one of their replies (to edit)
    post_range: tuple[int, int]
    rooms: list[tuple[int, int]]                # (room id, member)
    thread50: int = 0                           # a thread of 51 posts: its page 1 shows 50
    csrf: dict[int, str] = field(default_factory=dict)
    # (member, post) for the posts a reaction may be drawn on (a thread's first PAGE_SIZE) that the member wrote:
    # the app refuses a reaction to one's own post (400), which a real member is never offered
    authored: set[tuple[int, int]] = field(default_factory=set)


# ---- reading the community back ---------------------------------------------------------------------------------

async def load_community(url: str) -> Community:
    conn = await asyncpg.connect(**asyncpg_args(url))
    try:
        sessions = [(r["user_id"], r["token"]) for r in await conn.fetch(
            "SELECT user_id, token FROM bench_day_sessions ORDER BY user_id")]
        members = [s[0] for s in sessions]
        threads = [(r["id"], r["post_count"], r["first_post_id"]) for r in await conn.fetch(
            "SELECT id, post_count, first_post_id FROM threads WHERE state = 'visible' AND first_post_id IS NOT NULL "
            "ORDER BY last_activity_at DESC, id DESC")]
        categories = await _category_cursors(conn)
        wall = [r["id"] for r in await conn.fetch(
            "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY created_at DESC, id DESC) AS n FROM reflections "
            "WHERE visibility IN ('anonymous', 'named') AND state = 'visible') w WHERE n % $1 = 0 ORDER BY n",
            WALL_PAGE)]
        reflections = [r["id"] for r in await conn.fetch(
            "SELECT id FROM reflections WHERE visibility IN ('anonymous', 'named') AND state = 'visible' "
            "ORDER BY created_at DESC, id DESC")]
        own = {r["author_id"]: r["id"] for r in await conn.fetch(
            "SELECT DISTINCT ON (author_id) author_id, id FROM posts WHERE author_id = ANY($1::bigint[]) "
            "AND position > 1 AND state = 'visible' ORDER BY author_id, id", members)}
        lo, hi = await conn.fetchrow("SELECT min(id), max(id) FROM posts")
        rooms = [(r["room_id"], r["user_id"]) for r in await conn.fetch(
            "SELECT room_id, user_id FROM room_participants p JOIN rooms r ON r.id = p.room_id "
            "WHERE r.title LIKE 'Day room %' ORDER BY p.id")]
        thread50 = await conn.fetchval("SELECT id FROM threads WHERE post_count >= 51 AND state = 'visible' "
                                       "ORDER BY post_count, id LIMIT 1")
        authored = {(r["author_id"], r["id"]) for r in await conn.fetch(
            "SELECT author_id, id FROM posts WHERE author_id = ANY($1::bigint[]) AND position <= $2",
            members, PAGE_SIZE)}
    finally:
        await conn.close()
    return Community(sessions, threads, categories, wall, reflections, own, (lo, hi), rooms, thread50 or 0,
                     authored=authored)


async def _category_cursors(conn: asyncpg.Connection) -> list[tuple[str, list[str]]]:
    rows = await conn.fetch(
        "SELECT c.slug, t.last_activity_at, t.id FROM categories c JOIN LATERAL (SELECT last_activity_at, id, "
        "row_number() OVER (ORDER BY last_activity_at DESC, id DESC) AS n FROM threads WHERE category_id = c.id "
        "AND state = 'visible' AND NOT pinned) t ON t.n % $1 = 0 WHERE c.archived_at IS NULL "
        "ORDER BY c.thread_count DESC, c.slug, t.n", THREADS_PER_PAGE)
    slugs = [r["slug"] for r in await conn.fetch(
        "SELECT slug FROM categories WHERE archived_at IS NULL ORDER BY thread_count DESC, slug")]
    cursors: dict[str, list[str]] = {s: [] for s in slugs}
    for r in rows:
        cursors[r["slug"]].append(make_cursor(r["last_activity_at"], r["id"]))
    return [(s, cursors[s]) for s in slugs]


def fetch_csrf(app_url: str, community: Community) -> None:
    """One GET per session: the app sets the csrf cookie the session's forms must echo (double submit)."""
    with httpx.Client(timeout=30) as client:
        for member, token in community.sessions:
            response = client.get(app_url + "/notifications", headers={"Cookie": f"session={token}"})
            match = re.search(r"csrf=([^;]+)", response.headers.get("set-cookie", ""))
            if response.status_code != 200 or match is None:
                raise RuntimeError(f"no csrf cookie for a session ({response.status_code})")
            community.csrf[member] = match.group(1)


# ---- the plan: requests drawn from the day's distribution ---------------------------------------------------------

class Zipf:
    """Draws ranks 0..n-1 with P(k) proportional to 1 / (k + 1) ** s."""

    def __init__(self, n: int, s: float = 1.0) -> None:
        total, self.cumulative = 0.0, []
        for k in range(max(1, n)):
            total += 1.0 / (k + 1) ** s
            self.cumulative.append(total)

    def draw(self, rng: random.Random) -> int:
        return min(len(self.cumulative) - 1, bisect.bisect_left(self.cumulative, rng.random() * self.cumulative[-1]))


def _text(rng: random.Random, sentences: int) -> str:
    return " ".join(day_gen.sentence(rng) for _ in range(sentences))


class Planner:
    """One request line per call to `line(group)`: METHOD, GROUP, PATH, COOKIE, BODY (tab-separated)."""

    def __init__(self, community: Community, rng: random.Random) -> None:
        self.c, self.rng = community, rng
        self.threads = Zipf(len(community.threads))
        self.categories = Zipf(len(community.categories))
        self.wall_pages = Zipf(len(community.wall_cursors) + 1, 1.2)
        self.reflections = Zipf(len(community.reflections))
        self.category_pages = {slug: Zipf(len(cursors) + 1, 1.2) for slug, cursors in community.categories}

    def _member(self) -> tuple[int, str]:
        member, token = self.c.sessions[self.rng.randrange(len(self.c.sessions))]
        return member, f"session={token}; csrf={self.c.csrf.get(member, '')}"

    def _thread_path(self) -> tuple[int, str]:
        thread_id, posts, _first = self.c.threads[self.threads.draw(self.rng)]
        pages = max(1, math.ceil(posts / PAGE_SIZE))
        roll = self.rng.random()
        page = 1 if roll < 0.5 else pages if roll < 0.75 else self.rng.randint(1, pages)
        return thread_id, f"/t/{thread_id}" + (f"?page={page}" if page > 1 else "")

    def read_path(self, group: str) -> str:
        rng = self.rng
        if group == "thread":
            return self._thread_path()[1]
        if group == "category":
            slug, cursors = self.c.categories[self.categories.draw(rng)]
            page = self.category_pages[slug].draw(rng)
            return f"/c/{slug}" + (f"?after={quote_plus(cursors[page - 1])}" if page else "")
        if group == "wall":
            page = self.wall_pages.draw(rng)
            return "/reflections" + (f"?before={self.c.wall_cursors[page - 1]}" if page else "")
        if group == "reflection":
            return f"/reflections/{self.c.reflections[self.reflections.draw(rng)]}"
        if group == "search":
            return "/search?q=" + quote_plus(search_query(rng))
        return {"home": "/", "notifications": "/notifications", "prompts": "/prompts", "journal": "/journal"}[group]

    def write(self, group: str, member: int, csrf: str) -> tuple[str, dict[str, str]]:
        rng = self.rng
        form = {"csrf_token": csrf}
        if group == "reply":
            thread_id, _ = self._thread_path()
            return f"/t/{thread_id}/reply", {**form, "body": _text(rng, 2), "confirm_phi": "yes"}
        if group == "reaction":
            post = self._reaction_target(member)
            return f"/p/{post}/react", {**form, "kind": rng.choice(("thanks", "me_too", "helped"))}
        if group == "edit":
            body = _text(rng, 2) + f" (edited {rng.randrange(10**6)})"
            return f"/p/{self.c.own_posts[member]}/edit", {**form, "body": body, "confirm_phi": "yes"}
        if group == "reflection_new":
            return "/reflections/new", {**form, "title": day_gen.sentence(rng, 3, 6), "body": _text(rng, 3),
                                        "visibility": rng.choice(("anonymous", "named", "private")),
                                        "confirm_phi": "yes"}
        if group == "reflection_reply":
            reflection = self.c.reflections[self.reflections.draw(rng)]
            return f"/reflections/{reflection}/replies", {**form, "body": _text(rng, 1), "confirm_phi": "yes"}
        if group == "flag":
            return "/flag/post/@POST@", {**form, "reason": "off_topic", "note": "Seems to belong elsewhere."}
        raise ValueError(group)

    def _reaction_target(self, member: int) -> int:
        """A post among a Zipf-drawn thread's first PAGE_SIZE (generated ids are consecutive per thread) that
        `member` did not write."""
        while True:
            _t, posts, first = self.c.threads[self.threads.draw(self.rng)]
            post = first + self.rng.randrange(min(posts, PAGE_SIZE))
            if (member, post) not in self.c.authored:
                return post

    def line(self, group: str) -> str:
        member, cookie = self._member()
        if group in READS:
            return f"GET\t{group}\t{self.read_path(group)}\t{cookie}\t"
        if group == "edit" and member not in self.c.own_posts:
            member = next(iter(self.c.own_posts))
            cookie = f"session={dict(self.c.sessions)[member]}; csrf={self.c.csrf.get(member, '')}"
        path, form = self.write(group, member, self.c.csrf.get(member, ""))
        return f"POST\t{group}\t{path}\t{cookie}\t{urlencode(form)}"


def mix_of(groups: tuple[str, ...] = ()) -> dict[str, float]:
    """The mix in percent (READS + WRITES), or only the named groups of it; an unknown name is an error."""
    mix = {**READS, **WRITES}
    unknown = sorted(set(groups) - set(mix))
    if unknown:
        raise ValueError(f"unknown day groups {', '.join(unknown)}; the groups are {', '.join(mix)}")
    return {g: w for g, w in mix.items() if g in groups} if groups else mix


def search_query(rng: random.Random) -> str:
    """One search of the mix, in the shares of SEARCH_SHAPES."""
    shape = rng.choices([name for name, _ in SEARCH_SHAPES], [share for _, share in SEARCH_SHAPES])[0]
    if shape == "rare":
        return rng.choice(RARE_WORDS)
    if shape == "phrase":
        return '"' + " ".join(rng.sample([w for w in SEARCH_WORDS if " " not in w], 2)) + '"'
    return " ".join(rng.sample(SEARCH_WORDS, rng.randint(1, 2)))


def make_plan(community: Community, size: int, seed: int = 1, groups: tuple[str, ...] = ()) -> list[str]:
    """`size` request lines, each group drawn with its share of the mix (READS + WRITES, in percent), or of
    the named groups only."""
    rng = random.Random(seed)
    planner = Planner(community, rng)
    mix = mix_of(groups)
    groups = rng.choices(list(mix), weights=list(mix.values()), k=size)
    return [planner.line(g) for g in groups]


# ---- measuring ------------------------------------------------------------------------------------------------

class LoadSampler:
    """The 1-minute load average, sampled every few seconds in a daemon thread while the bench runs."""

    def __init__(self, every: float = 5.0) -> None:
        self.before = os.getloadavg()[0]
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> dict[str, float]:
        self._stop.set()
        samples = self.samples or [os.getloadavg()[0]]
        return {"day.load.before": round(self.before, 2), "day.load.mean": round(statistics.mean(samples), 2),
                "day.load.max": round(max(samples), 2), "day.cpus": float(os.cpu_count() or 1)}


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))] if ordered else math.nan


def read_latencies(prefix: str, threads: int) -> dict[str, dict[str, list]]:
    """day_mix.lua's lines, per group: latencies (ms) of answered requests and the statuses of refused ones."""
    groups: dict[str, dict[str, list]] = {}
    for tid in range(1, threads + 1):
        path = Path(f"{prefix}{tid}.txt")
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            group, status, micros = line.split()
            entry = groups.setdefault(group, {"ms": [], "errors": []})
            if int(status) < 400:
                entry["ms"].append(int(micros) / 1000)
            else:
                entry["errors"].append(int(status))
        path.unlink()
    return groups


def summarise_mix(groups: dict[str, dict[str, list]], seconds: float) -> dict[str, float]:
    """Per group and for reads / writes together: count, p50, p99, errors; and requests per second."""
    out: dict[str, float] = {}
    for kind, names in (("read", READS), ("write", WRITES)):
        pooled = [ms for g in names for ms in groups.get(g, {}).get("ms", [])]
        errors = sum(len(groups.get(g, {}).get("errors", [])) for g in names)
        out[f"day.{kind}.rps"] = round(len(pooled) / seconds, 1)
        out[f"day.{kind}.p50_ms"] = round(percentile(pooled, 0.5), 2)
        out[f"day.{kind}.p99_ms"] = round(percentile(pooled, 0.99), 2)
        out[f"day.{kind}.errors"] = float(errors)
        for g in names:
            entry = groups.get(g, {"ms": [], "errors": []})
            out[f"day.{g}.count"] = float(len(entry["ms"]))
            out[f"day.{g}.p50_ms"] = round(percentile(entry["ms"], 0.5), 2)
            out[f"day.{g}.p99_ms"] = round(percentile(entry["ms"], 0.99), 2)
            if entry["errors"]:
                out[f"day.{g}.errors"] = float(len(entry["errors"]))
    out["day.rps"] = round(out["day.read.rps"] + out["day.write.rps"], 1)
    out["day.unmatched"] = float(len(groups.get("unmatched", {}).get("ms", [])))
    return out


def wrk_mix(url: str, options: DayOptions, plan: Path, community: Community, seconds: float,
            prefix: str) -> dict[str, Any]:
    """One wrk run of the day mix; returns wrk's summary (the per-group lines are left in `prefix`N.txt)."""
    binary = http_bench.wrk_binary()
    assert binary is not None
    argv = [binary, "-t", str(options.threads), "-c", str(options.concurrency), "-d", f"{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(LUA), url]
    env = {**os.environ, "DAY_PLAN": str(plan), "DAY_OUT": prefix, "DAY_ORIGIN": url,
           "DAY_POST_LO": str(community.post_range[0]), "DAY_POST_HI": str(community.post_range[1])}
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120, env=env)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if result.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr or result.stdout}")
    return json.loads(line.removeprefix("BENCHJSON "))


def room_targets(rooms: http_bench.Server, community: Community, count: int) -> Path:
    tokens = dict(community.sessions)
    ws = rooms.url.replace("http://", "ws://")
    targets = [[f"{ws}/rooms/{room}/ws", f"session={tokens[member]}"] for room, member in community.rooms[:count]]
    path = http_bench.BENCH_DIR / "day_rooms.json"
    path.write_text(json.dumps(targets))
    return path


def start_rooms(rooms: http_bench.Server, targets: Path, seconds: float, rate: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bench.day_rooms", "--targets", str(targets), "--origin",
                             rooms.url, "--seconds", str(seconds), "--rate", str(rate)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(http_bench.ROOT))


def finish_rooms(process: subprocess.Popen, timeout: float) -> dict[str, Any]:
    out, err = process.communicate(timeout=timeout)
    line = next((ln for ln in out.splitlines() if ln.startswith("ROOMSJSON ")), None)
    if process.returncode != 0 or line is None:
        raise RuntimeError(f"room sockets failed ({process.returncode}): {err[-2000:]}")
    return json.loads(line.removeprefix("ROOMSJSON "))


def day_round(options: DayOptions, app: http_bench.Server, rooms_app: http_bench.Server, community: Community,
              plan: Path, targets: Path, label: str) -> dict[str, float]:
    """The day mix for `duration` with the room sockets (on `rooms_app`, which may be `app`) talking throughout;
    the round's figures."""
    rooms = start_rooms(rooms_app, targets, options.duration + 3, options.room_rate)
    time.sleep(3.0)  # the sockets connect and settle before wrk starts
    prefix = str(http_bench.BENCH_DIR / f"day_lat_{label}_")
    cpu, pg_cpu, rooms_cpu = cpu_seconds(app.process.pid), postgres_cpu_seconds(), cpu_seconds(rooms_app.process.pid)
    summary = wrk_mix(app.url, options, plan, community, options.duration, prefix)
    cpu, pg_cpu = cpu_seconds(app.process.pid) - cpu, postgres_cpu_seconds() - pg_cpu
    rooms_cpu = cpu_seconds(rooms_app.process.pid) - rooms_cpu
    ws = finish_rooms(rooms, options.duration + 120)
    SETTINGS.setdefault("room_copies", []).append(ws["copies"])  # copies received / other members, per message
    results = mix_figures(read_latencies(prefix, options.threads), summary, cpu, ws)
    results["day.pg_cpu_ms_per_req"] = round(1000 * pg_cpu / max(1, summary["requests"]), 2)
    if rooms_app is not app:
        # The room process's CPU while wrk ran (the sockets were open and talking throughout: pings and leases
        # included, their openings not) over the messages sent meanwhile (the sender keeps to its rate).
        sent = options.room_rate * summary["duration_us"] / 1e6
        results["day.rooms.cpu_ms_per_msg"] = round(1000 * rooms_cpu / max(1.0, sent), 2)
    return results


def mix_figures(groups: dict[str, dict[str, list]], summary: dict[str, Any], cpu: float,
                ws: dict[str, Any]) -> dict[str, float]:
    """One round's day figures: the mix per group (day_mix.lua's lines), wrk's summary, the app's CPU seconds
    during the mix, and the room sockets' report (bench/day_rooms.py)."""
    results = summarise_mix(groups, summary["duration_us"] / 1e6)
    # CPU per request is what a busy machine distorts least: the app's own CPU seconds over the requests.
    results["day.cpu_ms_per_req"] = round(1000 * cpu / max(1, summary["requests"]), 2)
    results["day.cpu_share"] = round(cpu / (summary["duration_us"] / 1e6), 3)
    results["day.wrk.p99_ms"] = summary["p99_us"] / 1000
    # Requests wrk gave up on (10 s) have no latency line: counted here, so a p99 never hides them.
    results["day.wrk.timeouts"] = float(summary.get("timeouts", 0))
    results["day.wrk.socket_errors"] = float(sum(summary.get(k, 0) for k in ("connect_errors", "read_errors",
                                                                             "write_errors")))
    results["day.ws.p50_ms"] = round(percentile(ws["fanout_ms"], 0.5), 2)
    results["day.ws.p99_ms"] = round(percentile(ws["fanout_ms"], 0.99), 2)
    results["day.ws.messages"] = float(ws["sent"])
    results["day.ws.incomplete"] = float(ws["incomplete"])
    results["day.ws.sockets"] = float(ws["sockets"])
    results["write.room_message.p50_ms"] = round(percentile(ws["ack_ms"], 0.5), 2)
    results["write.room_message.p99_ms"] = round(percentile(ws["ack_ms"], 0.99), 2)
    for group, key in WRITE_KEYS.items():
        results[f"{key}.p99_ms"] = results[f"day.{group}.p99_ms"]
    return results


def add_ratios(r: dict[str, float], peer_names: list[str]) -> dict[str, float]:
    """The round's ratios: day reads over b1, CPU per request over b1's, our 50-post page over each peer's."""
    r["day.read.ratio_b1"] = round(r["day.read.rps"] / r["day.b1.rps"], 3)
    r["day.cpu.ratio_b1"] = round(r["day.cpu_ms_per_req"] / r["day.b1.cpu_ms_per_req"], 2)
    # The single-page figure on the day's database: http_bench's thread page, 50 posts, one member, warm caches.
    r["day.thread50.ratio_b1"] = round(r["day.thread50.rps"] / r["day.b1.rps"], 3)
    for name in peer_names:
        r[f"http.thread.ratio_{name}"] = round(r["day.thread50.rps"] / r[f"peer.{name}.thread_rps"], 1)
    return r


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU seconds so far of the embedded PostgreSQL (var/pgdata's postmaster and its children: the backends
    serving the app, the baselines and the peers, and its background workers). 0 when it is not ours.

    Children that have exited count too (the postmaster's cutime and cstime): under load a connection pool's
    overflow connections open and close, and a backend's CPU must not vanish from the sum when it exits."""
    try:
        postmaster = int((http_bench.ROOT / "var" / "pgdata" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == postmaster or stat.parent.name == str(postmaster):
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            if stat.parent.name == str(postmaster):
                total += (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_mb(pid: int, prefix: str = "day") -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return {f"{prefix}.rss_mb": round(fields.get("VmRSS", 0.0), 1),
            f"{prefix}.rss_peak_mb": round(fields.get("VmHWM", 0.0), 1)}


# ---- the run ----------------------------------------------------------------------------------------------------

def _single(url: str, options: DayOptions, cookie: str = "", concurrency: int | None = None,
            pid: int | None = None) -> dict[str, float]:
    """One page, plain wrk (bench/wrk_session.lua), after a short warm-up: http_bench's measurement; with `pid`,
    also that server's CPU ms per request during the measured part."""
    single = http_bench.Options(duration=options.peer_duration, warmup=2.0, concurrency=options.concurrency,
                                threads=options.threads)
    http_bench.wrk(url, single, cookie=cookie, duration=2.0, concurrency=concurrency)
    cpu = cpu_seconds(pid) if pid else 0.0
    result = http_bench.wrk(url, single, cookie=cookie, concurrency=concurrency)
    if pid:
        result["cpu_ms_per_req"] = round(1000 * (cpu_seconds(pid) - cpu) / result["requests"], 3)
    return result


def median_rounds(rounds: list[dict[str, float]]) -> dict[str, float]:
    keys = sorted({k for r in rounds for k in r})
    return {k: round(statistics.median([r[k] for r in rounds if k in r and not math.isnan(r[k])] or [math.nan]), 3)
            for k in keys}


def measure(options: DayOptions, app: http_bench.Server, rooms_app: http_bench.Server, baselines: http_bench.Server,
            community: Community, peers: list[Any]) -> dict[str, float]:
    """Interleaved rounds: b1, the peers' topic pages, our 50-post thread page, the day mix; medians over rounds,
    ratios per round then their median."""
    plan = http_bench.BENCH_DIR / "day_plan.tsv"
    plan.write_text("\n".join(make_plan(community, options.plan_size, groups=options.groups)) + "\n")
    targets = room_targets(rooms_app, community, options.room_sockets)
    cookie0 = f"session={community.sessions[0][1]}"
    print(f"  day: warming up for {options.warmup:.0f}s", flush=True)
    wrk_mix(app.url, options, plan, community, options.warmup, str(http_bench.BENCH_DIR / "day_warm_"))
    read_latencies(str(http_bench.BENCH_DIR / "day_warm_"), options.threads)
    rounds: list[dict[str, float]] = []
    for n in range(options.rounds):
        b1 = _single(baselines.url + "/fortunes", options, pid=baselines.process.pid)
        r: dict[str, float] = {"day.b1.rps": b1["rps"], "day.b1.cpu_ms_per_req": b1["cpu_ms_per_req"]}
        for peer in peers:
            r[f"peer.{peer.name}.thread_rps"] = _single(peer.url, options, peer.cookie, peer.concurrency)["rps"]
        page = _single(f"{app.url}/t/{community.thread50}", options, cookie0, pid=app.process.pid)
        r["day.thread50.rps"], r["day.thread50.cpu_ms_per_req"] = page["rps"], page["cpu_ms_per_req"]
        r.update(day_round(options, app, rooms_app, community, plan, targets, f"r{n}"))
        rounds.append(add_ratios(r, [p.name for p in peers]))
        print(f"  round {n + 1}/{options.rounds}: b1 {r['day.b1.rps']:.0f} req/s, day {r['day.rps']:.0f} req/s "
              f"(reads p99 {r['day.read.p99_ms']:.1f} ms, writes p99 {r['day.write.p99_ms']:.1f} ms, "
              f"room fan-out p99 {r['day.ws.p99_ms']:.1f} ms)"
              + "".join(f", {p.name} {r[f'peer.{p.name}.thread_rps']:.1f} req/s" for p in peers), flush=True)
    results = median_rounds(rounds)
    results.update(rss_mb(app.process.pid))
    if rooms_app is not app:
        results.update(rss_mb(rooms_app.process.pid, "day.rooms"))
    else:  # not measured on a shared process: never a figure kept from a run with their own process
        results.update(dict.fromkeys(ROOM_PROCESS_KEYS, math.nan))
    return results


def busy_notes(load: dict[str, float]) -> list[str]:
    notes = [f"day: load average {load['day.load.before']:.2f} before the run (other work on the machine), "
             f"{load['day.load.mean']:.2f} mean / {load['day.load.max']:.2f} max during it, "
             f"{load['day.cpus']:.0f} CPUs"]
    if load["day.load.before"] > BUSY_LOAD:
        notes.append(f"day: WARNING: the machine was busy before the run started (load {load['day.load.before']:.2f} "
                     f"> {BUSY_LOAD}): absolute figures are low and noisy; the ratios are the figures to follow")
    return notes


def cache_rates(log_path: Path) -> dict[str, float]:
    """The app's cache counters, from the line it logs when it shuts down (`"event": "cache_stats"`)."""
    results: dict[str, float] = {}
    for line in log_path.read_text(errors="replace").splitlines():
        if '"cache_stats"' not in line:
            continue
        try:
            stats = json.loads(line[line.index("{"):]).get("caches", {})
        except ValueError:
            continue
        for name, counts in stats.items():
            hits, misses = counts.get("hits", 0), counts.get("misses", 0)
            if hits + misses:
                results[f"day.cache.{name}.hit_rate"] = round(hits / (hits + misses), 3)
            results[f"day.cache.{name}.entries"] = float(counts.get("entries", 0))
    return results


def run(options: DayOptions | None = None) -> dict[str, float]:
    """Long because it is the run's sequence (database, servers, peers, rounds, shutdown), each step a call."""
    options = options or DayOptions()
    http_bench.BENCH_DIR.mkdir(parents=True, exist_ok=True)
    if http_bench.wrk_binary() is None:
        NOTES.append("day: skipped: wrk is not installed (make system-deps as root installs Debian's wrk)")
        return {}
    load = LoadSampler()
    server = http_bench.server_url()
    started = time.monotonic()
    _, generated = asyncio.run(day_gen.ensure(server, options.scale))
    ready = time.monotonic()
    url = asyncio.run(day_gen.run_copy(server, options.scale))
    copied = time.monotonic() - ready
    SETTINGS.update({**asdict(options), "database": day_gen.run_database_name(options.scale),
                     "template": day_gen.database_name(options.scale),
                     "topology": TOPOLOGIES[options.rooms_shared],
                     "generator_version": day_gen.GEN_VERSION, "generated_now": generated,
                     "prepare_seconds": round(time.monotonic() - started, 1), "copy_seconds": round(copied, 1),
                     "mix_percent": mix_of(options.groups),
                     "counts": asdict(day_gen.counts_for(options.scale))})
    print(f"day: database {day_gen.database_name(options.scale)} "
          f"({'generated' if generated else 'cached'}, {ready - started:.0f}s), run on a copy "
          f"({day_gen.run_database_name(options.scale)}, {copied:.0f}s)", flush=True)
    community = asyncio.run(load_community(url))
    servers: list[Any] = []
    results: dict[str, float] = {}
    try:
        app = http_bench.start_app(url, http_bench.Options(workers=1), name="app-day")
        servers.append(app)
        rooms_app = app
        if not options.rooms_shared:  # as the deploy runs them: compose's `realtime` service
            rooms_app = http_bench.start_app(url, http_bench.Options(workers=1), name="app-day-rooms")
            servers.append(rooms_app)
        baselines = http_bench.start_baselines(url, http_bench.Options(workers=1))
        servers.append(baselines)
        fetch_csrf(app.url, community)
        peers = start_peers(server, url, options, community, servers)
        results = measure(options, app, rooms_app, baselines, community, peers)
    finally:
        for s in reversed(servers):
            s.stop()
        if not options.keep:
            asyncio.run(day_gen.drop_run_copy(server, options.scale))
    if servers:
        results.update(cache_rates(servers[0].log_path))
    results.update(load.stop())
    NOTES.extend(busy_notes(results))
    if results.get("day.wrk.timeouts") or results.get("day.read.errors") or results.get("day.write.errors"):
        NOTES.append(f"day: {results.get('day.wrk.timeouts', 0):.0f} requests timed out (10 s) and "
                     f"{results.get('day.read.errors', 0) + results.get('day.write.errors', 0):.0f} were refused "
                     "(status >= 400; per group in day.<group>.errors): the p99s leave timeouts out")
    return results


def start_peers(server: str, url: str, options: DayOptions, community: Community, servers: list[Any]) -> list[Any]:
    """The peers that could be set up (bench/peers.py), serving the same 50 posts as our thread page; a peer
    that cannot is a note, not a failure."""
    if not options.peers:
        NOTES.append("day: peers skipped (--no-peers)")
        return []
    content = asyncio.run(peers.spirit_content(url, community.thread50))
    started = []
    for name, start in peers.PEERS.items():
        try:
            peer = start(server, content)
        except peers.PeerUnavailable as exc:
            NOTES.append(f"day: peer {name} skipped: {exc}")
            continue
        servers.append(peer)
        started.append(peer)
    return started
