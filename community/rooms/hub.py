"""The per-process hub: one LISTEN connection, and fan-out of room events to local subscribers' bounded queues.

A NOTIFY payload is only "room:seq:kind". On a notification the hub reads every row of that room with a seq
above the last one it delivered, ONCE for the whole process (one prepared query on the hub's own small asyncpg
pool: no ORM, no explicit transaction), serialises each frame once, and offers the same string to every local
subscriber. If the listening connection is lost it reconnects with backoff and re-reads every room that has local
subscribers from the last delivered seq, so nothing committed meanwhile is lost.

Presence: the hub keeps the last list it read per room and sends only what changed (`joined`, `left`); a socket
that subscribed since the last read gets the whole list once (`people`), then deltas from the same snapshots,
so every client's list converges on the hub's.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import select

from community.platform.db import Database, asyncpg_args
from community.platform.listening import Listener
from community.rooms import actions as rooms_actions
from community.rooms import protocol
from community.rooms.models import Room

log = logging.getLogger(__name__)

APPLICATION_NAME = "community-room-hub"  # how operators (and tests) find the listening connection
IO_APPLICATION_NAME = "community-room-io"  # the hub's pool: reads for fan-out, and the fast path of a send

# (seq or 0, serialized text, the frame dict or None); the dict is shared, never mutated.
Item = tuple[int, str, dict[str, Any] | None]


class Subscriber:
    """One socket's view of the hub: a bounded queue, drained by the socket's single writer task.

    A plain deque and one future (instead of an asyncio.Queue and an Event) keep an idle connection small.
    `close` wakes the writer; if the writer is stuck in a send (the client stopped reading), it is cancelled.
    """

    __slots__ = ("room_id", "items", "limit", "closed", "close_code", "close_reason", "writer", "sending_since",
                 "skip_upto", "dropped_upto", "_waiter")

    def __init__(self, room_id: int, maxsize: int) -> None:
        self.room_id = room_id
        self.items: collections.deque[Item] = collections.deque()
        self.limit = maxsize
        self.closed = False
        self.close_code = 0
        self.close_reason = ""
        self.writer: asyncio.Task[Any] | None = None
        self.sending_since = 0.0  # loop time when the current send began; 0 when not sending
        # Items up to this seq are in the socket's history or catch-up: never queued. -1 while the socket's
        # opening is being read (that seq is not known yet).
        self.skip_upto = -1
        self.dropped_upto = 0  # the highest seq dropped for want of room during the opening
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, item: Item) -> None:
        if self.closed or 0 < item[0] <= self.skip_upto:
            return
        if len(self.items) >= self.limit and self.skip_upto < 0:
            # Still opening (a burst arrives while its history is read): most of these will be in the catch-up,
            # and `replayed` finds out whether any was not. Presence frames (seq 0, a few) are kept.
            if item[0] > 0:
                self.dropped_upto = max(self.dropped_upto, item[0])
                return
        elif len(self.items) >= self.limit:
            # A client that stops reading must not hold anyone else back: it is disconnected instead.
            log.info("room %s: a subscriber's queue is full; disconnecting it", self.room_id)
            self.close(protocol.CLOSE_TRY_AGAIN, "too slow: messages were not being read")
            return
        self.items.append(item)
        self._wake()

    def replayed(self, seq: int) -> None:
        """The socket's history or catch-up covers everything up to `seq`: drop those items, now and later (a
        client catching up on 10,000 messages while they arrive must not overflow its queue with them)."""
        self.skip_upto = seq
        if self.dropped_upto > seq:
            self.close(protocol.CLOSE_TRY_AGAIN, "too slow: messages were not being read")
            return
        if any(0 < item[0] <= seq for item in self.items):
            self.items = collections.deque(item for item in self.items if not 0 < item[0] <= seq)

    def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.close_code, self.close_reason = code, reason
        if self.sending_since and self.writer is not None:
            self.writer.cancel()  # stuck writing to a client that does not read: give up on that frame
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        """Returns once there is something to send, or the subscriber is closed."""
        if self.items or self.closed:
            return
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None


class _Room:
    __slots__ = ("id", "subscribers", "delivered", "ready", "failed", "dirty", "task", "presence_dirty",
                 "presence_task", "people", "fresh", "notified_at")

    def __init__(self, room_id: int) -> None:
        self.id = room_id
        self.subscribers: set[Subscriber] = set()
        self.delivered = 0
        self.ready = asyncio.Event()
        self.failed = False
        self.dirty = False
        self.task: asyncio.Task[None] | None = None
        self.presence_dirty = False
        self.presence_task: asyncio.Task[None] | None = None
        self.people: dict[int, dict[str, Any]] = {}  # the last presence list read, by pid
        self.fresh: set[Subscriber] = set()  # subscribed since that read: they get the whole list next
        self.notified_at: float | None = None  # when the oldest NOTIFY not yet delivered arrived (loop time)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_connection(conn: asyncpg.Connection) -> None:
    """Nothing to reset on release: the pool runs single autocommit statements only (no SET, LISTEN or locks),
    so asyncpg's default reset would only add a round trip to every send."""


