"""Info items on room moderation frames: "locked" must be a real JSON boolean ("no" locked the room, as bool() of a
string); oversized numbers are refused with a message (an error frame on the socket: tests/rooms/test_robustness.py
runs that live), never an exception that closes the socket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from community.platform.accounts.actions import to_viewer
from community.platform.errors import Invalid
from community.rooms import moderation as room_moderation
from community.rooms.models import Room


async def _open_room(db) -> int:
    now = datetime.now(UTC)
    async with db.transaction() as session:
        room = Room(kind="standing", title="Night-float corner", ground_rules="Be kind.", state="open",
                    starts_at=now - timedelta(minutes=5))
        session.add(room)
        await session.flush()
        return room.id


@pytest.mark.parametrize("locked", ["no", "false", 0, 1, None, [], {}])
async def test_lock_takes_only_true_or_false(db, moderator, locked):
    room_id = await _open_room(db)
    with pytest.raises(Invalid, match="true or false"):
        async with db.transaction() as session:
            await room_moderation.do_action(session, to_viewer(moderator), room_id,
                                            {"type": "moderate", "action": "lock", "locked": locked})
    async with db.transaction() as session:
        assert (await session.get(Room, room_id)).locked is False


async def test_lock_and_unlock_with_booleans(db, moderator):
    room_id = await _open_room(db)
    for locked in (True, False):
        async with db.transaction() as session:
            await room_moderation.do_action(session, to_viewer(moderator), room_id,
                                            {"type": "moderate", "action": "lock", "locked": locked})
        async with db.transaction() as session:
            assert (await session.get(Room, room_id)).locked is locked


@pytest.mark.parametrize("frame", [{"action": "delete", "seq": 2**63}, {"action": "remove", "pid": 10**400},
                                   {"action": "mute", "pid": 1, "minutes": 2**70}, {"action": "slow", "seconds": 1e300}])
async def test_oversized_numbers_are_refused_with_a_message(db, moderator, frame):
    room_id = await _open_room(db)
    with pytest.raises(Invalid):
        async with db.transaction() as session:
            await room_moderation.do_action(session, to_viewer(moderator), room_id, {"type": "moderate", **frame})
