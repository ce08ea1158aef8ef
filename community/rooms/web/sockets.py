"""The room WebSocket: authenticate (session cookie + Origin), subscribe, replay, then a reader and a writer.

The writer is the only task that sends: live items from the hub, and this socket's own acks and errors, all
through one bounded queue (the hub's `Subscriber`). A client that stops reading fills its queue, or leaves a
send stuck past the send timeout (the hub's watchdog), and is closed with 1013; the hub and everyone else never
wait for it. Two tasks per connection besides uvicorn's own: the reader and the writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
from starlette.websockets import WebSocket, WebSocketDisconnect

from community.platform.anonymity import Anonymity
from community.platform.errors import ActionError, Forbidden, Invalid, NotFound, RateLimited
from community.platform.numbers import parse_int
from community.platform.viewer import Viewer
from community.platform.web.middleware import origin_allowed
from community.rooms import actions as rooms_actions
from community.rooms import moderation as room_moderation
from community.rooms import protocol
from community.rooms.hub import Hub, Subscriber
from community.rooms.policy import MESSAGES_PER_MINUTE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    idle_seconds: float = 300.0      # no frame at all from the client (it pings every 25 s while open)
    send_timeout: float = 20.0       # one frame not written in this long: the client is gone or stuck
    bad_frames: int = 20             # this many bad frames in a row: the client is broken or hostile
    messages_per_minute: int = MESSAGES_PER_MINUTE  # per participant (ROOM_MESSAGES_PER_MINUTE)


def _reason(text: str) -> str:
    """A close reason is at most 123 bytes of UTF-8."""
    data = text.encode()[:120]
    return data.decode(errors="ignore")


def _error_code(exc: ActionError) -> str:
    if isinstance(exc, RateLimited):
        return "rate_limited"
    if isinstance(exc, Forbidden):
        return "forbidden"
    if isinstance(exc, NotFound):
        return "not_found"
    if isinstance(exc, Invalid):
        return "invalid"
    return "error"


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Accept, then close with a code the client can act on (a refused handshake only says 403)."""
    await websocket.accept()
    await websocket.close(code, _reason(reason))


async def room_socket(websocket: WebSocket) -> None:
    """One member's socket, from the Origin and sign-in checks to the last release.

    Long because the socket's life is one sequence (gates, subscribe, enter, run, release) and `release`, a
    closure, must share its locals so that it runs exactly once, before a possibly slow close."""
    app = websocket.app
    settings = app.state.settings
    hub: Hub | None = getattr(app.state, "room_hub", None)
    limits: Limits = getattr(app.state, "room_limits", Limits())
    if not origin_allowed(websocket.scope, settings):
        await _refuse(websocket, protocol.CLOSE_POLICY, "origin not allowed")
        return
    viewer: Viewer | None = websocket.scope.get("user")
    if viewer is None:
        await _refuse(websocket, protocol.CLOSE_POLICY, "please sign in")
        return
    if hub is None:
        await _refuse(websocket, protocol.CLOSE_TRY_AGAIN, "live rooms are not running in this process")
        return
    room_id = int(websocket.path_params["room_id"])
    raw_after = websocket.query_params.get("after", "")
    after = parse_int(raw_after, max_digits=17)
    db = app.state.db
    anonymity = app.state.anonymity
    try:  # checks before anything is registered
        await _check(db, anonymity, viewer, room_id)
    except ActionError as exc:
        await _refuse(websocket, protocol.CLOSE_POLICY, exc.message or "not allowed in this room")
        return
    sub = await hub.subscribe(room_id)
    presence_id = None
    released = False

    async def release() -> None:
        """Leave the hub and the presence list; runs before a (possibly slow) close, and at most once."""
        nonlocal released
        if released:
            return
        released = True
        hub.unsubscribe(sub)
        if presence_id is not None:
            with contextlib.suppress(Exception):
                async with db.transaction() as session:
                    await rooms_actions.leave_presence(session, room_id, presence_id)

    try:
        try:
            presence_id, pid, replayed, texts = await _enter(db, anonymity, viewer, room_id, app.state.room_process, after)
        except ActionError as exc:
            await _refuse(websocket, protocol.CLOSE_POLICY, exc.message or "not allowed in this room")
            return
        await _greet(websocket, texts)
        # This frame lives as long as the connection: keep nothing of the opening (the history alone is tens
        # of KiB per socket) beyond what the session needs.
        del texts
        session_state = _Session(websocket, sub, viewer, room_id, pid, anonymity, db, limits, replayed, hub)
        await session_state.run(release)
    finally:
        await release()


