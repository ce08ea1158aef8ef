"""The community-day dataset: 2,000 members, 20,000 threads, 1,000,000 posts, 50,000 reflections, 40 rooms
(at --scale 1), generated set-based (INSERT ... SELECT generate_series, COPY) into the bench's own database.

The database is named after the scale (`bench_day_1`, `bench_day_0p02`) and carries a `bench_day_meta` row with
GEN_VERSION: a rerun whose version and scale match reuses it (minutes saved); any change to what is generated
must bump GEN_VERSION. It is a template: each run works on its own copy (`bench_day_1_run`, `run_copy`), so
every run starts from the generated rows, whatever earlier runs wrote. The signed-in sessions' tokens are kept in
`bench_day_sessions` (a bench-only table, like b1's `bench_fortunes`), so the driver finds them again on a rerun.

Bulk inserts run with `session_replication_role = replica` (no triggers, no foreign-key checks: the generator
writes consistent rows itself) and with the posts' secondary indexes dropped and rebuilt afterwards; counters
(post_count, reply_count, thread_count, first_post_id, last_seq) are set from the rows at the end.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from html import escape

import asyncpg

from bench import http_bench
from bench.baselines import create_fortunes
from community.platform.accounts.security import new_token, token_hash
from community.platform.anonymity import Anonymity
from community.platform.db import asyncpg_args, with_database
from community.platform.migrate import upgrade
from community.reflections.actions import excerpt_of, reflection_tag
from community.reflections.models import ANON_SEQUENCES
from community.rooms.actions import member_tag

GEN_VERSION = 2  # 2: room_participants.local_id
WORDS = ("empathy compassion resident attending rotation night call patient family team time burnout rest "
         "kindness mentor listen hallway coffee shift exhausted grateful learning hidden curriculum role model "
         "breath pause story support colleague moment hard gentle honest tired hope ward clinic").split()
THEMES = ("burnout", "grief", "gratitude", "mistakes", "boundaries", "identity", "joy")
TEXTS = 997  # distinct post bodies; posts pick one by (thread, position), so neighbours differ


@dataclass
class Counts:
    members: int = 2000
    threads: int = 20_000
    posts: int = 1_000_000
    reflections: int = 50_000
    reflection_replies: int = 100_000
    reactions: int = 200_000
    rooms: int = 40
    sessions: int = 200       # signed-in members (HTTP sessions and room sockets)
    notifications: int = 40   # per session member
    watches: int = 10         # threads watched per session member


def counts_for(scale: float) -> Counts:
    """The full-size counts times `scale` (rooms and sessions keep a floor so a small run still has fan-out)."""
    full = Counts()
    scaled = {k: max(1, round(v * scale)) for k, v in asdict(full).items()}
    scaled["rooms"] = max(4, min(full.rooms, scaled["rooms"]))
    scaled["sessions"] = max(20, min(full.sessions, scaled["sessions"]))
    scaled["members"] = max(scaled["sessions"] + 10, scaled["members"])
    scaled["notifications"], scaled["watches"] = full.notifications, full.watches
    scaled["threads"] = max(10, scaled["threads"])
    scaled["posts"] = max(scaled["threads"] * 2, scaled["posts"])
    return Counts(**scaled)


def database_name(scale: float) -> str:
    return "bench_day_" + f"{scale:g}".replace(".", "p").replace("-", "m")


def thread_lengths(rng: random.Random, threads: int, posts: int, cap: int = 5000) -> list[int]:
    """Posts per thread, heavy-tailed (a Pareto draw: most threads a page or less, a few of many pages), each at
    least 1 and at most `cap`, summing exactly to `posts`."""
    raw = [rng.paretovariate(1.3) for _ in range(threads)]
    factor = (posts - threads) / sum(raw)
    lengths = [min(cap, 1 + math.floor(r * factor)) for r in raw]
    left = posts - sum(lengths)
    order = sorted(range(threads), key=lambda i: lengths[i])
    i = 0
    while left != 0:  # spread the rounding remainder (or the cap's excess) over the threads, shortest first
        k = order[i % threads]
        if left > 0 and lengths[k] < cap:
            lengths[k] += 1
            left -= 1
        elif left < 0 and lengths[k] > 1:
            lengths[k] -= 1
            left += 1
        i += 1
    return lengths


def sentence(rng: random.Random, low: int = 6, high: int = 18) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize() + "."


async def reserve_ids(conn: asyncpg.Connection, sequence: str, count: int) -> int:
    """Reserves `count` values of a sequence; returns the first."""
    last = await conn.fetchval("SELECT setval($1::regclass, nextval($1::regclass) + $2 - 1)", sequence, count)
    return last - count + 1


async def cached(url: str, scale: float) -> bool:
    """True when the database holds a complete generation of this version and scale."""
    try:
        conn = await asyncpg.connect(**asyncpg_args(url))
    except asyncpg.InvalidCatalogNameError:
        return False
    try:
        row = await conn.fetchrow("SELECT version, scale FROM bench_day_meta WHERE complete")
    except asyncpg.UndefinedTableError:
        return False
    finally:
        await conn.close()
    return row is not None and row["version"] == GEN_VERSION and row["scale"] == scale


async def ensure(server: str, scale: float, *, quiet: bool = False) -> tuple[str, bool]:
    """The generated community for `scale`, kept as a template: reused when cached (migrated to the head
    first), else created, migrated, seeded and generated. Returns (url, generated_now). Runs never write to
    it: they use `run_copy`."""
    name = database_name(scale)
    url = with_database(server, name)
    if await cached(url, scale):
        # A cached community follows the schema: a migration added since it was generated (an index, say)
        # would otherwise be measured only by fresh clones. A no-op when it is at the head already.
        await upgrade(url)
        return url, False
    await http_bench.create_database(server, name)
    await generate(url, scale, quiet=quiet)
    return url, True


def run_database_name(scale: float) -> str:
    return database_name(scale) + "_run"


async def run_copy(server: str, scale: float) -> str:
    """A fresh copy of the generated community for one run, so every run starts from the same rows: a run's
    replies, reflections and edits would otherwise stay, newest, where search and the wall look first, and
    slow every later run. Returns its url; `drop_run_copy` ends it."""
    return await copy_community(server, database_name(scale), run_database_name(scale))


async def copy_community(server: str, template: str, name: str) -> str:
    """`name` made anew as a copy of `template` (`CREATE DATABASE ... TEMPLATE`, file by file), with the
    signed-in sessions' expiry moved on."""
    await http_bench._admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                            f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    url = with_database(server, name)
    conn = await asyncpg.connect(**asyncpg_args(url))
    try:
        await conn.execute("UPDATE sessions SET expires_at = now() + interval '2 days' "
                           "WHERE user_id IN (SELECT user_id FROM bench_day_sessions)")
    finally:
        await conn.close()
    return url


