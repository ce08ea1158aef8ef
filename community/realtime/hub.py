"""The per-process hub: one LISTEN connection, and fan-out of room events to local subscribers' bounded queues.

A NOTIFY payload is only "room:seq:kind". On a notification the hub reads every row of that room with a seq
above the last one it delivered, ONCE for the whole process, serialises each frame once, and offers the same
string to every local subscriber. If the listening connection is lost it reconnects with backoff and re-reads
every room that has local subscribers from the last delivered seq, so nothing committed meanwhile is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy import select

from community.actions import rooms as rooms_actions
from community.db import Database, asyncpg_args
from community.models.rooms import Room
from community.realtime import protocol

log = logging.getLogger(__name__)

APPLICATION_NAME = "community-room-hub"  # how operators (and tests) find the listening connection

# (seq or 0, serialized text, the frame dict or None); the dict is shared, never mutated.
Item = tuple[int, str, dict[str, Any] | None]


class Subscriber:
    """One socket's view of the hub: a bounded queue and a way to be told to close."""

    __slots__ = ("room_id", "queue", "closing", "close_code", "close_reason")

    def __init__(self, room_id: int, maxsize: int) -> None:
        self.room_id = room_id
        self.queue: asyncio.Queue[Item] = asyncio.Queue(maxsize)
        self.closing = asyncio.Event()
        self.close_code = 0
        self.close_reason = ""

    def offer(self, item: Item) -> None:
        if self.closing.is_set():
            return
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # A client that stops reading must not hold anyone else back: it is disconnected instead.
            log.info("room %s: a subscriber's queue is full; disconnecting it", self.room_id)
            self.close(protocol.CLOSE_TRY_AGAIN, "too slow: messages were not being read")

    def close(self, code: int, reason: str) -> None:
        if not self.closing.is_set():
            self.close_code, self.close_reason = code, reason
            self.closing.set()


class _Room:
    __slots__ = ("id", "subscribers", "delivered", "ready", "dirty", "task", "presence_dirty", "presence_task")

    def __init__(self, room_id: int) -> None:
        self.id = room_id
        self.subscribers: set[Subscriber] = set()
        self.delivered = 0
        self.ready = asyncio.Event()
        self.dirty = False
        self.task: asyncio.Task[None] | None = None
        self.presence_dirty = False
        self.presence_task: asyncio.Task[None] | None = None


class Hub:
    def __init__(self, db: Database, url: str, *, queue_size: int = 256, batch: int = 1000) -> None:
        self.db = db
        self.url = url
        self.queue_size = queue_size
        self.batch = batch
        self.rooms: dict[int, _Room] = {}
        self.connected = asyncio.Event()
        self.reconnects = 0
        self._task: asyncio.Task[None] | None = None
        self._conn: asyncpg.Connection | None = None
        self._stopping = False
        self.on_reconnect: Callable[[], None] | None = None

    # ---- lifecycle --------------------------------------------------------------------------------------------
    async def start(self, wait: float = 10.0) -> None:
        self._task = asyncio.create_task(self._listen_forever(), name="room-hub-listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), wait)

    async def stop(self) -> None:
        self._stopping = True
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        for room in list(self.rooms.values()):
            for task in (room.task, room.presence_task):
                if task:
                    task.cancel()

    def going_away(self, reason: str = "the server is restarting") -> None:
        """Shutdown: every local socket closes with 1001 so its client resumes against the next process."""
        for room in self.rooms.values():
            for sub in room.subscribers:
                sub.close(protocol.CLOSE_GOING_AWAY, reason)

    async def _listen_forever(self) -> None:
        failures = 0
        while not self._stopping:
            lost = asyncio.Event()
            conn = None
            try:
                conn = await asyncpg.connect(**asyncpg_args(self.url), timeout=10,
                                             server_settings={"application_name": APPLICATION_NAME})
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(rooms_actions.CHANNEL, self._on_notify)
                self._conn = conn
                if failures or self.reconnects:
                    log.info("room hub: listening again; catching up %d room(s)", len(self.rooms))
                self.reconnects += 1
                failures = 0
                self.connected.set()
                for room in self.rooms.values():  # whatever was committed while we were not listening
                    self._kick(room)
                    self._kick_presence(room)
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), 15)
                    except TimeoutError:  # a half-open TCP connection never reports loss: ask
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), 10)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  (any failure: reconnect)
                log.warning("room hub: listening connection failed: %s", type(exc).__name__)
            finally:
                self.connected.clear()
                self._conn = None
                if conn is not None:
                    conn.terminate()
            if self._stopping:
                return
            failures += 1
            delay = min(5.0, 0.1 * 2 ** min(failures, 6)) * (0.5 + random.random())
            await asyncio.sleep(delay)

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
            finally:
                room.ready.set()
        else:
            room.subscribers.add(sub)
            await room.ready.wait()
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        room = self.rooms.get(sub.room_id)
        if room is None:
            return
        room.subscribers.discard(sub)
        if not room.subscribers:
            del self.rooms[sub.room_id]

    def subscriber_count(self) -> int:
        return sum(len(r.subscribers) for r in self.rooms.values())

    # ---- notifications ----------------------------------------------------------------------------------------
    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            room_id_s, _seq, kind = payload.split(":", 2)
            room = self.rooms.get(int(room_id_s))
        except ValueError:
            return
        if room is None:
            return
        if kind == "p":
            self._kick_presence(room)
        else:
            self._kick(room)

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
                async with self.db.transaction() as session:
                    frames = await rooms_actions.events_after(session, room.id, room.delivered, limit=self.batch)
            except Exception as exc:  # noqa: BLE001  (the database is away: try again shortly)
                log.warning("room hub: reading room %s failed: %s", room.id, type(exc).__name__)
                room.dirty = True
                await asyncio.sleep(0.5)
                continue
            for frame in frames:
                seq = frame["seq"]
                if seq <= room.delivered:
                    continue
                item: Item = (seq, protocol.dumps(frame), frame)
                for sub in tuple(room.subscribers):
                    sub.offer(item)
                room.delivered = seq
            if len(frames) >= self.batch:
                room.dirty = True

    async def _pump_presence(self, room: _Room) -> None:
        while room.presence_dirty and room.subscribers:
            await asyncio.sleep(0.05)  # coalesce a burst of joins into one read
            room.presence_dirty = False
            try:
                async with self.db.transaction() as session:
                    people = await rooms_actions.presence(session, room.id)
            except Exception as exc:  # noqa: BLE001
                log.warning("room hub: presence of room %s failed: %s", room.id, type(exc).__name__)
                await asyncio.sleep(0.5)
                room.presence_dirty = True
                continue
            item: Item = (0, protocol.dumps({"type": "presence", "people": people}), None)
            for sub in tuple(room.subscribers):
                sub.offer(item)

    # ---- for tests and health -----------------------------------------------------------------------------------
    def listener_pid(self) -> int | None:
        conn = self._conn
        return conn.get_server_pid() if conn is not None and not conn.is_closed() else None
