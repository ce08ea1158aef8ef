"""Reading threads: the categories index, category pages (keyset), thread pages (by position), post history.

Hot pages run a fixed number of plain SQL statements that return rows (no ORM graphs), as prepared statements
on a bare asyncpg connection (Database.raw): the thread page is one statement (the thread, its read state and
its page of posts with reaction counts, unless the process holds a current copy of that page: PostPages), a
category page two (the category, its page of threads).
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from community.discussions.models import Post, PostRevision, Thread
from community.discussions.policy import thread_visible_sql, visible_to
from community.platform.accounts.models import User
from community.platform.errors import Forbidden, NotFound
from community.platform.numbers import parse_int
from community.platform.times import parse_moment
from community.platform.viewer import Viewer

SLUG_RE = re.compile(r"^[a-z0-9-]{1,60}$")
PAGE_SIZE = 50       # posts per thread page
THREADS_PER_PAGE = 30

# Who may see what: visible content to every member; hidden, pending and removed content to its author (marked)
# and to moderators.
_CATEGORIES = text("""
SELECT c.id, c.slug, c.name, c.description, c.position, c.thread_count, c.archived_at,
       (SELECT max(t.last_activity_at) FROM threads t WHERE t.category_id = c.id AND t.state = 'visible')
         AS last_activity_at
FROM categories c ORDER BY c.archived_at IS NOT NULL, c.position, c.id
""")


async def list_categories(session: AsyncSession) -> list[Any]:
    return list((await session.execute(_CATEGORIES)).mappings())


@dataclass
class CategoryPage:
    category: dict[str, Any]  # CATEGORY_COLUMNS (category_page; shared between requests: read only)
    threads: list[Any]      # asyncpg Records (THREADS_SQL): pinned first, then newest activity first
    next_cursor: str | None
    first_page: bool


# A category page is one statement on a bare asyncpg connection (Database.raw): prepared once per connection,
# Records as they come. Each row is one thread, led by the category as JSON text (`category`), so that the page
# costs one round trip; a category without threads (to show) still gives one row, with NULL thread columns.
# Carrying the category on every row costs a few bytes per row (the thread columns are what the row cache keys
# on; a renamed category gives every row a new key, which is right).
CATEGORY_COLUMNS = ("id", "slug", "name", "description", "position", "archived_at", "thread_count")

_THREAD_COLUMNS = """
  t.id, t.title, t.state, t.pinned, t.locked, t.reply_count, t.post_count, t.last_activity_at, t.created_at,
  t.author_id, coalesce(u.display_name, 'Community team') AS author_name, r.last_read_position