async def drop_run_copy(server: str, scale: float) -> None:
    await http_bench.drop_database(server, run_database_name(scale))


def log(quiet: bool, started: float, message: str) -> None:
    if not quiet:
        print(f"  day-gen {time.monotonic() - started:6.1f}s {message}", flush=True)


async def generate(url: str, scale: float, *, seed: int = 20, quiet: bool = False) -> Counts:
    """Long because it is the list of steps, each a call, in the order the foreign keys need."""
    counts = counts_for(scale)
    rng = random.Random(seed)
    anonymity = Anonymity(http_bench.ANON_KEY)
    started = time.monotonic()
    conn = await asyncpg.connect(**asyncpg_args(url))
    try:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_day_meta (version integer NOT NULL, scale float8 "
                           "NOT NULL, complete boolean NOT NULL DEFAULT false, counts jsonb, seconds float8, "
                           "generated_at timestamptz NOT NULL DEFAULT now())")
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_day_sessions (user_id bigint PRIMARY KEY, "
                           "token text NOT NULL)")
        await conn.execute("SET session_replication_role = replica")
        await create_fortunes(conn)
        members = await gen_members(conn, counts)
        log(quiet, started, f"{len(members):,} members")
        first_thread = await gen_threads(conn, rng, counts, members)
        log(quiet, started, f"{counts.threads:,} threads")
        await gen_posts(conn, rng, members, first_thread)
        log(quiet, started, f"{counts.posts:,} posts")
        await gen_reactions(conn, counts, members)
        await gen_reflections(conn, rng, anonymity, counts, members)
        log(quiet, started, f"{counts.reflections:,} reflections, replies, reactions")
        sessions = members[:counts.sessions]
        await gen_sessions(conn, sessions)
        await gen_rooms(conn, anonymity, counts, sessions)
        await gen_personal(conn, counts, sessions)
        await conn.execute("SET session_replication_role = origin")
        await conn.execute("VACUUM ANALYZE")
        seconds = time.monotonic() - started
        await conn.execute("INSERT INTO bench_day_meta (version, scale, complete, counts, seconds) "
                           "VALUES ($1, $2, true, $3::jsonb, $4)", GEN_VERSION, scale,
                           _json(asdict(counts)), seconds)
        log(quiet, started, "done (vacuumed and analysed)")
    finally:
        await conn.close()
    return counts


