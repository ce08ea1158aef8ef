"""The rooms pillar's part of a member's own data: what happens to their room messages when they leave."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.anonymity import Anonymity
from community.platform.pillar import OwnData
from community.platform.viewer import Viewer
from community.rooms.actions import now
from community.rooms.models import RoomMessage, RoomParticipant


async def export_writing(session: AsyncSession, viewer: Viewer, anonymity: Anonymity) -> dict[str, Any]:
    """Room transcripts are kept only for a while and belong to the room: nothing to export."""
    return {}


async def delete_writing(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, keep_shared: bool) -> None:
    """Room messages: deleted from transcripts, or kept under "Former member"; the name snapshot goes."""
    participant_ids = list(await session.scalars(select(RoomParticipant.id)
                                                 .where(RoomParticipant.user_id == viewer.id)))
    if not participant_ids:
        return
    if not keep_shared:
        await session.execute(update(RoomMessage).where(RoomMessage.participant_id.in_(participant_ids),
                                                        RoomMessage.deleted_at.is_(None))
                              .values(deleted_at=now()))
    await session.execute(update(RoomParticipant).where(RoomParticipant.id.in_(participant_ids),
                                                        RoomParticipant.anonymous.is_(False))
                          .values(label="Former member"))


OWN_DATA = OwnData(export=export_writing, delete=delete_writing)
