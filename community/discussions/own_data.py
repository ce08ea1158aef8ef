"""The discussions pillar's part of a member's own data: the threads and posts they wrote."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.discussions.models import Post, Thread
from community.platform.anonymity import Anonymity
from community.platform.pillar import OwnData
from community.platform.viewer import Viewer

_NOT_EXPORTED = ("author_id", "search", "author_tag", "sealed_author")


async def export_writing(session: AsyncSession, viewer: Viewer, anonymity: Anonymity) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for model in (Thread, Post):
        for row in await session.scalars(select(model).where(model.author_id == viewer.id)):
            item: dict[str, Any] = {"kind": model.__name__.lower()}
            for column in model.__table__.columns:
                if column.key not in _NOT_EXPORTED:
                    item[column.key] = getattr(row, column.key, None)
            rows.append(item)
    return {"threads": rows}


async def delete_writing(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, keep_shared: bool) -> None:
    """Thread posts: removed (shown as "removed by the author" where replies depend on them), or left to
    stand under "Former member" once the account row is scrubbed."""
    if not keep_shared:
        await session.execute(update(Post).where(Post.author_id == viewer.id, Post.state != "removed")
                              .values(state="removed", deleted_by_author=True))


OWN_DATA = OwnData(export=export_writing, delete=delete_writing)