async def _greet(websocket: WebSocket, texts: list[str]) -> None:
    await websocket.accept()
    for text in texts:
        await websocket.send_text(text)


async def _check(db: Any, anonymity: Anonymity, viewer: Viewer, room_id: int) -> None:
    async with db.transaction() as session:
        await rooms_actions.access_participant(session, anonymity, viewer, room_id)


async def _enter(db: Any, anonymity: Anonymity, viewer: Viewer, room_id: int, process: str,
                 after: int | None) -> tuple[int, int, int, list[str]]:
    """Presence, then the opening frames (serialised): (presence id, participant id, replayed seq, texts)."""
    async with db.transaction() as session:
        room, participant = await rooms_actions.access_participant(session, anonymity, viewer, room_id)
        await rooms_actions.maybe_open(session, viewer, room)
        presence_id = await rooms_actions.enter_presence(session, room, participant, process, viewer)
        await session.refresh(room)
        welcome, history, replayed = await _opening(session, viewer, room, participant, after)
    return presence_id, participant.id, replayed, [protocol.dumps(welcome), *map(protocol.dumps, history)]


async def _opening(session: Any, viewer: Viewer, room: Any, participant: Any,
                   after: int | None) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """The welcome frame and the history or replay, read after subscribing; returns the replayed max seq."""
    # No presence list here: the hub sends this socket the whole list with its next read (see hub.py), then
    # only changes, so the welcome of each of 500 joiners does not carry (and read) 500 people.
    welcome = {"type": "welcome", "room": rooms_actions.room_state(room),
               "me": {"pid": participant.id, "label": participant.label, "anonymous": participant.anonymous,
                      "can_moderate": rooms_actions.can_moderate(viewer, room)}}
    frames: list[dict[str, Any]] = []
    last = room.last_seq
    # Rows committed after `last` was read come live; keeping them out here means no duplicates.
    if after is not None and 0 <= last - after <= protocol.MAX_REPLAY:
        items = await rooms_actions.events_after(session, room.id, after, limit=protocol.MAX_REPLAY + 1)
        frames.append({"type": "history", "reset": False, "last_seq": last,
                       "items": [f for f in items if f["seq"] <= last]})
    else:
        if after is not None:
            frames.append({"type": "gap", "missed": max(0, last - after)})
        items = await rooms_actions.recent_messages(session, room.id)
        frames.append({"type": "history", "reset": True, "last_seq": last,
                       "items": [f for f in items if f["seq"] <= last]})
    return welcome, frames, last


