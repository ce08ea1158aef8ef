"""The rooms pillar's part of `community anonymity rekey` (accounts.rekey): anonymous participants' notification
tag, and the notifications about their messages, from the member-wide tag to the room session's own."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts import scopes
from community.platform.anonymity import Anonymity
from community.platform.pillar import OldTags
from community.platform.review.models import Notification
from community.rooms.actions import member_tag
from community.rooms.models import RoomParticipant

URL_RE = re.compile(r"^/rooms/(\d{1,18})(?:[#/?]|$)")


async def rekey(session: AsyncSession, anonymity: Anonymity, old: OldTags) -> dict[str, int]:
    moved = {"room participants": 0, "room notifications": 0}
    for participant in await session.scalars(select(RoomParticipant).where(
            RoomParticipant.notify_tag.in_(list(old["author"])))):
        uid = old["author"][participant.notify_tag]
        participant.notify_tag = member_tag(anonymity, uid, participant.room_id)
        await scopes.enrol(session, anonymity, uid, participant.notify_tag)
        moved["room participants"] += 1
    for note in await session.scalars(select(Notification).where(
            Notification.recipient_tag.in_(list(old["author"])))):
        match = URL_RE.match(note.url or "")
        if match is None:
            continue
        uid = old["author"][note.recipient_tag]
        note.recipient_tag = member_tag(anonymity, uid, int(match.group(1)))
        await scopes.enrol(session, anonymity, uid, note.recipient_tag)
        moved["room notifications"] += 1
    await session.flush()
    return moved
