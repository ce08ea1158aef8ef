"""Writing in threads: new threads, replies, edits with revisions, deletion by the author, reactions, watches.

Every write is validated, rate limited, screened for crisis language and patient identifiers, checked against
watched words, rendered to sanitized HTML once, and then published or held for approval.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from community.discussions.fanout import announce_new_mentions, publish_side_effects
from community.discussions.models import (
    REACTIONS,
    WATCH_LEVELS,
    Category,
    Post,
    PostRevision,
    Thread,
)
from community.discussions.models import ThreadWatch as Watch
from community.discussions.policy import SURFACE
from community.discussions.states import refresh_counts, set_post_state
from community.platform import mentions, publishing, rate_limits
from community.platform.drafts import store as drafts
from community.platform.drafts.store import DraftKey
from community.platform.errors import Forbidden, Invalid, NotFound
from community.platform.review import items as review
from community.platform.review.models import Flag, ReviewItem
from community.platform.viewer import Viewer
from community.settings import Settings

__all__ = ["create_reply", "create_thread", "delete_post", "edit_post", "set_watch", "toggle_reaction"]


TITLE_MAX = 200
REACTION_LABELS = {"thanks": "Thank you", "me_too": "Me too", "helped": "This helped"}


@dataclass
class Published:
    thread_id: int
    post_id: int
    position: int
    state: str          # "visible" or "pending"
    crisis: bool        # crisis language: show the writer resources


# ---- validation --------------------------------------------------------------------------------------------

def check_title(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise Invalid(fields={"title": "Please give your thread a title."})
    if len(value) > TITLE_MAX:
        raise Invalid(fields={"title": f"Use at most {TITLE_MAX} characters (this has {len(value):,})."})
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in value):
        raise Invalid(fields={"title": "The title contains characters that cannot be shown."})
    return value


def check_body(value: str) -> str:
    return publishing.check_body(SURFACE, value)


def _collect(*checks) -> list:  # type: ignore[no-untyped-def]
    """Runs every check so the writer sees all field messages at once."""
    errors: dict[str, str] = {}
    values = []
    for check in checks:
        try:
            values.append(check())
        except Invalid as exc:
            errors.update(exc.fields)
            values.append(None)
    if errors:
        raise Invalid(fields=errors)
    return values


async def check_rate(session: AsyncSession, viewer: Viewer, settings: Settings) -> None:
    await rate_limits.check_recent(session, viewer, limit=settings.posts_per_minute, when=Post.created_at,
                                   mine=Post.author_id == viewer.id, what="posts")


async def _after_insert(session: AsyncSession, post_id: int, state: str, checked: publishing.Checked,
                        held_by_member_rule: bool, draft: DraftKey | None,
                        resolved: mentions.Resolved | None = None) -> None:
    if state == "pending":
        await review.open_item(session, target_kind="post", target_id=post_id, reason="approval",
                               source="approval" if held_by_member_rule else
                               "phi" if checked.identifiers_held else "watched")
    else:
        await publish_side_effects(session, post_id, resolved)
    # The approval item (if any) is opened above, with its source: the follow-up adds crisis, identifiers, flags.
    await publishing.follow_up(session, SURFACE, replace(checked, held=False, new_member=False), post_id, draft=draft)


def _held(checked: publishing.Checked) -> bool:
    """Thread posts: an approval word, or a confirmed strong identifier, holds anyone's post, moderators'
    included."""
    return checked.identifiers_held or (checked.watched is not None and checked.watched.require_approval)


# ---- writing -----------------------------------------------------------------------------------------------

async def create_thread(session: AsyncSession, viewer: Viewer, settings: Settings, *, category_slug: str,
                        title: str, body: str, confirmed: bool = False, draft: DraftKey | None = None) -> Published:
    title, body = _collect(lambda: check_title(title), lambda: check_body(body))
    category = (await session.scalars(select(Category).where(Category.slug == category_slug))).first()
    if category is None:
        raise NotFound("There is no such category.")
    if category.archived_at is not None:
        raise Forbidden("This category is archived: it can be read, but new threads are closed.")
    checked = await publishing.check(session, SURFACE, viewer, f"{title}\n\n{body}", confirmed=confirmed,
                                     rate=lambda: check_rate(session, viewer, settings),
                                     new_piece=settings.new_member_approval_posts)
    member_rule = checked.new_member
    state = "pending" if member_rule or _held(checked) else "visible"
    resolved = await mentions.resolve(session, body)
    body_html, body_text = resolved.render_with_text(body)  # mentions linked, sanitized, stored
    thread_id = await session.scalar(insert(Thread).values(
        category_id=category.id, author_id=viewer.id, title=title, state=state, post_count=1,
    ).returning(Thread.id))
    post_id = await session.scalar(insert(Post).values(
        thread_id=thread_id, author_id=viewer.id, position=1, body_md=body, body_html=body_html,
        body_text=body_text, state=state).returning(Post.id))
    await session.execute(update(Thread).where(Thread.id == thread_id).values(first_post_id=post_id))
    if state == "visible":
        await session.execute(update(Category).where(Category.id == category.id)
                              .values(thread_count=Category.thread_count + 1))
    await _after_insert(session, post_id, state, checked, member_rule, draft, resolved)
    return Published(thread_id, post_id, 1, state, checked.crisis)


# One statement for the thread a reply goes to and its category's archive mark, the thread locked for the
# position count (replies to one thread are numbered one after the other).
# With the writer's posts of the last minute, for the rate limit (check_rate, counted in the same statement).
_RECENT_POSTS = (f"FROM posts r WHERE r.author_id = :viewer_id "
                 f"AND r.created_at > now() - make_interval(secs => {rate_limits.WINDOW_SECONDS})")
_REPLY_TARGET = sql_text(f"""
SELECT t.id, t.state, t.author_id, t.locked, c.archived_at, (SELECT count(*) {_RECENT_POSTS}) AS recent,
       (SELECT extract(epoch FROM now() - min(r.created_at)) {_RECENT_POSTS}) AS oldest_age
  FROM threads t JOIN categories c ON c.id = t.category_id
 WHERE t.id = :thread_id FOR UPDATE OF t""")

# The thread's post count moves and the reply takes the new count as its position, in one statement.
_INSERT_REPLY = sql_text("""
WITH counted AS (UPDATE threads SET post_count = post_count + 1 WHERE id = :thread_id RETURNING post_count)
INSERT INTO posts (thread_id, author_id, position, reply_to_id, body_md, body_html, body_text, state)
SELECT CAST(:thread_id AS bigint), CAST(:author_id AS bigint), counted.post_count, CAST(:reply_to AS bigint),
       :body_md, :body_html, :body_text, :state FROM counted