class _Session:
    def __init__(self, websocket: WebSocket, sub: Subscriber, viewer: Viewer, room_id: int, pid: int, anonymity: Anonymity,
                 db: Any, limits: Limits, replayed: int, hub: Hub) -> None:
        self.ws = websocket
        self.sub = sub
        self.viewer = viewer
        self.room_id = room_id
        self.pid = pid
        self.anonymity = anonymity
        self.db = db
        self.limits = limits
        self.replayed = replayed
        self.hub = hub
        # Set while no moderation action of this connection is between its commit and its ack.
        self.settled = asyncio.Event()
        self.settled.set()

    def _direct(self, text: str) -> None:
        self.sub.offer((0, text, None))

    async def run(self, release: Any) -> None:
        sub = self.sub
        writer = asyncio.create_task(self._write())
        sub.writer = writer
        reader = asyncio.create_task(self._read())
        # The reader ending (the client went away, or broke the rules) wakes the writer through the subscriber.
        reader.add_done_callback(lambda _t: sub._wake())
        try:
            await asyncio.wait({writer, reader}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sub.writer = None
            for task in (writer, reader):
                task.cancel()
            for task in (writer, reader):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if reader.done() and not reader.cancelled() and reader.exception() is None and not sub.closed:
            return  # the client went away
        code = sub.close_code or protocol.CLOSE_NORMAL
        await release()
        # A client that stopped reading may never take the close frame: do not wait on it for long.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await self.ws.close(code, _reason(sub.close_reason))

    async def _write(self) -> None:
        sub = self.sub
        items = sub.items
        send = self.ws.send_text
        replayed = self.replayed
        loop = asyncio.get_running_loop()
        while True:
            await sub.wait()
            if sub.closed:
                return
            if not items:
                return  # woken without anything to send: the reader has ended
            while items:
                seq, text, frame = items.popleft()
                if seq and seq <= replayed:
                    continue  # already part of this connection's history or replay
                # No timer per frame: the hub's watchdog closes (and so cancels) a send stuck this long.
                sub.sending_since = loop.time()
                try:
                    await send(text)
                finally:
                    sub.sending_since = 0.0
                if frame is not None and frame.get("type") == "event":
                    kind = frame.get("kind")
                    if kind == "remove" and frame.get("pid") == self.pid:
                        sub.close(protocol.CLOSE_POLICY, "removed from this session")
                        return
                    if kind == "end":
                        await self._send_own_answers(send)
                        sub.close(protocol.CLOSE_NORMAL, "the session has ended")
                        return

    async def _send_own_answers(self, send: Any) -> None:
        """Before closing on a session's end, send this connection's own pending answers.

        The host who ends a session must hear the ack of their action, but the end event can reach this
        socket (through the hub) before the action's ack is queued."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await self.settled.wait()
        items = self.sub.items
        while items:
            seq, text, _frame = items.popleft()
            if not seq:
                await send(text)

    async def _read(self) -> None:
        bad = 0
        while True:
            try:
                async with asyncio.timeout(self.limits.idle_seconds):
                    message = await self.ws.receive()
            except TimeoutError:
                self.sub.close(protocol.CLOSE_IDLE, "idle for too long")
                return
            except WebSocketDisconnect:
                return
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            try:
                if text is None:
                    raise protocol.BadFrame("binary", "Frames must be JSON text, not binary.")
                frame = protocol.parse(text)
            except protocol.BadFrame as exc:
                bad += 1
                if bad >= self.limits.bad_frames:
                    self.sub.close(protocol.CLOSE_POLICY, "too many invalid frames")
                    return
                self._direct(protocol.error(exc.code, exc.message))
                continue
            bad = 0
            kind = frame["type"]
            if kind == "ping":
                self._direct('{"type":"pong"}')
            elif kind == "send":
                await self._send(frame)
            else:
                await self._moderate(frame)

    async def _send(self, frame: dict[str, Any]) -> None:
        client_id = frame.get("client_id")
        started = time.perf_counter()
        confirm = frame.get("confirm") is True
        try:
            posted = None
            conn = None
            try:
                pool = await self.hub.acquire_pool()
                conn = await pool.acquire(timeout=10)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.info("room %s: no fast-path connection (%s)", self.room_id, type(exc).__name__)
            if conn is not None:
                try:  # one statement, one round trip, when nothing needs the careful path
                    posted = await rooms_actions.post_message_fast(conn, self.viewer, self.room_id, self.pid,
                                                                   frame["text"], client_id=client_id,
                                                                   confirm=confirm,
                                                                   per_minute=self.limits.messages_per_minute)
                finally:
                    await pool.release(conn)
                if posted is not None and posted.frame is not None:
                    self.hub.deliver(self.room_id, posted.frame)  # committed: local sockets need no read-back
            if posted is None:
                async with self.db.transaction() as session:
                    posted = await rooms_actions.post_message(
                        session, self.anonymity, self.viewer, self.room_id, self.pid, frame["text"],
                        client_id=client_id, confirm=confirm, per_minute=self.limits.messages_per_minute)
        except ActionError as exc:
            self._direct(protocol.error(_error_code(exc), exc.message, client_id))
            return
        if posted.held is not None:
            screening = posted.held.as_json()
            self._direct(protocol.dumps({"type": "held", "client_id": client_id, "findings": screening["findings"],
                                         "highlighted": screening["highlighted"]}))
            return
        self._direct(protocol.dumps({"type": "ack", "client_id": client_id, "seq": posted.seq,
                                     "ms": round((time.perf_counter() - started) * 1000, 1)}))
        if posted.crisis:
            resources = self.ws.app.state.settings.crisis_resources
            self._direct(protocol.dumps({"type": "resources", "resources": [
                {"name": name, "description": description, "link": link} for name, description, link in resources]}))

    async def _moderate(self, frame: dict[str, Any]) -> None:
        client_id = frame.get("client_id")
        self.settled.clear()
        try:
            async with self.db.transaction() as session:
                seq = await room_moderation.do_action(session, self.viewer, self.room_id, frame)
            self._direct(protocol.dumps({"type": "ack", "client_id": client_id, "seq": seq}))
        except ActionError as exc:
            self._direct(protocol.error(_error_code(exc), exc.message, client_id))
        finally:
            self.settled.set()
