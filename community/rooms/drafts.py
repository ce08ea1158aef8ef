"""The rooms pillar's composer slot for drafts (platform.drafts): the message box of a session not yet ended.

The box is the live form of static/js/room.js: drafts.js saves what is typed, and room.js empties the box (so the
draft goes) the moment a message is handed to the socket, which keeps it until the server acknowledges it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.drafts.store import DraftKind, DraftPlace
from community.platform.viewer import Viewer
from community.rooms.models import Room


async def message_places(session: AsyncSession, viewer: Viewer, keys: list[str]) -> dict[str, DraftPlace]:
    rows = await session.execute(select(Room.id, Room.title).where(Room.id.in_([int(k) for k in keys]),
                                                                   Room.state != "ended"))
    return {str(row.id): DraftPlace(f"A message in “{row.title}”", f"/rooms/{row.id}") for row in rows}


KINDS = (DraftKind("room", r"[0-9]{1,12}", message_places),)
