"""What happens when a post becomes visible: thread counters, and notifications for replies, watchers and
@mentions (muted threads stay quiet; nobody is told about their own post). A fixed number of queries.

Notifications are grouped (notify.notifications.notify_grouped): while unread, a member has one row per thread
and kind ("Ana, Ben and 55 others replied in ..."), opening at the first unread post. A member is told about a
mention once per post (platform.mentions.record), also when a later edit adds it, and only while the post is
visible: a pending post announces its mentions when it is approved."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import AsyncSession

from community.discussions.models import Post, Thread, ThreadWatch
from community.platform import mentions
from community.platform.accounts.models import User
from community.platform.notify.notifications import group_key, notify_grouped


def _short(title: str, limit: int = 80) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


def _add_watchers(messages: dict[int, tuple[str, str]], position: int, who: str, short: str,
                  parent_author: int | None, thread_author: int | None, watching: list[int],
                  muted: list[int]) -> None:
    """A reply tells the replied-to author, the thread's author and its watchers; muting a thread silences it."""
    if position > 1:
        if parent_author is not None:
            messages.setdefault(parent_author, ("reply", f"{who} replied to your post in “{short}”."))
        if thread_author is not None:
            messages.setdefault(thread_author, ("reply", f"{who} replied to your thread “{short}”."))
        for user_id in watching:
            messages.setdefault(user_id, ("reply", f"{who} replied in “{short}”, a thread you watch."))
    for user_id in muted:
        messages.pop(user_id, None)


# One statement (every reply runs it): the thread's counters move, and it returns what the notifications need,
# the thread's watchers and muters included.
_PUBLISHED = sql_text("""
UPDATE threads t SET last_activity_at = now(),
       reply_count = t.reply_count + CASE WHEN p.position > 1 THEN 1 ELSE 0 END
  FROM posts p
  LEFT JOIN posts parent ON parent.id = p.reply_to_id
  LEFT JOIN users u ON u.id = p.author_id
 WHERE p.id = :post_id AND t.id = p.thread_id
RETURNING p.thread_id, p.position, p.author_id, p.body_md, t.title, t.author_id, parent.author_id, u.display_name,
  ARRAY(SELECT w.user_id FROM thread_watches w WHERE w.thread_id = t.id AND w.level = 'watch' ORDER BY w.user_id),
  ARRAY(SELECT w.user_id FROM thread_watches w WHERE w.thread_id = t.id AND w.level = 'mute')""")


async def publish_side_effects(session: AsyncSession, post_id: int, resolved: mentions.Resolved | None = None
                               ) -> None:
    """`resolved`: the post's mentions when the caller has just resolved them (else they are resolved here)."""
    row = (await session.execute(_PUBLISHED, {"post_id": post_id})).first()
    if row is None:
        return
    (thread_id, position, author_id, body_md, title, thread_author, parent_author, author_name, watching,
     muted) = row
    who = author_name or "Someone"
    short = _short(title)
    messages: dict[int, tuple[str, str]] = {}  # user id -> (kind, text); the most specific wins
    if resolved is None:
        resolved = await mentions.resolve(session, body_md)
    told = await mentions.record(session, ("post", post_id), resolved, exclude={author_id} if author_id else set())
    for user_id in told:
        messages[user_id] = ("mention", f"{who} mentioned you in “{short}”.")
    _add_watchers(messages, position, who, short, parent_author, thread_author, watching, muted)
    messages.pop(author_id, None)  # type: ignore[arg-type]
    await _send(session, messages, post_id, thread_id, title, author_id)


async def _send(session: AsyncSession, messages: dict[int, tuple[str, str]], post_id: int, thread_id: int,
                title: str, author_id: int | None) -> None:
    """Each into the recipient's unread group for this thread and kind (shown only while they may see the
    post: the target)."""
    await notify_grouped(session, [
        {"user_id": user_id, "kind": kind, "text": text, "url": f"/p/{post_id}", "target_kind": "post",
         "target_id": post_id, "group_key": group_key(kind, "thread", thread_id), "subject": title[:200],
         "actor_ids": [author_id] if author_id else []}
        for user_id, (kind, text) in messages.items()])


async def announce_new_mentions(session: AsyncSession, post_id: int,
                                 resolved: mentions.Resolved | None = None) -> None:
    """After an edit of a visible post: members it now mentions for the first time are told (muted threads
    stay quiet); nobody is told twice about one post. `resolved`: the edited text's mentions, when the caller
    has just resolved them (a text that mentions nobody then costs no query)."""
    if resolved is not None and not resolved.members:
        return
    row = (await session.execute(
        select(Post.thread_id, Post.author_id, Post.body_md, Post.state, Thread.title, Thread.state,
               User.display_name)
        .join(Thread, Thread.id == Post.thread_id).outerjoin(User, User.id == Post.author_id)
        .where(Post.id == post_id))).first()
    if row is None or row.state != "visible" or row[5] != "visible":
        return
    if resolved is None:
        resolved = await mentions.resolve(session, row.body_md)
    told = await mentions.record(session, ("post", post_id), resolved,
                                 exclude={row.author_id} if row.author_id else set())
    if not told:
        return
    muted = set(await session.scalars(select(ThreadWatch.user_id).where(ThreadWatch.thread_id == row.thread_id,
                                                                        ThreadWatch.level == "mute")))
    text = f"{row.display_name or 'Someone'} mentioned you in “{_short(row.title)}”."
    await _send(session, {uid: ("mention", text) for uid in told if uid not in muted}, post_id, row.thread_id,
                row.title, row.author_id)
