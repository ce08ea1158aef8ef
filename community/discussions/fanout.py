"""What happens when a post becomes visible: thread counters, and notifications for replies, watchers and
@mentions (muted threads stay quiet; nobody is told about their own post). A fixed number of queries.

Notifications are grouped (notify.notifications.notify_grouped): while unread, a member has one row per thread
and kind ("Ana, Ben and 55 others replied in ..."), opening at the first unread post. A member is told about a
mention once per post (platform.mentions.record), also when a later edit adds it, and only while the post is
visible: a pending post announces its mentions when it is approved."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from community.discussions.models import Post, Thread, ThreadWatch
from community.platform import mentions
from community.platform.accounts.models import User
from community.platform.notify.notifications import group_key, notify_grouped


def _short(title: str, limit: int = 80) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


async def _add_watchers(session: AsyncSession, messages: dict[int, tuple[str, str]], thread_id: int, position: int,
                        who: str, short: str, parent_author: int | None, thread_author: int | None) -> None:
    """A reply tells the replied-to author, the thread's author and its watchers; muting a thread silences it."""
    if position > 1:
        watchers = await session.execute(select(ThreadWatch.user_id, ThreadWatch.level)
                                         .where(ThreadWatch.thread_id == thread_id))
        levels = dict(watchers.all())
        if parent_author is not None:
            messages.setdefault(parent_author, ("reply", f"{who} replied to your post in “{short}”."))
        if thread_author is not None:
            messages.setdefault(thread_author, ("reply", f"{who} replied to your thread “{short}”."))
        for user_id, level in levels.items():
            if level == "watch":
                messages.setdefault(user_id, ("reply", f"{who} replied in “{short}”, a thread you watch."))
        for user_id, level in levels.items():
            if level == "mute":
                messages.pop(user_id, None)
        return
    muted = set(await session.scalars(select(ThreadWatch.user_id).where(ThreadWatch.thread_id == thread_id,
                                                                        ThreadWatch.level == "mute")))
    for user_id in muted:
        messages.pop(user_id, None)


async def publish_side_effects(session: AsyncSession, post_id: int) -> None:
    parent = aliased(Post)
    row = (await session.execute(
        select(Post.thread_id, Post.position, Post.author_id, Post.body_md, Thread.title, Thread.author_id,
               parent.author_id, User.display_name)
        .join(Thread, Thread.id == Post.thread_id)
        .outerjoin(parent, parent.id == Post.reply_to_id)
        .outerjoin(User, User.id == Post.author_id)
        .where(Post.id == post_id))).first()
    if row is None:
        return
    thread_id, position, author_id, body_md, title, thread_author, parent_author, author_name = row
    await session.execute(update(Thread).where(Thread.id == thread_id).values(
        last_activity_at=func.now(),
        reply_count=Thread.reply_count + (1 if position > 1 else 0),
    ))
    who = author_name or "Someone"
    short = _short(title)
    messages: dict[int, tuple[str, str]] = {}  # user id -> (kind, text); the most specific wins
    told = await mentions.record(session, ("post", post_id), await mentions.resolve(session, body_md),
                                 exclude={author_id} if author_id else set())
    for user_id in told:
        messages[user_id] = ("mention", f"{who} mentioned you in “{short}”.")
    await _add_watchers(session, messages, thread_id, position, who, short, parent_author, thread_author)
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


async def announce_new_mentions(session: AsyncSession, post_id: int) -> None:
    """After an edit of a visible post: members it now mentions for the first time are told (muted threads
    stay quiet); nobody is told twice about one post."""
    row = (await session.execute(
        select(Post.thread_id, Post.author_id, Post.body_md, Post.state, Thread.title, Thread.state,
               User.display_name)
        .join(Thread, Thread.id == Post.thread_id).outerjoin(User, User.id == Post.author_id)
        .where(Post.id == post_id))).first()
    if row is None or row.state != "visible" or row[5] != "visible":
        return
    told = await mentions.record(session, ("post", post_id), await mentions.resolve(session, row.body_md),
                                 exclude={row.author_id} if row.author_id else set())
    if not told:
        return
    muted = set(await session.scalars(select(ThreadWatch.user_id).where(ThreadWatch.thread_id == row.thread_id,
                                                                        ThreadWatch.level == "mute")))
    text = f"{row.display_name or 'Someone'} mentioned you in “{_short(row.title)}”."
    await _send(session, {uid: ("mention", text) for uid in told if uid not in muted}, post_id, row.thread_id,
                row.title, row.author_id)
