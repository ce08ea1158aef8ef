"""This process's presence leases: renewed while their sockets are open, and leaves that must be written again.

A presence row is a lease (`room_presence.expires_at`). The heartbeat renews the leases of this process's open
sockets only (never "every row of this process"), so a leave that could not be written (the database was away
when the socket closed) is not kept alive: it is retried on every beat until written, and if this process dies
first, the lease simply runs out. Each beat also deletes every expired lease in the database (any process's)
and notifies those rooms, so their lists update without waiting for anyone to join or leave.
"""

from __future__ import annotations

import logging
from typing import Any

from community.rooms import actions as rooms_actions

log = logging.getLogger(__name__)


class Leases:
    """This process's open sockets' leases ({presence id: (room id, participant id)}), and the leaves still to be
    written ({presence id: room id})."""

    def __init__(self, seconds: float, process: str) -> None:
        self.seconds = seconds
        self.process = process
        self.live: dict[int, tuple[int, int]] = {}
        self.leaving: dict[int, int] = {}

    @property
    def period(self) -> float:
        """How often the heartbeat runs: a lease is renewed twice before it could run out."""
        return max(0.2, self.seconds / 3)

    def opened(self, presence_id: int, room_id: int, participant_id: int) -> None:
        self.live[presence_id] = (room_id, participant_id)

    async def close(self, db: Any, presence_id: int) -> bool:
        """Ends a socket's lease now; if that cannot be written, it is retried by the heartbeat. True: written."""
        where = self.live.pop(presence_id, None)
        if where is None:
            return True
        room_id = where[0]
        try:
            async with db.transaction() as session:
                await rooms_actions.leave_presence(session, {presence_id: room_id})
        except Exception as exc:  # noqa: BLE001  (any failure to write: the heartbeat retries it)
            log.warning("room %s: could not record a leave (%s); retrying with the heartbeat", room_id,
                        type(exc).__name__)
            self.leaving[presence_id] = room_id
            return False
        return True

    async def beat(self, db: Any) -> dict[str, int]:
        """One heartbeat: renew the open sockets' leases, write pending leaves, expire what ran out."""
        async with db.transaction() as session:
            await rooms_actions.renew_leases(session, dict(self.live), self.process, self.seconds,
                                             self.live.__contains__)
            leaving = dict(self.leaving)
            if leaving:
                await rooms_actions.leave_presence(session, leaving)
            expired = await rooms_actions.expire_leases(session)
        for presence_id in leaving:
            self.leaving.pop(presence_id, None)
        return {"renewed": len(self.live), "left": len(leaving), "expired": expired}