RETURNING id, position""")

_POST_THREAD = select(Post.thread_id).where(Post.id == bindparam("post_id"))


async def access_thread_for_reply(session: AsyncSession, viewer: Viewer, thread_id: int) -> Any:
    """The thread (id, state, author_id, locked, archived_at of its category), locked, if the viewer may reply;
    with the viewer's posts of the last minute (recent, oldest_age) for the rate limit."""
    thread = (await session.execute(_REPLY_TARGET, {"thread_id": thread_id, "viewer_id": viewer.id})).first()
    if thread is None or (thread.state != "visible" and not viewer.is_moderator and thread.author_id != viewer.id):
        raise NotFound("This thread does not exist or is no longer available.")
    if thread.state in ("removed", "hidden") and not viewer.is_moderator:
        raise Forbidden("This thread is not open for replies while moderators review it.")
    if thread.locked and not viewer.is_moderator:
        raise Forbidden("This thread is locked: it can be read, but no new replies can be added.")
    if thread.archived_at is not None and not viewer.is_moderator:
        raise Forbidden("This category is archived: its threads can be read, but not replied to.")
    return thread


async def create_reply(session: AsyncSession, viewer: Viewer, settings: Settings, *, thread_id: int, body: str,
                       reply_to: int | None = None, confirmed: bool = False,
                       draft: DraftKey | None = None) -> Published:
    (body,) = _collect(lambda: check_body(body))
    thread = await access_thread_for_reply(session, viewer, thread_id)
    if reply_to is not None:
        parent_thread = await session.scalar(_POST_THREAD, {"post_id": reply_to})
        if parent_thread != thread.id:
            reply_to = None  # a stale or foreign reference is simply dropped

    async def rate() -> None:  # check_rate, on the count read with the thread
        rate_limits.check_counted(viewer, thread.recent, thread.oldest_age, limit=settings.posts_per_minute,
                                  what="posts")

    checked = await publishing.check(session, SURFACE, viewer, body, confirmed=confirmed, rate=rate,
                                     new_piece=settings.new_member_approval_posts)
    member_rule = checked.new_member
    state = "pending" if member_rule or _held(checked) else "visible"
    resolved = await mentions.resolve(session, body)
    body_html, body_text = resolved.render_with_text(body)
    post_id, position = (await session.execute(_INSERT_REPLY, {
        "thread_id": thread.id, "author_id": viewer.id, "reply_to": reply_to, "body_md": body,
        "body_html": body_html, "body_text": body_text, "state": state})).one()
    await _after_insert(session, post_id, state, checked, member_rule, draft, resolved)
    return Published(thread.id, post_id, position, state, checked.crisis)


