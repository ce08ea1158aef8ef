"""The moderation adapter for thread posts ("post"), and thread-level moderator tools (lock, pin, move, edit)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from community.discussions.actions import edit_post
from community.discussions.models import Category, Post, Thread
from community.discussions.policy import visible_to
from community.discussions.states import refresh_category, set_post_state
from community.platform.accounts.models import User
from community.platform.errors import Invalid, NotFound
from community.platform.notify import notifications
from community.platform.numbers import parse_int
from community.platform.review.targets import TargetView
from community.platform.viewer import Viewer

SYSTEM_AUTHOR = "Community team"


# Built once: a fresh alias per call makes SQLAlchemy copy every column of the table (most of a flag's CPU).
_PARENT = aliased(Post, name="parent_post")
_PARENT_AUTHOR = aliased(User, name="parent_author")


class PostAdapter:
    kind = "post"
    extra_decisions = ("edit", "lock", "unlock", "pin", "unpin", "move")

    async def load(self, session: AsyncSession, ids: list[int]) -> dict[int, TargetView]:
        if not ids:
            return {}
        parent, parent_author = _PARENT, _PARENT_AUTHOR
        rows = (await session.execute(
            select(Post, Thread.title, Thread.pinned, Thread.locked, Thread.category_id, Thread.state,
                   Thread.author_id, Category.name, User.display_name, parent.body_html, parent_author.display_name)
            .join(Thread, Thread.id == Post.thread_id)
            .join(Category, Category.id == Thread.category_id)
            .outerjoin(User, User.id == Post.author_id)
            .outerjoin(parent, and_(Post.position > 1,
                                    parent.id == func.coalesce(Post.reply_to_id, Thread.first_post_id)))
            .outerjoin(parent_author, parent_author.id == parent.author_id)
            .where(Post.id.in_(ids))
        )).all()
        views: dict[int, TargetView] = {}
        for (post, title, pinned, locked, category_id, thread_state, thread_author, category_name, author,
             parent_html, parent_author_name) in rows:
            first = post.position == 1
            views[post.id] = TargetView(
                kind=self.kind, id=post.id,
                title=(f"Thread “{title}”" if first else f"Reply in “{title}”"),
                body_html=post.body_html, url=f"/p/{post.id}", author_label=author or SYSTEM_AUTHOR,
                author_id=post.author_id, state=post.state, created_at=post.created_at,
                context_html=parent_html or "", back_url="/c" if first else f"/t/{post.thread_id}",
                extra={"thread_id": post.thread_id, "thread_title": title, "pinned": pinned, "locked": locked,
                       "category_id": category_id, "category_name": category_name, "is_first": first,
                       "body_md": post.body_md, "thread_state": thread_state,
                       "thread_author_id": thread_author,
                       "context_author": parent_author_name or (SYSTEM_AUTHOR if parent_html else None),
                       "deleted_by_author": post.deleted_by_author, "edited": post.edited_at is not None},
            )
        return views

    async def readable(self, session: AsyncSession, viewer: Viewer, view: TargetView) -> bool:
        """The thread's rules apply to every post in it: a reply in a removed thread is gone with it."""
        thread_state, thread_author = view.extra["thread_state"], view.extra["thread_author_id"]
        assert isinstance(thread_state, str)
        return visible_to(viewer, thread_state, thread_author if isinstance(thread_author, int) else None) \
            and visible_to(viewer, view.state, view.author_id)

    async def set_state(self, session: AsyncSession, target_id: int, state: str, reason: str | None) -> None:
        await set_post_state(session, target_id, state, reason)

    async def author_user_id(self, session: AsyncSession, target_id: int) -> int | None:
        return await session.scalar(select(Post.author_id).where(Post.id == target_id))

    async def notify_author(self, session: AsyncSession, target_id: int, kind: str, text: str,
                            url: str | None) -> None:
        author = await self.author_user_id(session, target_id)
        if author is not None:
            await notifications.notify(session, user_id=author, kind=kind, text=text, url=url)

    async def apply(self, session: AsyncSession, viewer: Any, settings: Any, target_id: int, decision: str,
                    params: dict[str, str]) -> str:
        """Thread-level tools; returns a short description for the audit log and notifications."""
        thread_id = await session.scalar(select(Post.thread_id).where(Post.id == target_id))
        if thread_id is None:
            raise NotFound("This post no longer exists.")
        if decision == "edit":
            await edit_post(session, viewer, settings, post_id=target_id, body=params.get("body", ""),
                            title=params.get("title") or None, confirmed=True, as_moderator=True)
            return "edited"
        if decision in ("lock", "unlock"):
            await session.execute(update(Thread).where(Thread.id == thread_id).values(locked=decision == "lock"))
            return "locked the thread" if decision == "lock" else "unlocked the thread"
        if decision in ("pin", "unpin"):
            await session.execute(update(Thread).where(Thread.id == thread_id).values(pinned=decision == "pin"))
            return "pinned the thread" if decision == "pin" else "unpinned the thread"
        if decision == "move":
            raw = params.get("category_id", "").strip()
            category_id = parse_int(raw, max_digits=11)
            target = await session.get(Category, category_id) if category_id is not None else None
            if target is None:
                raise Invalid(fields={"category_id": "Choose the category to move the thread to."})
            old_category = await session.scalar(select(Thread.category_id).where(Thread.id == thread_id))
            if old_category == target.id:
                raise Invalid(fields={"category_id": "The thread is already in this category."})
            await session.execute(update(Thread).where(Thread.id == thread_id).values(category_id=target.id))
            await refresh_category(session, old_category)
            await refresh_category(session, target.id)
            return f"moved the thread to “{target.name}”"
        raise Invalid("That action is not available for posts.")


    async def review_context(self, session: AsyncSession, viewer: Viewer, target_id: int) -> dict[str, Any]:
        """The categories a moderator may move the thread to."""
        rows = await session.execute(select(Category.id, Category.name).order_by(Category.position))
        return {"categories": list(rows.all())}
