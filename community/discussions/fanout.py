"""What happens when a post becomes visible: thread counters, and notifications for replies, watchers and
@mentions (muted threads stay quiet; nobody is told about their own post). A fixed number of queries."""

from __future__ import annotations

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from community.discussions.models import Post, Thread, ThreadWatch
from community.platform.accounts.models import User
from community.platform.review.models import Notification
from community.platform.text import extract_mentions

MAX_MENTIONS = 20


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
    url = f"/p/{post_id}"
    messages: dict[int, tuple[str, str]] = {}  # user id -> (kind, text); the most specific wins
    handles = extract_mentions(body_md)[:MAX_MENTIONS]
    if handles:
        mentioned = await session.scalars(select(User.id).where(func.lower(User.handle).in_(handles),
                                                                User.deleted_at.is_(None)))
        for user_id in mentioned:
            messages[user_id] = ("mention", f"{who} mentioned you in “{short}”.")
    await _add_watchers(session, messages, thread_id, position, who, short, parent_author, thread_author)
    messages.pop(author_id, None)  # type: ignore[arg-type]
    if messages:
        await session.execute(insert(Notification), [
            {"user_id": user_id, "recipient_tag": None, "kind": kind, "text": text, "url": url,
             "target_kind": "post", "target_id": post_id}  # shown only while the recipient may see the post
            for user_id, (kind, text) in messages.items()
        ])
