"""The reflections pillar's part of a member's own data: their reflections, replies, reactions and drafts."""

from __future__ import annotations

import re
import zipfile
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts import scopes
from community.platform.anonymity import Anonymity
from community.platform.pillar import OwnData
from community.platform.viewer import Viewer
from community.reflections.actions import mine_clause
from community.reflections.drafts import draft_tag, my_drafts
from community.reflections.models import (
    Prompt,
    Reflection,
    ReflectionDraft,
    ReflectionReaction,
    ReflectionReply,
)
from community.reflections.moderation import withdraw_review_items
from community.reflections.prompts import THEMES
from community.reflections.replies import my_replies_clause, reactor_tag


async def _mine(session: AsyncSession, viewer: Viewer, tags: list[str]) -> list[Reflection]:
    return list(await session.scalars(select(Reflection).where(mine_clause(viewer, tags))
                                      .order_by(Reflection.created_at, Reflection.id)))


async def _my_reactions(session: AsyncSession, viewer: Viewer, anonymity: Anonymity):  # type: ignore[no-untyped-def]
    """The viewer's reactions: a tag per reflection and none in the keyring, so their tag for every reflection
    that has reactions is computed here (account export and deletion only)."""
    reacted = list(await session.scalars(select(ReflectionReaction.reflection_id).distinct()))
    mine = [reactor_tag(anonymity, viewer.id, rid) for rid in reacted]
    return ReflectionReaction.reactor_tag.in_(mine)


async def export_writing(session: AsyncSession, viewer: Viewer, anonymity: Anonymity) -> dict[str, Any]:
    tags = await scopes.tags_of(session, anonymity, viewer.id)
    reflections = await _mine(session, viewer, tags)
    prompts = dict((await session.execute(select(Prompt.id, Prompt.title))).all())
    replies = list(await session.scalars(select(ReflectionReply).where(my_replies_clause(viewer, tags))
                                         .order_by(ReflectionReply.created_at, ReflectionReply.id)))
    reactions = (await session.execute(select(ReflectionReaction.reflection_id, ReflectionReaction.kind).where(
        await _my_reactions(session, viewer, anonymity)))).all()
    drafts = await my_drafts(session, viewer, anonymity, [r.id for r in reflections])
    return {
        "reflections": [{
            "id": r.id, "title": r.title, "body": r.body, "visibility": r.visibility, "state": r.state,
            "theme": THEMES.get(r.theme or "", None), "prompt": prompts.get(r.prompt_id),
            "created_at": r.created_at, "updated_at": r.updated_at} for r in reflections],
        "reflection_replies": [{
            "id": r.id, "reflection_id": r.reflection_id, "body": r.body, "anonymous": r.anonymous or
            r.author_id is None, "state": r.state, "created_at": r.created_at,
            "edited_at": r.edited_at} for r in replies],
        "reactions": [{"reflection_id": rid, "kind": kind} for rid, kind in reactions],
        "drafts": [{"slot": slot, "title": d.title, "body": d.body, "updated_at": d.updated_at}
                   for slot, d in drafts],
    }


def _slug(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (text or "untitled").lower()).strip("-")[:50] or "untitled"


def write_zip(archive: zipfile.ZipFile, data: dict[str, Any]) -> None:
    """One Markdown file per reflection, one for all replies, one per draft."""
    for r in data["reflections"]:
        lines = [f"# {r['title'] or 'Untitled reflection'}", "",
                 f"- Written: {r['created_at']}", f"- Visibility: {r['visibility']}"]
        if r.get("prompt"):
            lines.append(f"- Prompt: {r['prompt']}")
        if r.get("theme"):
            lines.append(f"- Theme: {r['theme']}")
        lines += ["", r["body"], ""]
        archive.writestr(f"reflections/{r['id']:05d}-{_slug(r['title'])}.md", "\n".join(lines))
    if data["reflection_replies"]:
        parts = ["# Your replies to reflections", ""]
        for r in data["reflection_replies"]:
            parts += [f"## Reply {r['id']} (reflection {r['reflection_id']}, {r['created_at']})", "",
                      r["body"], ""]
        archive.writestr("replies.md", "\n".join(parts))
    for d in data["drafts"]:
        archive.writestr(f"drafts/{_slug(d['slot'])}.md", f"# {d['title'] or 'Draft'}\n\n{d['body']}\n")


async def delete_writing(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, keep_shared: bool) -> None:
    """Private writing is destroyed; shared writing is removed, or left anonymous with nothing to unmask. (The
    member's keyring goes with their account: accounts.own_data.)"""
    tags = await scopes.tags_of(session, anonymity, viewer.id)
    reflections = await _mine(session, viewer, tags)
    drafts = await my_drafts(session, viewer, anonymity, [r.id for r in reflections])
    await session.execute(delete(ReflectionDraft).where(
        ReflectionDraft.owner_tag.in_([draft_tag(anonymity, viewer.id, slot) for slot, _ in drafts] or [""])))
    doomed = [r.id for r in reflections if r.visibility == "private" or not keep_shared]
    for reflection in reflections:
        if reflection.id in doomed:
            continue
        # Left anonymous, for good: no id, no tag, no sealed value to unmask.
        reflection.visibility, reflection.author_id = "anonymous", None
        reflection.author_tag, reflection.sealed_author = None, None
    if doomed:
        reply_ids = list(await session.scalars(select(ReflectionReply.id).where(
            ReflectionReply.reflection_id.in_(doomed))))
        await withdraw_review_items(session, "reflection", doomed)
        await withdraw_review_items(session, "reflection_reply", reply_ids)
        await session.execute(delete(Reflection).where(Reflection.id.in_(doomed)))
    replies = list(await session.scalars(select(ReflectionReply).where(my_replies_clause(viewer, tags))))
    if keep_shared:
        for reply in replies:
            if reply.author_id is not None:
                # "former member", never the thread pseudonym: that would tie these signed replies to the
                # member's anonymous replies in the same thread.
                reply.pseudonym = None
            reply.author_id, reply.author_tag, reply.sealed_author, reply.anonymous = None, None, None, True
    elif replies:
        await withdraw_review_items(session, "reflection_reply", [r.id for r in replies])
        await session.execute(delete(ReflectionReply).where(ReflectionReply.id.in_([r.id for r in replies])))
    await session.execute(delete(ReflectionReaction).where(await _my_reactions(session, viewer, anonymity)))


OWN_DATA = OwnData(export=export_writing, delete=delete_writing, write_zip=write_zip)
