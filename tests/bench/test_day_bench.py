"""The day benchmark's own code, at a tiny scale and in seconds: the generator writes a consistent community,
the plan draws each group from the right set, day_mix.lua sends what the plan says and times it per group, and
a round's report holds every key the README and the targets name. The day workload itself never runs here."""

import random
import re
import shutil
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest

from bench import day_bench, day_gen
from community.platform.anonymity import Anonymity
from community.platform.db import asyncpg_args


def test_thread_lengths_sum_exactly_and_stay_in_bounds():
    rng = random.Random(3)
    lengths = day_gen.thread_lengths(rng, 200, 10_000, cap=400)
    assert sum(lengths) == 10_000 and len(lengths) == 200
    assert min(lengths) >= 1 and max(lengths) <= 400
    assert sorted(lengths)[100] < 50 < max(lengths)  # heavy-tailed: a short median, some long threads


async def test_generator_at_a_tiny_scale_is_consistent(live_database, server_url):
    counts = await day_gen.generate(live_database, 0.001, quiet=True)
    conn = await asyncpg.connect(**asyncpg_args(live_database))
    try:
        posts = await conn.fetchval("SELECT count(*) FROM posts p JOIN threads t ON t.id = p.thread_id "
                                    "JOIN users u ON u.id = t.author_id WHERE u.email LIKE 'day%'")
        broken = await conn.fetchval(
            "SELECT count(*) FROM threads t JOIN users u ON u.id = t.author_id WHERE u.email LIKE 'day%' AND "
            "(t.post_count <> (SELECT count(*) FROM posts p WHERE p.thread_id = t.id) OR t.first_post_id <> "
            "(SELECT id FROM posts p WHERE p.thread_id = t.id AND p.position = 1) OR t.post_count <> "
            "(SELECT max(position) FROM posts p WHERE p.thread_id = t.id))")
        rows = await conn.fetch("SELECT id, visibility, author_id, author_tag, sealed_author FROM reflections "
                                "WHERE title IS NOT NULL AND body_html LIKE '<p>%'")
        sessions = await conn.fetch("SELECT b.user_id, b.token, s.token_hash FROM bench_day_sessions b "
                                    "JOIN sessions s ON s.user_id = b.user_id")
        seated = await conn.fetchval("SELECT count(DISTINCT user_id) FROM room_participants WHERE user_id = ANY($1)",
                                     [r["user_id"] for r in sessions])
        found = await conn.fetchval("SELECT count(*) FROM posts WHERE search @@ to_tsquery('english', 'mentor')")
    finally:
        await conn.close()
    assert posts == counts.posts and broken == 0 and found > 0
    anonymous = [r for r in rows if r["visibility"] == "anonymous"]
    assert len(rows) >= counts.reflections and abs(len(anonymous) - counts.reflections / 3) <= 1
    anonymity = Anonymity("bench-anon-key-" + "a" * 40)
    assert all(r["author_id"] is None and r["author_tag"] and anonymity.unseal_id(r["sealed_author"])
               for r in anonymous)
    assert len(sessions) == counts.sessions and seated == counts.sessions
    assert await day_gen.cached(live_database, 0.001) and not await day_gen.cached(live_database, 0.002)
    await each_run_starts_from_the_generated_rows(server_url, live_database)


async def each_run_starts_from_the_generated_rows(server: str, generated: str) -> None:
    """A run works on a copy of the community; what it writes is gone by the next run's copy, and the
    generated database keeps its rows."""
    name = urlsplit(generated).path.lstrip("/")
    copy_name = f"{name}_run"
    for run in range(2):
        url = await day_gen.copy_community(server, name, copy_name)
        conn = await asyncpg.connect(**asyncpg_args(url))
        try:
            left_over = await conn.fetchval("SELECT count(*) FROM posts WHERE body_md = 'written by a run'")
            seconds_left = await conn.fetchval(
                "SELECT min(extract(epoch FROM s.expires_at - now())) FROM sessions s JOIN bench_day_sessions b "
                "ON b.user_id = s.user_id")
            await conn.execute("UPDATE sessions SET expires_at = now() - interval '1 day'")
            await conn.execute("UPDATE posts SET body_md = 'written by a run' WHERE id = (SELECT min(id) FROM posts)")
        finally:
            await conn.close()
        assert left_over == 0, f"run {run} saw the earlier run's write"
        assert seconds_left > 86_400, f"run {run}'s sessions are not signed in for the run"
    conn = await asyncpg.connect(**asyncpg_args(generated))
    try:
        assert await conn.fetchval("SELECT count(*) FROM posts WHERE body_md = 'written by a run'") == 0
    finally:
        await conn.close()
    await day_gen.http_bench._admin(server, f'DROP DATABASE "{copy_name}" WITH (FORCE)')