def _json(value: dict) -> str:
    return "{" + ",".join(f'"{k}":{v}' for k, v in value.items()) + "}"


async def gen_members(conn: asyncpg.Connection, counts: Counts) -> list[int]:
    rows = await conn.fetch(
        "INSERT INTO users (email, display_name, handle, role, guidelines_accepted_at, created_at) "
        "SELECT 'day' || n || '@example.invalid', 'Member ' || n, 'day_member_' || n, "
        "CASE WHEN n % 4 = 0 THEN 'attending' ELSE 'resident' END, now(), now() - interval '400 days' "
        "FROM generate_series(1, $1) AS n RETURNING id", counts.members)
    return sorted(r["id"] for r in rows)


async def gen_threads(conn: asyncpg.Connection, rng: random.Random, counts: Counts, members: list[int]) -> int:
    """The threads, by COPY; returns the first generated id (the seed's own threads come before it)."""
    categories = [r["id"] for r in await conn.fetch(
        "SELECT id FROM categories WHERE archived_at IS NULL ORDER BY position, id")]
    lengths = thread_lengths(rng, counts.threads, counts.posts)
    first = await reserve_ids(conn, "threads_id_seq", counts.threads)
    now = datetime.now(UTC)
    rows = []
    for i, length in enumerate(lengths):
        created = now - timedelta(seconds=rng.randint(3600, 365 * 86400))
        last = min(now - timedelta(seconds=60), created + timedelta(seconds=rng.randint(60, 4 * 3600)) * length)
        # Categories are Zipf-ish too: the first ones hold most threads.
        category = categories[min(len(categories) - 1, int(rng.paretovariate(1.0)) - 1)]
        rows.append((first + i, category, members[rng.randrange(len(members))], sentence(rng, 4, 10)[:200],
                     "visible", length, length - 1, created, last))
    await conn.copy_records_to_table(
        "threads", records=rows, columns=["id", "category_id", "author_id", "title", "state", "post_count",
                                          "reply_count", "created_at", "last_activity_at"])
    return first


async def gen_posts(conn: asyncpg.Connection, rng: random.Random, members: list[int], first_thread: int) -> None:
    """All posts in one INSERT ... SELECT over threads x generate_series(1, post_count); the bodies come from a
    temporary table of TEXTS generated paragraphs. The posts' secondary indexes are rebuilt afterwards."""
    texts = [" ".join(sentence(rng) for _ in range(rng.randint(1, 5))) for _ in range(TEXTS)]
    await conn.execute("CREATE TEMP TABLE day_texts (id integer PRIMARY KEY, body text NOT NULL)")
    await conn.copy_records_to_table("day_texts", records=list(enumerate(texts)))
    indexes = await conn.fetch(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = 'posts' AND i.schemaname = 'public' "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)")
    for row in indexes:
        await conn.execute(f'DROP INDEX "{row["indexname"]}"')
    await conn.execute(
        """INSERT INTO posts (thread_id, author_id, position, body_md, body_html, body_text, state, created_at)
           SELECT t.id, ($1::bigint[])[1 + ((t.id * 7919 + g * 104729) % cardinality($1::bigint[]))], g,
                  x.body, '<p>' || x.body || '</p>', x.body, 'visible',
                  t.created_at + (t.last_activity_at - t.created_at) * (g - 1) / greatest(t.post_count, 1)
             FROM threads t CROSS JOIN LATERAL generate_series(1, t.post_count) AS g
             JOIN day_texts x ON x.id = (t.id * 31 + g * 17) % $2
            WHERE t.id >= $3
            ORDER BY t.id, g""", members, TEXTS, first_thread)
    for row in indexes:
        await conn.execute(row["indexdef"])
    await conn.execute("UPDATE threads t SET first_post_id = p.id FROM posts p "
                       "WHERE p.thread_id = t.id AND p.position = 1 AND t.id >= $1", first_thread)
    await conn.execute("UPDATE categories c SET thread_count = (SELECT count(*) FROM threads t "
                       "WHERE t.category_id = c.id AND t.state = 'visible')")
    await conn.execute("ANALYZE threads; ANALYZE posts")


