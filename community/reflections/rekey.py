"""The reflections pillar's part of `community anonymity rekey` (accounts.rekey): private and anonymous pieces,
anonymous replies, reactions and the notifications about them, from member-wide tags to a tag per reflection."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts import scopes
from community.platform.anonymity import Anonymity
from community.platform.pillar import OldTags
from community.platform.review.models import Notification
from community.reflections.actions import reflection_tag
from community.reflections.models import Reflection, ReflectionReaction, ReflectionReply
from community.reflections.replies import reactor_tag

URL_RE = re.compile(r"^/reflections/(\d{1,18})(?:[#/?]|$)")


async def rekey(session: AsyncSession, anonymity: Anonymity, old: OldTags) -> dict[str, int]:
    counts = {"reflections": 0, "reflection replies": 0, "reactions": 0, "reflection notifications": 0}
    for piece in await session.scalars(select(Reflection).where(Reflection.author_tag.is_not(None))):
        uid = old["author"].get(piece.author_tag) or old["journal"].get(piece.author_tag)
        if uid is not None:
            piece.author_tag = reflection_tag(anonymity, uid, piece.id)
            await scopes.enrol(session, anonymity, uid, piece.author_tag)
            counts["reflections"] += 1
    for reply in await session.scalars(select(ReflectionReply).where(ReflectionReply.author_tag.is_not(None))):
        uid = old["reply"].get(reply.author_tag)
        if uid is not None:
            reply.author_tag = reflection_tag(anonymity, uid, reply.reflection_id)
            await scopes.enrol(session, anonymity, uid, reply.author_tag)
            counts["reflection replies"] += 1
    for reaction in await session.scalars(select(ReflectionReaction)):
        uid = old["react"].get(reaction.reactor_tag)
        if uid is not None:
            reaction.reactor_tag = reactor_tag(anonymity, uid, reaction.reflection_id)
            counts["reactions"] += 1
    counts["reflection notifications"] = await _notifications(session, anonymity, old)
    await session.flush()
    return counts


async def _notifications(session: AsyncSession, anonymity: Anonymity, old: OldTags) -> int:
    """About a reflection or a reply in one (its target, or the reflection its link opens): that scope's tag."""
    replies = dict((await session.execute(select(ReflectionReply.id, ReflectionReply.reflection_id))).all())
    moved = 0
    for note in await session.scalars(select(Notification).where(
            Notification.recipient_tag.in_(list(old["author"])))):
        match = URL_RE.match(note.url or "")
        if note.target_kind == "reflection":
            rid = note.target_id
        elif note.target_kind == "reflection_reply":
            rid = replies.get(note.target_id)
        else:
            rid = int(match.group(1)) if match else None
        if rid is None:
            continue
        uid = old["author"][note.recipient_tag]
        note.recipient_tag = reflection_tag(anonymity, uid, rid)
        await scopes.enrol(session, anonymity, uid, note.recipient_tag)
        moved += 1
    return moved