class Hub:
    def __init__(self, db: Database, url: str, *, queue_size: int = 256, batch: int = 1000,
                 send_timeout: float = 20.0, io_connections: int = 4,
                 observe_lag: Callable[[float], None] | None = None) -> None:
        self.db = db
        # Told, per read, how long the NOTIFY that asked for it waited to reach the sockets' queues (metrics).
        self.observe_lag = observe_lag
        self.url = url
        self.queue_size = queue_size
        self.batch = batch
        self.send_timeout = send_timeout
        self.io_connections = io_connections
        self.rooms: dict[int, _Room] = {}
        self.connected = asyncio.Event()
        self.reconnects = 0
        self.pool: asyncpg.Pool | None = None
        self._pool_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._listener = Listener(url, rooms_actions.CHANNEL, self._on_notify, application_name=APPLICATION_NAME,
                                  label="room hub", on_up=self._listening, on_down=self.connected.clear)
        self.on_reconnect: Callable[[], None] | None = None

    # ---- lifecycle --------------------------------------------------------------------------------------------
    async def start(self, wait: float = 10.0) -> None:
        try:
            await self.acquire_pool()
        except Exception as exc:  # noqa: BLE001  (the database is away: the pool is made again on first use)
            log.warning("room hub: could not open its pool yet: %s", type(exc).__name__)
        self._task = asyncio.create_task(self._listener.run(), name="room-hub-listener")
        self._watchdog = asyncio.create_task(self._watch_sends(), name="room-hub-watchdog")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), wait)

    async def stop(self) -> None:
        self._listener.stopping = True
        for task in (self._task, self._watchdog):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for room in list(self.rooms.values()):
            for task in (room.task, room.presence_task):
                if task:
                    task.cancel()
        if self.pool is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.pool.close(), 5)
            self.pool.terminate()

    async def acquire_pool(self) -> asyncpg.Pool:
        """The hub's own small pool (raw asyncpg, prepared statements, no pre-ping round trip)."""
        if self.pool is None:
            async with self._pool_lock:
                if self.pool is None:
                    self.pool = await asyncpg.create_pool(
                        **asyncpg_args(self.url, IO_APPLICATION_NAME), min_size=1, max_size=self.io_connections,
                        timeout=10, max_inactive_connection_lifetime=300, init=_init_connection,
                        reset=_keep_connection)
        return self.pool

    def going_away(self, reason: str = "the server is restarting") -> None:
        """Shutdown: every local socket closes with 1001 so its client resumes against the next process."""
        for room in self.rooms.values():
            for sub in room.subscribers:
                sub.close(protocol.CLOSE_GOING_AWAY, reason)

    async def _watch_sends(self) -> None:
        """One timer for the whole process instead of one per frame: a send stuck this long is given up on."""
        loop = asyncio.get_running_loop()
        period = max(0.2, min(1.0, self.send_timeout / 4))
        while True:
            await asyncio.sleep(period)
            limit = loop.time() - self.send_timeout
            for room in tuple(self.rooms.values()):
                for sub in tuple(room.subscribers):
                    if sub.sending_since and sub.sending_since < limit:
                        log.info("room %s: a frame was not written in %.0f s; disconnecting", room.id,
                                 self.send_timeout)
                        sub.close(protocol.CLOSE_TRY_AGAIN, "too slow: a message could not be delivered")

    def _listening(self) -> None:
        """The LISTEN connection is (again) up: re-read whatever was committed while it was not."""
        if self.reconnects:
            log.info("room hub: listening again; catching up %d room(s)", len(self.rooms))
        self.reconnects += 1
        self.connected.set()
        for room in self.rooms.values():
            self._kick(room)
            self._kick_presence(room)

    # ---- subscriptions ----------------------------------------------------------------------------------------
    async def subscribe(self, room_id: int) -> Subscriber:
        """Register first, then the caller reads its replay: nothing committed in between can be missed."""
        sub = Subscriber(room_id, self.queue_size)
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = _Room(room_id)
            room.subscribers.add(sub)
            try:
                async with self.db.transaction() as session:
                    room.delivered = await session.scalar(select(Room.last_seq).where(Room.id == room_id)) or 0
            except BaseException:
                # The database is away: forget this room (a later subscriber reads its position afresh) and
                # wake anyone who joined meanwhile; they find the room gone and fail the same way.
                room.failed = True
                if self.rooms.get(room_id) is room:
                    del self.rooms[room_id]
                raise
            finally:
                room.ready.set()
        else:
            room.subscribers.add(sub)
            await room.ready.wait()
            if room.failed:
                raise ConnectionError("the room's position could not be read")
        room.fresh.add(sub)  # its whole presence list comes with the next read, which this asks for
        self._kick_presence(room)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        room = self.rooms.get(sub.room_id)
        if room is None:
            return
        room.subscribers.discard(sub)
        room.fresh.discard(sub)
        if not room.subscribers:
            del self.rooms[sub.room_id]

    def subscriber_count(self) -> int:
        return sum(len(r.subscribers) for r in self.rooms.values())

    # ---- notifications ----------------------------------------------------------------------------------------
    def _on_notify(self, payload: str) -> None:
        try:
            room_id_s, seq_s, kind = payload.split(":", 2)
            room = self.rooms.get(int(room_id_s))
            seq = int(seq_s)
        except ValueError:
            return
        if room is None:
            return
        if kind == "p":
            self._kick_presence(room)
        elif seq > room.delivered:  # not already delivered by `deliver` (a send from this process)
            if room.notified_at is None:
                room.notified_at = asyncio.get_running_loop().time()
            self._kick(room)

    def deliver(self, room_id: int, frame: dict[str, Any]) -> None:
        """A message this process has just committed: offered to local subscribers at once when it is the next
        seq; otherwise (a gap: rows from elsewhere not read yet) the NOTIFY and the read deliver it in order."""
        room = self.rooms.get(room_id)
        seq = frame["seq"]
        if room is None or not room.ready.is_set() or seq != room.delivered + 1:
            return
        item: Item = (seq, protocol.dumps(frame), frame)
        for sub in tuple(room.subscribers):
            sub.offer(item)
        room.delivered = seq

    def _kick(self, room: _Room) -> None:
        room.dirty = True
        if room.task is None or room.task.done():
            room.task = asyncio.create_task(self._pump(room))

    def _kick_presence(self, room: _Room) -> None:
        room.presence_dirty = True
        if room.presence_task is None or room.presence_task.done():
            room.presence_task = asyncio.create_task(self._pump_presence(room))

    async def _pump(self, room: _Room) -> None:
        """One reader per room: frames go out in seq order, each read and serialised once per process."""
        await room.ready.wait()
        while room.dirty and room.subscribers:
            room.dirty = False
            try:
                pool = await self.acquire_pool()
                rows = await pool.fetch(rooms_actions.EVENTS_AFTER_PG, room.id, room.delivered, self.batch, timeout=10)
            except Exception as exc:  # noqa: BLE001  (the database is away: try again shortly)
                log.warning("room hub: reading room %s failed: %s", room.id, type(exc).__name__)
                room.dirty = True
                await asyncio.sleep(0.5)
                continue
            for frame in rooms_actions.frames_from_rows(rows):
                seq = frame["seq"]
                if seq <= room.delivered:
                    continue
                item: Item = (seq, protocol.dumps(frame), frame)
                for sub in tuple(room.subscribers):
                    sub.offer(item)
                room.delivered = seq
            self._lag_observed(room)
            if len(rows) >= self.batch:
                room.dirty = True

    def _lag_observed(self, room: _Room) -> None:
        if room.notified_at is not None and self.observe_lag is not None:
            self.observe_lag(asyncio.get_running_loop().time() - room.notified_at)
        room.notified_at = None

    async def _pump_presence(self, room: _Room) -> None:
        while room.presence_dirty and room.subscribers:
            await asyncio.sleep(0.05)  # coalesce a burst of joins into one read
            room.presence_dirty = False
            fresh = room.fresh
            room.fresh = set()
            try:
                pool = await self.acquire_pool()
                rows = await pool.fetch(rooms_actions.PRESENCE_PG, room.id, timeout=10)
            except Exception as exc:  # noqa: BLE001
                log.warning("room hub: presence of room %s failed: %s", room.id, type(exc).__name__)
                room.fresh |= fresh
                await asyncio.sleep(0.5)
                room.presence_dirty = True
                continue
            people = rooms_actions.people_from_rows(rows)
            now = {p["pid"]: p for p in people}
            before = room.people
            joined = [p for pid, p in now.items() if before.get(pid) != p]
            left = [pid for pid in before if pid not in now]
            room.people = now
            fresh &= room.subscribers
            if fresh:
                full: Item = (0, protocol.dumps({"type": "presence", "people": people}), None)
                for sub in fresh:
                    sub.offer(full)
            if joined or left:
                delta: Item = (0, protocol.dumps({"type": "presence", "joined": joined, "left": left}), None)
                pending = room.fresh  # subscribed during this read: their whole list comes next, deltas after
                for sub in tuple(room.subscribers):
                    if sub not in fresh and sub not in pending:
                        sub.offer(delta)

    # ---- for tests and health -----------------------------------------------------------------------------------
    def listener_pid(self) -> int | None:
        return self._listener.server_pid()