async def gen_reactions(conn: asyncpg.Connection, counts: Counts, members: list[int]) -> None:
    await conn.execute(
        """INSERT INTO reactions (post_id, kind, user_id)
           SELECT p.lo + (n * 2654435761) % (p.hi - p.lo + 1), (ARRAY['thanks','me_too','helped'])[1 + n % 3],
                  ($2::bigint[])[1 + (n * 40503) % cardinality($2::bigint[])]
             FROM (SELECT min(id) AS lo, max(id) AS hi FROM posts) p, generate_series(1, $1::bigint) AS n
           ON CONFLICT DO NOTHING""", counts.reactions, members)


def reflection_rows(rng: random.Random, anonymity: Anonymity, counts: Counts, members: list[int], prompts: list[int],
                    named_first: int, anon_first: int) -> list[tuple]:
    """A third anonymous, a sixth private, the rest named; anonymous and private pieces carry the writer's tag
    and keep only the day (as the app writes them), anonymous ones a sealed author too."""
    rows = []
    now = datetime.now(UTC)
    named_id, anon_id = named_first, anon_first
    for n in range(counts.reflections):
        visibility = "anonymous" if n % 3 == 0 else "private" if n % 6 == 1 else "named"
        author = members[rng.randrange(len(members))]
        at = now - timedelta(seconds=rng.randint(600, 365 * 86400))
        body = "\n\n".join(sentence(rng, 10, 30) for _ in range(rng.randint(1, 4)))
        html = "".join(f"<p>{escape(p)}</p>" for p in body.split("\n\n"))
        prompt = prompts[n % len(prompts)] if prompts and n % 4 == 0 else None
        theme = THEMES[n % len(THEMES)] if n % 2 == 0 else None
        title = sentence(rng, 3, 8)[:200]
        if visibility == "named":
            rid, named_id = named_id, named_id + 1
            rows.append((rid, author, None, None, visibility, True, prompt, theme, title, body, html,
                         excerpt_of(body), at, at))
        else:
            rid, anon_id = anon_id, anon_id + 1
            day = at.replace(hour=0, minute=0, second=0, microsecond=0)
            sealed = anonymity.seal(str(author)) if visibility == "anonymous" else None
            rows.append((rid, None, reflection_tag(anonymity, author, rid), sealed, visibility, False, prompt,
                         theme, title, body, html, excerpt_of(body), day, day))
    return rows


async def gen_reflections(conn: asyncpg.Connection, rng: random.Random, anonymity: Anonymity, counts: Counts,
                          members: list[int]) -> None:
    prompts = [r["id"] for r in await conn.fetch("SELECT id FROM prompts WHERE active ORDER BY id")]
    named = sum(1 for n in range(counts.reflections) if not (n % 3 == 0 or n % 6 == 1))
    named_first = await reserve_ids(conn, "reflections_id_seq", named)
    anon_first = await reserve_ids(conn, ANON_SEQUENCES["reflections"], counts.reflections - named)
    rows = reflection_rows(rng, anonymity, counts, members, prompts, named_first, anon_first)
    await conn.copy_records_to_table(
        "reflections", records=rows,
        columns=["id", "author_id", "author_tag", "sealed_author", "visibility", "shown_named", "prompt_id",
                 "theme", "title", "body", "body_html", "excerpt", "created_at", "updated_at"])
    # Named replies by members on shared pieces, a few minutes to days after the piece.
    await conn.execute(
        """WITH shared AS (SELECT array_agg(id ORDER BY id) AS ids FROM reflections WHERE visibility <> 'private')
           INSERT INTO reflection_replies (reflection_id, author_id, position, body, body_html, created_at)
           SELECT r.id, ($2::bigint[])[1 + (n * 7907) % cardinality($2::bigint[])], n,
                  'Thank you for writing this. ' || x.body, '<p>Thank you for writing this. ' || x.body || '</p>',
                  r.created_at + (n % 97) * interval '1 hour'
             FROM shared CROSS JOIN generate_series(1, $1::bigint) AS n
             JOIN day_texts x ON x.id = n % $3
             JOIN reflections r ON r.id = shared.ids[1 + (n * 2654435761) % cardinality(shared.ids)]""",
        counts.reflection_replies, members, TEXTS)
    await conn.execute(
        """INSERT INTO reflection_reactions (reflection_id, reactor_tag, kind)
           SELECT r.id, md5(r.id::text || ':' || k), (ARRAY['thanks','metoo','helped'])[1 + k % 3]
             FROM reflections r, generate_series(0, (r.id % 5)::int) AS k WHERE r.visibility <> 'private'""")


