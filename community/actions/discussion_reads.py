"""Reading threads: the categories index, category pages (keyset), thread pages (by position), post history.

Hot pages run a fixed number of plain SQL statements that return rows (no ORM graphs): the thread page is one
statement for the thread (which also records read state) and one for its page of posts with reaction counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from community.errors import Forbidden, NotFound
from community.models.accounts import User
from community.models.discussions import Post, PostRevision, Thread
from community.viewer import Viewer

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
    category: Any
    threads: list[Any]
    next_cursor: str | None
    first_page: bool


_CATEGORY = text("SELECT id, slug, name, description, position, archived_at, thread_count FROM categories "
                 "WHERE slug = :slug")

_THREAD_COLUMNS = """
  t.id, t.title, t.state, t.pinned, t.locked, t.reply_count, t.post_count, t.last_activity_at, t.created_at,
  t.author_id, coalesce(u.display_name, 'Community team') AS author_name, r.last_read_position
"""
_THREADS = text(f"""
(SELECT {_THREAD_COLUMNS}
 FROM threads t LEFT JOIN users u ON u.id = t.author_id
 LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = :uid
 WHERE :first AND t.category_id = :cid AND t.pinned
   AND (t.state = 'visible' OR :staff OR (t.author_id = :uid AND t.state <> 'removed'))
 ORDER BY t.last_activity_at DESC, t.id DESC LIMIT 20)
UNION ALL
(SELECT {_THREAD_COLUMNS}
 FROM threads t LEFT JOIN users u ON u.id = t.author_id
 LEFT JOIN thread_reads r ON r.thread_id = t.id AND r.user_id = :uid
 WHERE t.category_id = :cid AND NOT t.pinned
   AND (t.state = 'visible' OR :staff OR (t.author_id = :uid AND t.state <> 'removed'))
   AND (t.last_activity_at, t.id) < (:before_at, :before_id)
 ORDER BY t.last_activity_at DESC, t.id DESC LIMIT :limit)
""")

_FAR_FUTURE = datetime(9999, 1, 1).astimezone()


def parse_cursor(raw: str) -> tuple[datetime, int] | None:
    at, _, ident = raw.partition("~")
    if not ident.isdigit() or len(ident) > 18 or len(at) > 40:
        return None
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        return None
    if when.tzinfo is None:
        return None
    return when, int(ident)


def make_cursor(at: datetime, ident: int) -> str:
    return f"{at.isoformat()}~{ident}"


async def category_page(session: AsyncSession, viewer: Viewer, slug: str, cursor: str = "") -> CategoryPage:
    category = None
    if SLUG_RE.match(slug):
        category = (await session.execute(_CATEGORY, {"slug": slug})).mappings().first()
    if category is None:
        raise NotFound("There is no such category.")
    parsed = parse_cursor(cursor) if cursor else None
    before_at, before_id = parsed or (_FAR_FUTURE, 2**62)
    rows = list((await session.execute(_THREADS, {
        "uid": viewer.id, "cid": category["id"], "staff": viewer.is_moderator, "first": parsed is None,
        "before_at": before_at, "before_id": before_id, "limit": THREADS_PER_PAGE + 1,
    })).mappings())
    pinned = [r for r in rows if r["pinned"]]
    regular = [r for r in rows if not r["pinned"]]
    next_cursor = None
    if len(regular) > THREADS_PER_PAGE:
        regular = regular[:THREADS_PER_PAGE]
        last = regular[-1]
        next_cursor = make_cursor(last["last_activity_at"], last["id"])
    return CategoryPage(category, pinned + regular, next_cursor, parsed is None)


# ---- thread page ---------------------------------------------------------------------------------------------

# One statement: the thread with its category and author, the viewer's read position and watch level before
# this visit, and (as a data-modifying CTE) the new read position for the page being shown.
_THREAD = text("""
WITH t AS (
  SELECT t.id, t.title, t.state, t.pinned, t.locked, t.post_count, t.reply_count, t.author_id, t.first_post_id,
         t.created_at, t.last_activity_at, c.id AS category_id, c.slug AS category_slug,
         c.name AS category_name, c.archived_at AS category_archived_at
  FROM threads t JOIN categories c ON c.id = t.category_id WHERE t.id = :tid
), seen AS (
  INSERT INTO thread_reads (user_id, thread_id, last_read_position, updated_at)
  SELECT :uid, t.id, LEAST(:last_on_page, t.post_count), now() FROM t
  WHERE (t.state = 'visible' OR :staff OR (t.author_id = :uid AND t.state <> 'removed'))
    -- Write only when the position advances: a re-read then writes nothing, so it needs no commit flush.
    AND NOT EXISTS (SELECT 1 FROM thread_reads r WHERE r.user_id = :uid AND r.thread_id = t.id
                    AND r.last_read_position >= LEAST(:last_on_page, t.post_count))
  ON CONFLICT (user_id, thread_id) DO UPDATE
    SET last_read_position = GREATEST(thread_reads.last_read_position, EXCLUDED.last_read_position),
        updated_at = now()
  RETURNING 1
)
SELECT t.*,
  (SELECT r.last_read_position FROM thread_reads r WHERE r.user_id = :uid AND r.thread_id = t.id) AS last_read,
  (SELECT w.level FROM thread_watches w WHERE w.user_id = :uid AND w.thread_id = t.id) AS watch