def fake_community() -> day_bench.Community:
    now = datetime.now(UTC)
    return day_bench.Community(
        sessions=[(i, f"tok{i}") for i in range(1, 21)],
        threads=[(100 + i, 1 + (i * 37) % 300, 10_000 + i * 300) for i in range(50)],
        categories=[("first", [day_bench.make_cursor(now - timedelta(days=k), k) for k in range(1, 6)]),
                    ("second", [])],
        wall_cursors=[900, 880, 860], reflections=list(range(1000, 1100)),
        own_posts={i: 50_000 + i for i in range(1, 21)}, post_range=(10_000, 30_000),
        rooms=[(7, i) for i in range(1, 21)], thread50=101,
        csrf={i: f"csrf{i}" for i in range(1, 21)},
        # every post a reaction can be drawn on has one of the sessions' members as its author
        authored={(1 + (i * 7 + k) % 20, 10_000 + i * 300 + k) for i in range(50) for k in range(day_bench.PAGE_SIZE)})


def test_the_plan_draws_each_group_from_its_own_set():
    c = fake_community()
    lines = day_bench.make_plan(c, 4000, seed=2)
    threads = {t: posts for t, posts, _ in c.threads}
    cursors = {cur for _, cs in c.categories for cur in cs}
    writes = reactions = 0
    for line in lines:
        method, group, path, cookie, body = line.split("\t")
        member = int(re.match(r"session=tok(\d+); csrf=csrf(\d+)$", cookie).group(1))
        assert cookie.endswith(f"csrf=csrf{member}")
        url = urlsplit(path)
        query = parse_qs(url.query)
        assert group in day_bench.READS or group in day_bench.WRITES
        assert (method == "GET") == (group in day_bench.READS)
        if method == "POST":
            writes += 1
            assert parse_qs(body)["csrf_token"] == [f"csrf{member}"]
        if group == "thread":
            thread = int(url.path.removeprefix("/t/"))
            assert int(query.get("page", ["1"])[0]) <= -(-threads[thread] // day_bench.PAGE_SIZE)
        elif group == "category":
            assert url.path in ("/c/first", "/c/second") and all(a in cursors
                                                               for a in query.get("after", []))
        elif group == "wall":
            assert url.path == "/reflections" and all(int(b) in c.wall_cursors for b in query.get("before", []))
        elif group in ("reflection", "reflection_reply"):
            assert int(url.path.split("/")[2]) in c.reflections
        elif group == "edit":
            assert path == f"/p/{c.own_posts[member]}/edit"
        elif group == "flag":
            assert path == "/flag/post/@POST@"
        elif group == "reaction":  # never on the member's own post, which the app refuses with a 400
            post = int(url.path.split("/")[2])
            assert any(first <= post < first + min(n, day_bench.PAGE_SIZE) for _, n, first in c.threads)
            assert (member, post) not in c.authored
            reactions += 1
    assert reactions > 20
    assert 0.035 < writes / len(lines) < 0.065


class _Echo(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, bytes]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        _Echo.seen.append((self.command, self.path, body))
        self.send_response(303 if self.command == "POST" else 200)
        self.send_header("X-Request-Id", self.headers.get("X-Request-Id", ""))
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_day_mix_lua_sends_the_plan_and_times_each_group(tmp_path):
    plan = tmp_path / "plan.tsv"
    plan.write_text("GET\tthread\t/t/5?page=2\tsession=a; csrf=b\t\n"
                    "POST\tflag\t/flag/post/@POST@\tsession=a; csrf=b\tcsrf_token=b&reason=spam\n")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        env = {"DAY_PLAN": str(plan), "DAY_OUT": str(tmp_path / "lat_"), "DAY_ORIGIN": url,
               "DAY_POST_LO": "40", "DAY_POST_HI": "49", "PATH": "/usr/bin:/bin"}
        subprocess.run([shutil.which("wrk"), "-t", "1", "-c", "2", "-d", "1s", "-s", str(day_bench.LUA), url],
                       env=env, capture_output=True, timeout=30, check=True)
    finally:
        server.shutdown()
    assert _Echo.seen
    for method, path, body in _Echo.seen:
        if method == "GET":
            assert path == "/t/5?page=2" and body == b""
        else:
            assert re.fullmatch(r"/flag/post/4\d", path) and body == b"csrf_token=b&reason=spam"
    groups = day_bench.read_latencies(str(tmp_path / "lat_"), 1)
    assert set(groups) == {"thread", "flag"} and all(g["ms"] and not g["errors"] for g in groups.values())


def test_a_round_reports_every_key():
    groups = {g: {"ms": [1.0, 2.0, 3.0], "errors": []} for g in (*day_bench.READS, *day_bench.WRITES)}
    summary = {"duration_us": 10_000_000, "requests": 3 * len(groups), "p99_us": 3000}
    ws = {"fanout_ms": [4.0, 5.0], "ack_ms": [2.0, 3.0], "sent": 2, "incomplete": 0, "sockets": 10}
    r = {"day.b1.rps": 100.0, "day.b1.cpu_ms_per_req": 0.5, "peer.spirit.thread_rps": 6.0,
         "day.thread50.rps": 400.0, **day_bench.mix_figures(groups, summary, 0.2, ws)}
    results = {**day_bench.median_rounds([day_bench.add_ratios(r, ["spirit"])]),
               "day.rss_mb": 200.0}
    keys = {"day.read.p99_ms", "day.write.p99_ms", "day.read.ratio_b1", "day.ws.p99_ms", "peer.spirit.thread_rps",
            "http.thread.ratio_spirit", "write.reply.p99_ms", "write.reflection.p99_ms",
            "write.room_message.p99_ms", "day.rss_mb", *day_bench.TARGETS}
    assert keys <= set(results)
    assert results["http.thread.ratio_spirit"] == pytest.approx(66.7) and results["day.read.p99_ms"] == 3.0
    for group in (*day_bench.READS, *day_bench.WRITES):
        assert {f"day.{group}.p50_ms", f"day.{group}.p99_ms", f"day.{group}.count"} <= set(results)


def test_the_plan_can_hold_only_the_groups_being_profiled():
    lines = day_bench.make_plan(fake_community(), 500, seed=3, groups=("journal", "reply"))
    assert {line.split("\t")[1] for line in lines} == {"journal", "reply"}
    with pytest.raises(ValueError, match="unknown day groups nope"):
        day_bench.mix_of(("journal", "nope"))


def test_the_room_sockets_get_a_process_of_their_own_unless_shared():
    from bench.__main__ import day_options, parse_args

    split = day_options(parse_args(["--only", "day", "--scale", "0.1"]))
    shared = day_options(parse_args(["--only", "day", "--rooms-shared"]))
    assert not split.rooms_shared and shared.rooms_shared
    assert day_bench.TOPOLOGIES[False] != day_bench.TOPOLOGIES[True]


def test_the_room_process_reports_its_memory_under_its_own_keys():
    import os

    mine = day_bench.rss_mb(os.getpid(), "day.rooms")
    assert set(mine) == {"day.rooms.rss_mb", "day.rooms.rss_peak_mb"}
    assert 0 < mine["day.rooms.rss_mb"] <= mine["day.rooms.rss_peak_mb"]
    assert set(day_bench.rss_mb(os.getpid())) == {"day.rss_mb", "day.rss_peak_mb"}
