"""The room WebSocket: authenticate (session cookie + Origin), subscribe, replay, then a reader and a writer.

The writer is the only task that sends: live items from the hub, and this socket's own acks and errors, all
through one bounded queue. A client that stops reading fills its queue and is closed with 1013; the hub and
everyone else never wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from community.actions import room_moderation
from community.actions import rooms as rooms_actions
from community.errors import ActionError, Forbidden, Invalid, NotFound, RateLimited
from community.realtime import protocol
from community.realtime.hub import Hub, Subscriber
from community.viewer import Viewer
from community.web.middleware import origin_allowed

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    idle_seconds: float = 300.0      # no frame at all from the client (it pings every 25 s while open)
    send_timeout: float = 20.0       # one frame not written in this long: the client is gone or stuck
    bad_frames: int = 20             # this many bad frames in a row: the client is broken or hostile


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
    after = int(raw_after) if raw_after.isdigit() and len(raw_after) < 18 else None
    db = app.state.db
    key = settings.anon_key
    try:  # checks before anything is registered
        async with db.transaction() as session:
            await rooms_actions.access_participant(session, key, viewer, room_id)
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
            async with db.transaction() as session:
                room, participant = await rooms_actions.access_participant(session, key, viewer, room_id)
                await rooms_actions.maybe_open(session, viewer, room)
                presence_id = await rooms_actions.enter_presence(session, room, participant, app.state.room_process,
                                                                 viewer)
                await session.refresh(room)
                welcome, history, replayed = await _opening(session, viewer, room, participant, after)
        except ActionError as exc:
            await _refuse(websocket, protocol.CLOSE_POLICY, exc.message or "not allowed in this room")
            return
        await websocket.accept()
        await websocket.send_text(protocol.dumps(welcome))
        for frame in history:
            await websocket.send_text(protocol.dumps(frame))
        session_state = _Session(websocket, sub, viewer, room_id, participant.id, key, db, limits, replayed)
        await session_state.run(release)
    finally:
        await release()




async def _opening(session: Any, viewer: Viewer, room: Any, participant: Any,
                   after: int | None) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """The welcome frame and the history or replay, read after subscribing; returns the replayed max seq."""
    people = await rooms_actions.presence(session, room.id)
    welcome = {"type": "welcome", "room": rooms_actions.room_state(room),
               "me": {"pid": participant.id, "label": participant.label, "anonymous": participant.anonymous,
                      "can_moderate": rooms_actions.can_moderate(viewer, room)},
               "people": people}
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
    def __init__(self, websocket: WebSocket, sub: Subscriber, viewer: Viewer, room_id: int, pid: int, key: str,
                 db: Any, limits: Limits, replayed: int) -> None:
        self.ws = websocket
        self.sub = sub
        self.viewer = viewer
        self.room_id = room_id
        self.pid = pid
        self.key = key
        self.db = db
        self.limits = limits
        self.replayed = replayed

    def _direct(self, text: str) -> None:
        self.sub.offer((0, text, None))

    async def run(self, release: Any) -> None:
        writer = asyncio.create_task(self._write())
        reader = asyncio.create_task(self._read())
        closing = asyncio.create_task(self.sub.closing.wait())
        try:
            await asyncio.wait({writer, reader, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (writer, reader, closing):
                task.cancel()
            for task in (writer, reader, closing):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if reader.done() and not reader.cancelled() and reader.exception() is None and not self.sub.closing.is_set():
            return  # the client went away
        code = self.sub.close_code or protocol.CLOSE_NORMAL
        await release()
        # A client that stopped reading may never take the close frame: do not wait on it for long.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await self.ws.close(code, _reason(self.sub.close_reason))

    async def _write(self) -> None:
        queue = self.sub.queue
        send = self.ws.send_text
        replayed = self.replayed
        while True:
            seq, text, frame = await queue.get()
            if seq and seq <= replayed:
                continue  # already part of this connection's history or replay
            try:
                async with asyncio.timeout(self.limits.send_timeout):
                    await send(text)
            except TimeoutError:
                log.info("room %s: a frame was not written in %.0f s; disconnecting", self.room_id,
                         self.limits.send_timeout)
                self.sub.close(protocol.CLOSE_TRY_AGAIN, "too slow: a message could not be delivered")
                return
            if frame is not None and frame.get("type") == "event":
                kind = frame.get("kind")
                if kind == "remove" and frame.get("pid") == self.pid:
                    self.sub.close(protocol.CLOSE_POLICY, "removed from this session")
                    return
                if kind == "end":
                    self.sub.close(protocol.CLOSE_NORMAL, "the session has ended")
                    return

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
        try:
            async with self.db.transaction() as session:
                posted = await rooms_actions.post_message(
                    session, self.key, self.viewer, self.room_id, self.pid, frame["text"], client_id=client_id,
                    confirm=frame.get("confirm") is True)
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
        try:
            async with self.db.transaction() as session:
                seq = await room_moderation.do_action(session, self.viewer, self.room_id, frame)
        except ActionError as exc:
            self._direct(protocol.error(_error_code(exc), exc.message, client_id))
            return
        self._direct(protocol.dumps({"type": "ack", "client_id": client_id, "seq": seq}))