async def access_own_post(session: AsyncSession, viewer: Viewer, post_id: int, *, moderator_ok: bool = False
                          ) -> tuple[Post, Thread]:
    row = (await session.execute(select(Post, Thread).join(Thread, Thread.id == Post.thread_id)
                                 .where(Post.id == post_id).with_for_update(of=Post))).first()
    if row is None:
        raise NotFound("This post does not exist.")
    post, thread = row
    mine = post.author_id is not None and post.author_id == viewer.id
    if not mine and not (moderator_ok and viewer.is_moderator):
        if post.state != "visible" or thread.state != "visible":
            raise NotFound("This post does not exist.")
        raise Forbidden("You can only change your own posts.")
    if post.deleted_by_author:
        raise NotFound("This post was removed by its author.")
    if post.state == "removed" and not viewer.is_moderator:
        raise Forbidden("A moderator removed this post, so it can no longer be edited.")
    return post, thread


_EDIT_POST = (update(Post).where(Post.id == bindparam("edited_post"))
              .values(body_md=bindparam("new_md"), body_html=bindparam("new_html"), body_text=bindparam("new_text"),
                      edited_at=func.now()).returning(Post.edited_at))


async def edit_post(session: AsyncSession, viewer: Viewer, settings: Settings, *, post_id: int, body: str,
                    title: str | None = None, confirmed: bool = False, reason: str | None = None,
                    as_moderator: bool = False, draft: DraftKey | None = None) -> Post:
    """The author edits their own post (moderators may edit any, with a reason). The old text is kept."""
    if not as_moderator:
        publishing.require_not_silenced(viewer)
    post, thread = await access_own_post(session, viewer, post_id, moderator_ok=as_moderator)
    is_first = post.position == 1
    checks = [lambda: check_body(body)]
    if is_first and title is not None:
        checks.append(lambda: check_title(title))
    values = _collect(*checks)
    body = values[0]
    new_title = values[1] if len(values) > 1 else None
    if body == post.body_md and (new_title is None or new_title == thread.title):
        if draft is not None:  # saved as it was: a draft of it is done with too
            await drafts.discard(session, draft)
        return post
    async def rate() -> None:  # each edit stores a revision: edits have the posting limit too
        rate_limits.EDITS.check(viewer, "post", limit=settings.posts_per_minute, what="edits of posts")

    checked = await publishing.check(session, SURFACE, viewer, f"{new_title or ''}\n\n{body}", confirmed=confirmed,
                                     rate=None if as_moderator else rate)
    session.add(PostRevision(post_id=post.id, title=thread.title if is_first else None, body_md=post.body_md,
                             edited_by=viewer.id))
    if new_title is not None:
        thread.title = new_title
    resolved = await mentions.resolve(session, body)
    body_html, body_text = resolved.render_with_text(body)
    # The new text with its edit time (the database's) back in one statement; the loaded post takes the values.
    edited_at = await session.scalar(_EDIT_POST, {"edited_post": post.id, "new_md": body, "new_html": body_html,
                                                  "new_text": body_text})
    for name, value in (("body_md", body), ("body_html", body_html), ("body_text", body_text),
                        ("edited_at", edited_at)):
        set_committed_value(post, name, value)
    if _held(checked) and not as_moderator:
        await _hold_edit_for_approval(session, post)
    await publishing.follow_up(session, SURFACE, replace(checked, held=False), post.id,
                               record_screening=not as_moderator, draft=draft)
    await announce_new_mentions(session, post.id, resolved)  # only a visible post's, only those never told before
    if not as_moderator:
        rate_limits.EDITS.note(viewer, "post")
    return post


async def _hold_edit_for_approval(session: AsyncSession, post: Post) -> None:
    """An edit that brings in a word needing approval is treated as a new post with it: a published post goes
    back to waiting for approval (its thread too, for the opening post) and into the review queue. The item's
    source "edit" tells the approval that the post was published before (its notifications went out then)."""
    if post.state == "visible":
        await set_post_state(session, post.id, "pending", None)
    if post.state != "removed":
        await review.open_item(session, target_kind="post", target_id=post.id, reason="approval", source="edit")