FROM t
""")

_POSTS = text("""
SELECT p.id, p.position, p.author_id, p.reply_to_id, p.body_html, p.state, p.removed_reason,
       p.deleted_by_author, p.edited_at, p.created_at,
       coalesce(u.display_name, CASE WHEN p.author_id IS NULL THEN 'Community team' ELSE 'Former member' END)
         AS author_name,
       u.handle AS author_handle, u.role AS author_role,
       rp.position AS reply_to_position,
       (SELECT json_object_agg(x.kind, x.n) FROM
          (SELECT r.kind, count(*) AS n FROM reactions r WHERE r.post_id = p.id GROUP BY r.kind) x) AS reactions,
       (SELECT array_agg(r.kind) FROM reactions r WHERE r.post_id = p.id AND r.user_id = :uid) AS mine,
       CASE WHEN p.deleted_by_author THEN EXISTS (
         SELECT 1 FROM posts c WHERE c.reply_to_id = p.id AND c.state = 'visible') END AS has_dependents
FROM posts p
LEFT JOIN users u ON u.id = p.author_id
LEFT JOIN posts rp ON rp.id = p.reply_to_id
WHERE p.thread_id = :tid AND p.position BETWEEN :lo AND :hi
  AND (p.state = 'visible' OR p.deleted_by_author OR :staff OR p.author_id = :uid)
ORDER BY p.position
""")


@dataclass
class ThreadPage:
    thread: Any
    posts: list[dict[str, Any]]
    page: int
    pages: int
    last_read: int          # the read position before this visit (0: never read)
    watch: str | None
    can_reply: bool
    first_unread: int | None = None
    notes: list[str] = field(default_factory=list)


def page_of(position: int) -> int:
    return max(1, (position - 1) // PAGE_SIZE + 1)


def visible_to(viewer: Viewer, state: str, author_id: int | None) -> bool:
    return state == "visible" or viewer.is_moderator or (author_id == viewer.id and state != "removed")


async def thread_page(session: AsyncSession, viewer: Viewer, thread_id: int, page: int = 1) -> ThreadPage:
    page = max(1, page)
    lo, hi = (page - 1) * PAGE_SIZE + 1, page * PAGE_SIZE
    thread = (await session.execute(_THREAD, {"tid": thread_id, "uid": viewer.id, "staff": viewer.is_moderator,
                                              "last_on_page": hi})).mappings().first()
    if thread is None or not visible_to(viewer, thread["state"], thread["author_id"]):
        raise NotFound("This thread does not exist, or it is no longer available.")
    pages = page_of(max(1, thread["post_count"]))
    if page > pages:
        raise NotFound(f"This thread has {pages} page{'s' if pages != 1 else ''}.")
    rows = (await session.execute(_POSTS, {"tid": thread_id, "uid": viewer.id, "staff": viewer.is_moderator,
                                           "lo": lo, "hi": hi})).mappings()
    posts: list[dict[str, Any]] = []
    for row in rows:
        post = dict(row)
        if post["deleted_by_author"]:
            needed = post["has_dependents"] or (post["position"] == 1 and thread["reply_count"] > 0)
            if not needed and not viewer.is_moderator:
                continue
            post["placeholder"] = "removed by the author"
            post["body_html"] = ""
        post["mine_set"] = set(post["mine"] or ())
        post["reactions"] = post["reactions"] or {}
        post["is_own"] = post["author_id"] is not None and post["author_id"] == viewer.id
        posts.append(post)
    last_read = thread["last_read"] or 0
    # `last_read` was read in the same snapshot as the upsert, so it is the position before this visit.
    first_unread = last_read + 1 if last_read < thread["post_count"] else None
    locked_out = (thread["locked"] or thread["category_archived_at"] is not None or thread["state"] != "visible")
    can_reply = viewer.is_moderator or (not locked_out and not viewer.is_silenced())
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