"""
_VISIBLE_1 = thread_visible_sql("t", "$1", "$3")  # the discussions visibility rule (policy), as SQL
_VISIBLE_2 = thread_visible_sql("t", "$2", "$3")
# $1 viewer id, $2 category slug, $3 viewer is staff, $4 first page, $5..$6 the cursor, $7 the page size + 1.
THREADS_SQL = f"""
WITH c AS (
  SELECT {", ".join(CATEGORY_COLUMNS)} FROM categories WHERE slug = $2::text
)
SELECT (SELECT row_to_json(c)::text FROM c) AS category, t.*
FROM c LEFT JOIN LATERAL (
  (SELECT {_THREAD_COLUMNS}
   FROM threads t LEFT JOIN users u ON u.id = t.author_id
   LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = $1::bigint
   WHERE $4::boolean AND t.category_id = c.id AND t.pinned
     AND {_VISIBLE_1}
   ORDER BY t.last_activity_at DESC, t.id DESC LIMIT 20)
  UNION ALL
  (SELECT {_THREAD_COLUMNS}
   FROM threads t LEFT JOIN users u ON u.id = t.author_id
   LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = $1::bigint
   WHERE t.category_id = c.id AND NOT t.pinned
     AND {_VISIBLE_1}
     AND (t.last_activity_at, t.id) < ($5::timestamptz, $6::bigint)
   ORDER BY t.last_activity_at DESC, t.id DESC LIMIT $7::int)
) t ON true
ORDER BY t.pinned DESC, t.last_activity_at DESC, t.id DESC
"""

_FAR_FUTURE = datetime(9999, 1, 1).astimezone()


def parse_cursor(raw: str) -> tuple[datetime, int] | None:
    at, _, ident = raw.partition("~")
    number = parse_int(ident)
    if number is None or len(at) > 40:
        return None
    when = parse_moment(at)
    return (when, number) if when is not None else None


def make_cursor(at: datetime, ident: int) -> str:
    return f"{at.isoformat()}~{ident}"


async def category_page(connection: Any, viewer: Viewer, slug: str, cursor: str = "") -> CategoryPage:
    """`connection`: a raw asyncpg connection (Database.raw). One statement."""
    if not SLUG_RE.match(slug):
        raise NotFound("There is no such category.")
    parsed = parse_cursor(cursor) if cursor else None
    before_at, before_id = parsed or (_FAR_FUTURE, 2**62)
    rows = await connection.fetch(THREADS_SQL, viewer.id, slug, viewer.is_moderator, parsed is None,
                                  before_at, before_id, THREADS_PER_PAGE + 1)
    if not rows:
        raise NotFound("There is no such category.")
    category = _category_of(rows[0]["category"])
    threads = [r for r in rows if r["id"] is not None]
    pinned = [r for r in threads if r["pinned"]]
    regular = [r for r in threads if not r["pinned"]]
    next_cursor = None
    if len(regular) > THREADS_PER_PAGE:
        regular = regular[:THREADS_PER_PAGE]
        last = regular[-1]
        next_cursor = make_cursor(last["last_activity_at"], last["id"])
    return CategoryPage(category, pinned + regular, next_cursor, parsed is None)


@lru_cache(maxsize=256)
def _category_of(raw: str) -> dict[str, Any]:
    """The category's JSON (the same text on every row, and from one page view to the next) as a dict; times
    become datetimes again. Cached by its text, so a page view parses nothing; callers never change it."""
    category = json.loads(raw)
    if category["archived_at"] is not None:
        category["archived_at"] = datetime.fromisoformat(category["archived_at"])
    return category


# ---- thread page ---------------------------------------------------------------------------------------------

# The thread page is one statement on a bare asyncpg connection (Database.raw), prepared once per connection:
# the thread with its category, the viewer's read position and watch level before this visit, (as a
# data-modifying CTE) the new read position for the page being shown, the viewer's own reactions on the page,
# and, unless the caller's cached copy is still current, the page of posts with their reaction counts. Each
# result row is the thread's columns followed by one post's (p_*); a page with no posts (or whose posts were
# not sent) is one row whose post columns are NULL.
# $1 thread id, $2 viewer id, $3 viewer is staff, $4..$5 the positions on the page, $6..$7 the content version
# and epoch of the caller's cached copy of that page of posts (-1 when it has none).
#
# The posts are the same for every viewer (a PostPages cache entry is shared): every post on the page, whatever
# its state, once the viewer may see the thread; thread_page() then keeps those the viewer may see, and adds
# the viewer's own reactions (`my_reactions`, "post id:kind,...") into `p_mine`. `stale` says whether the posts
# were sent: the thread's content_version or the content_epoch differs from the cached copy's (see migration
# 0007: triggers give a new value on every write to posts and reactions, and on member renames). Both are
# read in the same snapshot as the posts, so a cached copy that matches is what this statement would return.
#
# `p_reactions` (JSON text, kind -> count) and `p_mine` (the viewer's kinds, comma-separated) are text so that
# a row's post part is hashable as it is: web.post_fragments uses it as its cache key.
THREAD_COLUMNS = ("id", "title", "state", "pinned", "locked", "post_count", "reply_count", "author_id",
                  "first_post_id", "created_at", "last_activity_at", "category_id", "category_slug",
                  "category_name", "category_archived_at", "last_read", "watch", "content_version",
                  "content_epoch", "stale", "my_reactions")
POST_COLUMNS = ("id", "position", "author_id", "reply_to_id", "body_html", "state", "removed_reason",
                "deleted_by_author", "edited_at", "created_at", "author_name", "author_handle", "author_role",
                "reply_to_position", "reactions", "mine", "has_dependents")
THREAD_SQL = """
WITH e AS (
  SELECT value FROM content_epoch WHERE id = 1
), t AS (
  SELECT t.id, t.title, t.state, t.pinned, t.locked, t.post_count, t.reply_count, t.author_id, t.first_post_id,
         t.created_at, t.last_activity_at, c.id AS category_id, c.slug AS category_slug,
         c.name AS category_name, c.archived_at AS category_archived_at,
         (SELECT r.last_read_position FROM thread_reads r WHERE r.user_id = $2::bigint AND r.thread_id = t.id)
           AS last_read,
         (SELECT w.level FROM thread_watches w WHERE w.user_id = $2::bigint AND w.thread_id = t.id) AS watch,
         t.content_version, (SELECT value FROM e) AS content_epoch,
         (t.content_version, (SELECT value FROM e)) IS DISTINCT FROM ($6::bigint, $7::bigint) AS stale,
         (SELECT string_agg(r.post_id || ':' || r.kind, ',')
          FROM posts q JOIN reactions r ON r.post_id = q.id AND r.user_id = $2::bigint
          WHERE q.thread_id = t.id AND q.position BETWEEN $4::int AND $5::int) AS my_reactions
  FROM threads t JOIN categories c ON c.id = t.category_id WHERE t.id = $1::bigint
), seen AS (
  INSERT INTO thread_reads (user_id, thread_id, last_read_position, updated_at)
  SELECT $2::bigint, t.id, LEAST($5::int, t.post_count), now() FROM t
  WHERE {_VISIBLE_2}
    -- Write only when the position advances: a re-read then writes nothing, so it needs no commit flush.
    AND coalesce(t.last_read, 0) < LEAST($5::int, t.post_count)
  ON CONFLICT (user_id, thread_id) DO UPDATE
    SET last_read_position = GREATEST(thread_reads.last_read_position, EXCLUDED.last_read_position),
        updated_at = now()
  RETURNING 1
), reactions AS (
  -- The reaction counts of the page's posts, counted once for the page (not one sub-select per post).
  SELECT post_id, json_object_agg(kind, n ORDER BY kind)::text AS counts
  FROM (SELECT r.post_id, r.kind, count(*) AS n
        FROM t JOIN posts q ON q.thread_id = t.id AND q.position BETWEEN $4::int AND $5::int
        JOIN reactions r ON r.post_id = q.id
        WHERE t.stale
        GROUP BY r.post_id, r.kind) reacted
  GROUP BY post_id
)
SELECT t.*, p.*
FROM t
LEFT JOIN LATERAL (
  SELECT p.id AS p_id, p.position AS p_position, p.author_id AS p_author_id, p.reply_to_id AS p_reply_to_id,
         p.body_html AS p_body_html, p.state AS p_state, p.removed_reason AS p_removed_reason,
         p.deleted_by_author AS p_deleted_by_author, p.edited_at AS p_edited_at, p.created_at AS p_created_at,
         coalesce(u.display_name, CASE WHEN p.author_id IS NULL THEN 'Community team' ELSE 'Former member' END)
           AS p_author_name,
         u.handle AS p_author_handle, u.role AS p_author_role,
         rp.position AS p_reply_to_position,
         ra.counts AS p_reactions, NULL::text AS p_mine,
         CASE WHEN p.deleted_by_author THEN EXISTS (
           SELECT 1 FROM posts c WHERE c.reply_to_id = p.id AND c.state = 'visible') END AS p_has_dependents
  FROM posts p
  LEFT JOIN users u ON u.id = p.author_id
  LEFT JOIN posts rp ON rp.id = p.reply_to_id
  LEFT JOIN reactions ra ON ra.post_id = p.id
  WHERE t.stale AND p.thread_id = t.id AND p.position BETWEEN $4::int AND $5::int
    -- No posts at all from a thread the viewer may not see (thread_page() then answers 404).
    AND {_VISIBLE_2}
  -- Not merged into the outer join, so `t.stale` is checked once, before any post is read.
  OFFSET 0
) p ON true
ORDER BY p.p_position
""".replace("{_VISIBLE_2}", _VISIBLE_2)
POST_AT = len(THREAD_COLUMNS)  # a row's post part: row[POST_AT:], in POST_COLUMNS order
_P_ID, _P_POSITION, _P_AUTHOR, _P_STATE, _P_DELETED, _P_MINE, _P_DEPENDENTS = (
    POST_COLUMNS.index(name) for name in ("id", "position", "author_id", "state", "deleted_by_author", "mine",
                                          "has_dependents"))


class PostPages:
    """Pages of posts as THREAD_SQL last sent them, per (thread, first position, last position), with the
    content version and epoch they were read with; an app process keeps one (web.discussions). A small LRU.

    An entry is only ever used when the statement, in the same snapshot, finds the same version and epoch, so
    it cannot be stale; entries hold every post of the page (viewer-independent), filtered per viewer.
    """

    def __init__(self, max_entries: int = 200) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[int, int, int], tuple[int, int, list[tuple]]] = OrderedDict()
        self.found = 0   # lookups that found an entry (the caller may still find it stale: see `stale`)
        self.missed = 0
        self.stale = 0   # entries found but older than the thread's version: the page was read again

    def get(self, key: tuple[int, int, int]) -> tuple[int, int, list[tuple]] | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            self.found += 1
        else:
            self.missed += 1
        return entry

    def stats(self) -> dict[str, int]:
        return {"hits": self.found - self.stale, "misses": self.missed + self.stale, "entries": len(self._entries)}

    def put(self, key: tuple[int, int, int], entry: tuple[int, int, list[tuple]]) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        if len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


@dataclass
class ThreadPage:
    thread: Any             # an asyncpg Record (THREAD_SQL): read the THREAD_COLUMNS by name
    posts: list[tuple]      # the post parts of the rows, in POST_COLUMNS order; web.post_fragments renders them
    page: int
    pages: int
    last_read: int          # the read position before this visit (0: never read)
    watch: str | None
    can_reply: bool
    first_unread: int | None = None
    notes: list[str] = field(default_factory=list)


def page_of(position: int) -> int:
    return max(1, (position - 1) // PAGE_SIZE + 1)




def _my_reactions(raw: str | None) -> dict[int, str]:
    """"12:thanks,12:helped,14:me_too" -> {12: "helped,thanks", 14: "me_too"} (kinds sorted, as p_mine was)."""
    if not raw:
        return {}
    kinds: dict[int, list[str]] = {}
    for item in raw.split(","):
        post_id, _, kind = item.partition(":")
        kinds.setdefault(int(post_id), []).append(kind)
    return {post_id: ",".join(sorted(found)) for post_id, found in kinds.items()}


async def thread_page(connection: Any, viewer: Viewer, thread_id: int, page: int = 1,
                      cache: PostPages | None = None) -> ThreadPage:
    """`connection`: a raw asyncpg connection (Database.raw), in autocommit: the read-position upsert is part of
    the page's one statement. `cache`: the process's PostPages (None: always read the posts).

    ThreadPage.thread is the first row (read its thread columns by name); ThreadPage.posts are the post parts
    of the rows (tuples in POST_COLUMNS order; see web.post_fragments).
    """
    page = max(1, page)
    lo, hi = (page - 1) * PAGE_SIZE + 1, page * PAGE_SIZE
    staff = viewer.is_moderator
    key = (thread_id, lo, hi)
    cached = cache.get(key) if cache is not None else None
    rows = await connection.fetch(THREAD_SQL, thread_id, viewer.id, staff, lo, hi,
                                  cached[0] if cached else -1, cached[1] if cached else -1)
    thread = rows[0] if rows else None
    if thread is None or not visible_to(viewer, thread["state"], thread["author_id"]):
        raise NotFound("This thread does not exist, or it is no longer available.")
    post_count = thread["post_count"]
    pages = page_of(max(1, post_count))
    if page > pages:
        raise NotFound(f"This thread has {pages} page{'s' if pages != 1 else ''}.")
    if thread["stale"] or cached is None:
        if cached is not None and cache is not None:
            cache.stale += 1
        posts = [] if thread["p_id"] is None else [r[POST_AT:] for r in rows]
        if cache is not None and thread["content_epoch"] is not None:
            cache.put(key, (thread["content_version"], thread["content_epoch"], posts))
    else:
        posts = cached[2]
    if not staff:
        # Hidden and pending posts only to their author (moderators see everything, marked). A post its author
        # deleted stays (as a placeholder) only where the conversation needs it: it has visible replies, or it
        # opens a thread with replies. Moderators see every placeholder.
        opening_needed = thread["reply_count"] > 0
        viewer_id = viewer.id
        posts = [p for p in posts
                 if (p[_P_STATE] == "visible" or p[_P_DELETED] or p[_P_AUTHOR] == viewer_id)
                 and (not p[_P_DELETED] or p[_P_DEPENDENTS] or (p[_P_POSITION] == 1 and opening_needed))]
    mine = _my_reactions(thread["my_reactions"])
    if mine:
        posts = [p[:_P_MINE] + (mine[p[_P_ID]],) + p[_P_MINE + 1:] if p[_P_ID] in mine else p for p in posts]
    last_read = thread["last_read"] or 0
    # `last_read` was read in the same snapshot as the upsert, so it is the position before this visit.
    first_unread = last_read + 1 if last_read < post_count else None
    locked_out = (thread["locked"] or thread["category_archived_at"] is not None or thread["state"] != "visible")
    can_reply = staff or (not locked_out and not viewer.is_silenced())
    return ThreadPage(thread, posts, page, pages, last_read, thread["watch"], can_reply, first_unread)


async def first_unread_position(session: AsyncSession, viewer: Viewer, thread_id: int) -> tuple[int, int]:
    """(position to jump to, its page) for /t/{id}/unread."""
    row = (await session.execute(text(
        "SELECT t.post_count, t.state, t.author_id, r.last_read_position FROM threads t "
        "LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = :uid WHERE t.id = :tid"),
        {"uid": viewer.id, "tid": thread_id})).first()
    if row is None or not visible_to(viewer, row[1], row[2]):
        raise NotFound("This thread does not exist, or it is no longer available.")
    post_count, _, _, last_read = row
    position = min((last_read or 0) + 1, max(1, post_count))
    return position, page_of(position)


async def locate_post(session: AsyncSession, viewer: Viewer, post_id: int) -> tuple[int, int, int]:
    """(thread id, page, position) of a post the viewer may see; for permalinks and notifications."""
    row = (await session.execute(select(Post.thread_id, Post.position, Post.state, Post.author_id,
                                        Post.deleted_by_author, Thread.state, Thread.author_id)
                                 .join(Thread, Thread.id == Post.thread_id).where(Post.id == post_id))).first()
    if row is None:
        raise NotFound("This post does not exist.")
    thread_id, position, state, author_id, deleted, thread_state, thread_author = row
    if not visible_to(viewer, thread_state, thread_author):
        raise NotFound("This post is no longer available.")
    if not deleted and not visible_to(viewer, state, author_id):
        raise NotFound("This post is no longer available.")
    return thread_id, page_of(position), position


async def post_history(session: AsyncSession, viewer: Viewer, post_id: int) -> tuple[Any, list[Any]]:
    """A post's earlier versions, newest first: for moderators, and for the post's own author."""
    post = await session.get(Post, post_id)
    if post is None:
        raise NotFound("This post does not exist.")
    if not viewer.is_moderator and post.author_id != viewer.id:
        raise Forbidden("Only moderators can see a post's edit history.")
    thread = await session.get(Thread, post.thread_id)
    rows = (await session.execute(
        select(PostRevision, User.display_name).outerjoin(User, User.id == PostRevision.edited_by)
        .where(PostRevision.post_id == post_id).order_by(PostRevision.id.desc()))).all()
    return {"post": post, "thread": thread}, rows


RECENT_THREADS_SQL = """
SELECT t.id, t.title, t.reply_count, t.last_activity_at, c.name AS category_name, c.slug AS category_slug
FROM threads t JOIN categories c ON c.id = t.category_id
WHERE t.state = 'visible' AND c.archived_at IS NULL AND NOT t.pinned
ORDER BY t.last_activity_at DESC, t.id DESC
LIMIT $1::int
"""


async def home_section(connection: Any, viewer: Viewer, *, threads: int = 6) -> dict[str, Any]:
    """The home page's recent threads (one prepared statement on a raw connection)."""
    return {"threads": await connection.fetch(RECENT_THREADS_SQL, threads)}