async def delete_post(session: AsyncSession, viewer: Viewer, post_id: int) -> Post:
    """The author deletes their own post. The text is kept as a revision for moderators, never shown again.
    The opening post of a thread with replies leaves a "removed by the author" placeholder behind."""
    post, thread = await access_own_post(session, viewer, post_id)
    session.add(PostRevision(post_id=post.id, title=thread.title if post.position == 1 else None,
                             body_md=post.body_md, edited_by=viewer.id))
    was_visible = post.state == "visible"
    post.state = "removed"
    post.deleted_by_author = True
    post.removed_reason = "Removed by the author."
    post.body_md = ""
    post.body_html = ""
    post.body_text = ""
    await session.flush()
    if post.position == 1 and not thread.reply_count:
        thread.state = "removed"
    if was_visible:
        await refresh_counts(session, thread.id)
    # Anything still waiting in the queue about this post has nothing left to review.
    await review_close_deleted(session, post.id)
    return post


async def review_close_deleted(session: AsyncSession, post_id: int) -> None:
    await session.execute(update(ReviewItem).where(
        ReviewItem.target_kind == "post", ReviewItem.target_id == post_id, ReviewItem.resolved_at.is_(None),
        ReviewItem.urgent.is_(False),
    ).values(resolved_at=func.now(), decision="author_deleted", decision_reason="Deleted by the author."))
    await session.execute(update(Flag).where(Flag.target_kind == "post", Flag.target_id == post_id,
                                             Flag.resolved_at.is_(None))
                          .values(resolved_at=func.now(), outcome="author_deleted"))


# ---- reactions and watching ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Toggled:
    on: bool        # the reaction is now on
    thread_id: int  # where the post is, for the way back to it
    position: int


# One statement: the post's and thread's states (a reaction only on a visible post of a visible thread, never on
# one's own), and the reaction taken back if it was there, else added.
_TOGGLE_REACTION = sql_text("""
WITH target AS (
  SELECT p.thread_id, p.position, p.state, p.author_id, t.state AS thread_state
    FROM posts p JOIN threads t ON t.id = p.thread_id WHERE p.id = :post_id),
allowed AS (
  SELECT 1 FROM target WHERE state = 'visible' AND thread_state = 'visible'
     AND author_id IS DISTINCT FROM CAST(:user_id AS bigint)),
removed AS (
  DELETE FROM reactions WHERE post_id = :post_id AND kind = :kind AND user_id = :user_id
     AND EXISTS (SELECT 1 FROM allowed) RETURNING 1),
added AS (
  INSERT INTO reactions (post_id, kind, user_id)
  SELECT CAST(:post_id AS bigint), CAST(:kind AS varchar), CAST(:user_id AS bigint)
   WHERE EXISTS (SELECT 1 FROM allowed) AND NOT EXISTS (SELECT 1 FROM removed)
  ON CONFLICT DO NOTHING RETURNING 1)
SELECT thread_id, position, state, author_id, thread_state, EXISTS (SELECT 1 FROM removed) AS removed FROM target""")


async def toggle_reaction(session: AsyncSession, viewer: Viewer, *, post_id: int, kind: str) -> Toggled:
    """Adds the reaction, or takes it back if it was there; `on` when it is now on."""
    if kind not in REACTIONS:
        raise Invalid("Choose one of: thank you, me too, this helped.", fields={"kind": "Unknown reaction."})
    row = (await session.execute(_TOGGLE_REACTION, {"post_id": post_id, "kind": kind, "user_id": viewer.id})).first()
    if row is None or row.state != "visible" or row.thread_state != "visible":
        raise NotFound("This post is not available.")
    if row.author_id == viewer.id:
        raise Invalid("You cannot react to your own post.")
    return Toggled(not row.removed, row.thread_id, row.position)


async def set_watch(session: AsyncSession, viewer: Viewer, *, thread_id: int, level: str) -> None:
    """"watch" (notify on every reply), "mute" (never notify), or "" (the default)."""
    if level not in (*WATCH_LEVELS, ""):
        raise Invalid("Choose watch, mute or default.", fields={"level": "Unknown choice."})
    state = await session.scalar(select(Thread.state).where(Thread.id == thread_id))
    if state is None:
        raise NotFound("This thread does not exist.")
    if level == "":
        await session.execute(delete(Watch).where(Watch.user_id == viewer.id, Watch.thread_id == thread_id))
        return
    await session.execute(pg_insert(Watch).values(user_id=viewer.id, thread_id=thread_id, level=level)
                          .on_conflict_do_update(index_elements=["user_id", "thread_id"], set_={"level": level}))