async def gen_sessions(conn: asyncpg.Connection, sessions: list[int]) -> None:
    tokens = [new_token() for _ in sessions]
    await conn.execute(
        "INSERT INTO sessions (token_hash, user_id, expires_at) SELECT unnest($1::text[]), unnest($2::bigint[]), "
        "now() + interval '2 days'", [token_hash(t) for t in tokens], sessions)
    await conn.executemany("INSERT INTO bench_day_sessions (user_id, token) VALUES ($1, $2)",
                           list(zip(sessions, tokens, strict=True)))


async def gen_rooms(conn: asyncpg.Connection, anonymity: Anonymity, counts: Counts, sessions: list[int]) -> None:
    """Open standing rooms, each with its share of the session members as participants (named, label 'Member')."""
    rooms = [r["id"] for r in await conn.fetch(
        "INSERT INTO rooms (kind, title, description, ground_rules, capacity, state, opened_at) "
        "SELECT 'standing', 'Day room ' || n, 'A generated room.', 'Be kind. What is said here stays here.', "
        "1000, 'open', now() FROM generate_series(1, $1) AS n RETURNING id", counts.rooms)]
    local_ids = random.Random(7).sample(range(1, 2**31), len(sessions))  # room-local ids, distinct overall
    rows = [(rooms[i % len(rooms)], local_ids[i], member_tag(anonymity, uid, rooms[i % len(rooms)]), uid,
             f"Member {uid}") for i, uid in enumerate(sessions)]
    await conn.copy_records_to_table("room_participants", records=rows,
                                     columns=["room_id", "local_id", "member_tag", "user_id", "label"])


async def gen_personal(conn: asyncpg.Connection, counts: Counts, sessions: list[int]) -> None:
    """What a signed-in member's own pages show: watched threads and a page or two of notifications."""
    await conn.execute(
        """INSERT INTO thread_watches (user_id, thread_id, level)
           SELECT u, t.lo + (u * 7919 + k * 104729) % (t.hi - t.lo + 1), 'watch'
             FROM unnest($1::bigint[]) AS u, generate_series(1, $2) AS k,
                  (SELECT min(id) AS lo, max(id) AS hi FROM threads) t
           ON CONFLICT DO NOTHING""", sessions, counts.watches)
    await conn.execute(
        # last_id is the row's own id (the trigger that fills it is off under session_replication_role).
        """INSERT INTO notifications (id, last_id, user_id, kind, text, url, created_at, read_at)
           SELECT n.id, n.id, n.u, 'reply', 'Someone replied in a thread you watch.', '/t/' || n.thread_id,
                  now() - n.k * interval '3 hours', CASE WHEN n.k > 5 THEN now() END
             FROM (SELECT nextval(pg_get_serial_sequence('notifications', 'id')) AS id, u, k, w.thread_id
                     FROM unnest($1::bigint[]) AS u, generate_series(1, $2) AS k,
                          LATERAL (SELECT thread_id FROM thread_watches WHERE user_id = u ORDER BY thread_id
                                   OFFSET k % $3 LIMIT 1) w) n""", sessions, counts.notifications, counts.watches)
