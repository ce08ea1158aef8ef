"""The discussions pillar's composer slots for drafts (platform.drafts): a new thread in a category, a reply in
a thread, an edit of one's own post. Each names a real target the member may write to, or it is no slot."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.discussions.models import Category, Post, Thread
from community.discussions.policy import visible_to
from community.platform.drafts.store import DraftKind, DraftPlace
from community.platform.viewer import Viewer

ID = r"[0-9]{1,12}"


async def new_threads(session: AsyncSession, viewer: Viewer, slugs: list[str]) -> dict[str, DraftPlace]:
    rows = await session.execute(select(Category.slug, Category.name).where(
        Category.slug.in_(slugs), Category.archived_at.is_(None)))
    return {row.slug: DraftPlace(f"A new thread in {row.name}", f"/c/{row.slug}/new") for row in rows}


async def replies(session: AsyncSession, viewer: Viewer, keys: list[str]) -> dict[str, DraftPlace]:
    rows = await session.execute(select(Thread.id, Thread.title, Thread.state, Thread.author_id).where(
        Thread.id.in_([int(k) for k in keys])))
    return {str(row.id): DraftPlace(f"A reply in “{row.title}”", f"/t/{row.id}/reply")
            for row in rows if visible_to(viewer, row.state, row.author_id)}


async def edits(session: AsyncSession, viewer: Viewer, keys: list[str]) -> dict[str, DraftPlace]:
    rows = await session.execute(select(Post.id, Thread.title).join(Thread, Thread.id == Post.thread_id).where(
        Post.id.in_([int(k) for k in keys]), Post.author_id == viewer.id, Post.deleted_by_author.is_(False),
        Post.state != "removed"))
    return {str(row.id): DraftPlace(f"An edit of your post in “{row.title}”", f"/p/{row.id}/edit") for row in rows}


KINDS = (DraftKind("thread:new", r"[a-z0-9-]{1,60}", new_threads), DraftKind("reply", ID, replies),
         DraftKind("edit", ID, edits))


def new_thread_slot(slug: str) -> str:
    return f"thread:new:{slug}"


def reply_slot(thread_id: int) -> str:
    return f"reply:{thread_id}"


def edit_slot(post_id: int) -> str:
    return f"edit:{post_id}"
