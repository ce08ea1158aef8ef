"""The seam between booking a conversation and holding it: a private live room for two people.

The rooms pillar implements `PrivateRooms` (rooms.private) and the mentorship pillar only uses it: create_app's
pillar list hands the one to the other (`mentorship.pillar.build(rooms.PRIVATE_ROOMS)`), so neither pillar
imports the other. The room is an ordinary room of the rooms pillar (its history, retention, moderation and
socket), marked private: only the two people it was made for may enter it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.anonymity import Anonymity


@dataclass(frozen=True)
class Meeting:
    """A private room made for a host and a guest. For an anonymous guest, `guest_label` is the pseudonym the
    anonymity service gave them in the room's scope and `guest_tag` their tag there (notifications go to it)."""

    room_id: int
    url: str
    guest_label: str
    guest_tag: str | None


class PrivateRooms(Protocol):
    async def create(self, session: AsyncSession, anonymity: Anonymity, *, title: str, host_id: int,
                     host_name: str, guest_id: int, guest_name: str, anonymous: bool, starts_at: datetime,
                     ends_at: datetime, retention_hours: int | None) -> Meeting:
        """A scheduled private room; it opens when either of the two arrives, shortly before `starts_at`."""
        ...

    async def move(self, session: AsyncSession, room_id: int, starts_at: datetime, ends_at: datetime) -> None:
        """The meeting moved to another time (before it opened)."""
        ...

    async def close(self, session: AsyncSession, room_id: int) -> None:
        """The meeting was cancelled or nobody came: the room ends (its retention then applies)."""
        ...

    async def guest_arrived(self, session: AsyncSession, room_ids: list[int]) -> set[int]:
        """Of these rooms, those whose guest has entered (opened the live room at least once)."""
        ...
