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

from starlette.responses import PlainTextResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from community.platform.anonymity import Anonymity
from community.platform.errors import ActionError, Forbidden, Invalid, NotFound, RateLimited
from community.platform.numbers import parse_int
from community.platform.viewer import Viewer
from community.platform.web.middleware import DATABASE_DOWN, origin_allowed
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
    session_check_seconds: float = 60.0  # the member's sign-in is checked this often, and before each action


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


# What a database that is away looks like from here: a dropped or refused connection, a timeout, a statement
# cut off. Such a failure is a frame (and a close that means "try again"), or a 503 on the handshake, never a 500.
DB_ERRORS = DATABASE_DOWN
UNAVAILABLE = "The live room cannot reach its database just now."
SIGNED_OUT = "your sign-in has ended; sign in again to rejoin"


def request_id_of(websocket: WebSocket) -> str:
    return websocket.scope.get("state", {}).get("request_id", "")


async def _unavailable(websocket: WebSocket, room_id: int, exc: BaseException) -> None:
    """A handshake during an outage: 503 with Retry-After (the client's backoff retries), logged as an error."""
    log.error("room %s: socket refused, database unavailable (%s) request_id=%s", room_id, type(exc).__name__,
              request_id_of(websocket))
    await websocket.send_denial_response(PlainTextResponse(
        f"{UNAVAILABLE} Please try again in a few seconds.", status_code=503,
        headers={"Retry-After": str(protocol.RETRY_AFTER_SECONDS)}))


class _ClientGone(Exception):
    """The client went away, or stopped reading, while its catch-up was being sent."""


@dataclass
class _Opening:
    presence_id: int
    pid: int           # the participant row (server side only)
    local_pid: int     # the participant as the room's frames name them
    texts: list[str]   # welcome, and the recent history when there is no resume point to catch up from
    last: int          # the room's last seq when the opening was read: later rows come live, through the hub
    after: int | None  # where the catch-up starts; None: no catch-up (the recent history was sent instead)


async def room_socket(websocket: WebSocket) -> None:
    """One member's socket, from the Origin and sign-in checks to the last release.

    Long because the socket's life is one sequence (gates, subscribe, enter, catch up, run, release) and
    `release`, a closure, must share its locals so that it runs exactly once, before a possibly slow close."""
    app = websocket.app
    hub: Hub | None = getattr(app.state, "room_hub", None)
    limits: Limits = getattr(app.state, "room_limits", Limits())
    viewer: Viewer | None = websocket.scope.get("user")
    refusal = _gate(websocket, app.state.settings, viewer, hub)
    if refusal is not None:
        await _refuse(websocket, *refusal)
        return
    assert hub is not None and viewer is not None
    room_id = int(websocket.path_params["room_id"])
    after = parse_int(websocket.query_params.get("after", ""), max_digits=17)
    db, anonymity, leases = app.state.db, app.state.anonymity, app.state.room_leases
    try:  # checks before anything is registered
        await _check(db, anonymity, viewer, room_id)
        sub = await hub.subscribe(room_id)
    except ActionError as exc:
        await _refuse(websocket, protocol.CLOSE_POLICY, exc.message or "not allowed in this room")
        return
    except DB_ERRORS as exc:
        await _unavailable(websocket, room_id, exc)
        return
    opening: _Opening | None = None
    released = False

    async def release() -> None:
        """Leave the hub and end the presence lease; runs before a (possibly slow) close, and at most once."""
        nonlocal released
        if released:
            return
        released = True
        hub.unsubscribe(sub)
        if opening is not None:
            await leases.close(db, opening.presence_id)  # retried by the heartbeat if it cannot be written

    try:
        try:
            opening = await _enter(db, anonymity, viewer, room_id, app.state.room_process, after, leases.seconds)
        except ActionError as exc:
            await _refuse(websocket, protocol.CLOSE_POLICY, exc.message or "not allowed in this room")
            return
        except DB_ERRORS as exc:
            await _unavailable(websocket, room_id, exc)
            return
        leases.opened(opening.presence_id, room_id, opening.pid)
        sub.replayed(opening.last)
        await _greet(websocket, opening.texts)
        # This frame lives as long as the connection: keep nothing of the opening beyond what the session needs.
        opening.texts = []
        if not await _catch_up_or_close(websocket, hub, room_id, opening, limits):
            return
        session_state = _Session(websocket, sub, viewer, room_id, (opening.pid, opening.local_pid), anonymity, db,
                                 limits, opening.last, hub)
        await session_state.run(release)
    finally:
        await release()


def _gate(websocket: WebSocket, settings: Any, viewer: Viewer | None, hub: Hub | None) -> tuple[int, str] | None:
    """The checks that need no database: (close code, reason) to refuse with, or None."""
    if not origin_allowed(websocket.scope, settings):
        return protocol.CLOSE_POLICY, "origin not allowed"
    if viewer is None:
        return protocol.CLOSE_POLICY, "please sign in"
    if hub is None:
        return protocol.CLOSE_TRY_AGAIN, "live rooms are not running in this process"
    return None


async def _greet(websocket: WebSocket, texts: list[str]) -> None:
    await websocket.accept()
    for text in texts:
        await websocket.send_text(text)


async def _check(db: Any, anonymity: Anonymity, viewer: Viewer, room_id: int) -> None:
    async with db.transaction() as session:
        await rooms_actions.access_participant(session, anonymity, viewer, room_id)


async def _enter(db: Any, anonymity: Anonymity, viewer: Viewer, room_id: int, process: str,
                 after: int | None, lease_seconds: float) -> _Opening:
    """Presence, then the opening frames (serialised)."""
    async with db.transaction() as session:
        room, participant = await rooms_actions.access_participant(session, anonymity, viewer, room_id)
        await rooms_actions.maybe_open(session, viewer, room)
        presence_id = await rooms_actions.enter_presence(session, room, participant, process, viewer, lease_seconds)
        await session.refresh(room)
        frames, catch_up_from = await _opening(session, viewer, room, participant, after)
    return _Opening(presence_id, participant.id, participant.local_id, [protocol.dumps(f) for f in frames],
                    room.last_seq, catch_up_from)


async def _opening(session: Any, viewer: Viewer, room: Any, participant: Any,
                   after: int | None) -> tuple[list[dict[str, Any]], int | None]:
    """The welcome frame, and the recent history when there is nothing to catch up from (read after subscribing);
    returns the frames and where the catch-up starts (None: no catch-up)."""
    # No presence list here: the hub sends this socket the whole list with its next read (see hub.py), then
    # only changes, so the welcome of each of 500 joiners does not carry (and read) 500 people.
    welcome = {"type": "welcome", "room": rooms_actions.room_state(room),
               "me": {"pid": participant.local_id, "label": participant.label, "anonymous": participant.anonymous,
                      "can_moderate": rooms_actions.can_moderate(viewer, room)}}
    last = room.last_seq
    if after is not None and 0 <= after <= last:
        return [welcome], after  # everything since `after`, however long the absence: see _catch_up
    # No resume point (or one this room never reached): the recent history, and "load earlier" for the rest.
    # Rows committed after `last` was read come live; keeping them out here means no duplicates.
    items, earlier = await rooms_actions.message_page(session, room.id)
    return [welcome, {"type": "history", "reset": True, "last_seq": last, "earlier": earlier,
                      "items": [f for f in items if f["seq"] <= last]}], None


async def _catch_up_or_close(websocket: WebSocket, hub: Hub, room_id: int, opening: _Opening,
                             limits: Limits) -> bool:
    """Sends everything missed; False if the socket was closed instead (database away, or a client not reading)."""
    if opening.after is None:
        return True
    try:
        pool = await hub.acquire_pool()
        await _catch_up(websocket, pool, room_id, opening.after, opening.last, limits.send_timeout)
        return True
    except _ClientGone:
        log.info("room %s: the client stopped reading during its catch-up; closing", room_id)
        with contextlib.suppress(*DB_ERRORS, RuntimeError, WebSocketDisconnect):
            async with asyncio.timeout(2):
                await websocket.close(protocol.CLOSE_TRY_AGAIN, "too slow: messages were not being read")
        return False
    except DB_ERRORS as exc:
        log.error("room %s: catch-up failed, database unavailable (%s) request_id=%s", room_id,
                  type(exc).__name__, request_id_of(websocket))
        with contextlib.suppress(*DB_ERRORS, RuntimeError, WebSocketDisconnect):
            async with asyncio.timeout(2):
                await websocket.send_text(protocol.error("unavailable", f"{UNAVAILABLE} Reconnecting…",
                                                         retry_after=protocol.RETRY_AFTER_SECONDS))
                await websocket.close(protocol.CLOSE_TRY_AGAIN, "database unavailable: try again")
        return False


async def _catch_up(websocket: WebSocket, pool: Any, room_id: int, after: int, last: int,
                    send_timeout: float) -> None:
    """Everything in (after, last], in seq order, in bounded pages; first, how much retention has deleted.

    Each page's `last_seq` is its last item's, so a client that drops mid-way resumes where it got to. Rows
    above `last` come live through the hub (subscribed before `last` was read)."""
    async def send(text: str) -> None:
        try:
            async with asyncio.timeout(send_timeout):  # a client that does not read is not waited for
                await websocket.send_text(text)
        except (TimeoutError, OSError, RuntimeError, WebSocketDisconnect) as exc:
            raise _ClientGone from exc

    kept = await pool.fetchval(rooms_actions.KEPT_BETWEEN_PG, room_id, after, last, timeout=10)
    gone = (last - after) - kept
    if gone > 0:
        await send(protocol.dumps({"type": "expired", "count": gone, "message": (
            f"{gone:,} of the messages and updates you missed were deleted under this room's retention "
            "and cannot be shown.")}))
    cursor, texts, size = after, [], 0
    while cursor < last:
        rows = await pool.fetch(rooms_actions.EVENTS_AFTER_PG, room_id, cursor, protocol.CATCHUP_PAGE, timeout=10)
        frames = [f for f in rooms_actions.frames_from_rows(rows) if f["seq"] <= last]
        for frame in frames:
            text = protocol.dumps(frame)
            if texts and (len(texts) >= protocol.CATCHUP_PAGE or size + len(text) > protocol.CATCHUP_FRAME_CHARS):
                await send(protocol.history_page(texts, cursor, more=True))
                texts, size = [], 0
            texts.append(text)
            size += len(text)
            cursor = frame["seq"]
        if len(frames) < protocol.CATCHUP_PAGE:
            break  # nothing more up to `last` (the rest was deleted under retention)
    await send(protocol.history_page(texts, last, more=False))


class _Session:
    def __init__(self, websocket: WebSocket, sub: Subscriber, viewer: Viewer, room_id: int, pids: tuple[int, int],
                 anonymity: Anonymity, db: Any, limits: Limits, replayed: int, hub: Hub) -> None:
        self.ws = websocket
        self.sub = sub
        self.viewer = viewer
        self.room_id = room_id
        self.pid, self.local_pid = pids  # the participant row, and the id the room's frames use
        self.anonymity = anonymity
        self.db = db
        self.limits = limits
        self.replayed = replayed
        self.hub = hub
        # Set while no moderation action of this connection is between its commit and its ack.
        self.settled = asyncio.Event()
        self.settled.set()
        self.failing = False  # the database failed under this connection: it is closing with 1013
        # The handshake's sign-in, checked again while the socket is open (web.middleware.ViewerMiddleware).
        self.recheck: Any = websocket.scope["recheck_viewer"]
        self.checked_at = asyncio.get_running_loop().time()

    def _direct(self, text: str) -> None:
        self.sub.offer((0, text, None))

    def _close_after_queued(self, code: int, reason: str) -> None:
        """Closes once the frames queued before it (an error frame) are written: the writer sees this marker."""
        self.sub.offer((-1, "", {"close": code, "reason": reason}))

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
        failure = reader.exception() if reader.done() and not reader.cancelled() else None
        if failure is None and reader.done() and not reader.cancelled() and not sub.closed:
            return  # the client went away
        code = sub.close_code or protocol.CLOSE_NORMAL
        await release()
        # A client that stopped reading may never take the close frame: do not wait on it for long.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                if failure is not None:  # a bug, not the client: say so, and "try again" (1011)
                    log.error("room %s: socket failed request_id=%s", self.room_id, request_id_of(self.ws),
                              exc_info=failure)
                    code = protocol.CLOSE_INTERNAL
                    await self.ws.send_text(protocol.error("internal", "Something went wrong on our side. "
                                                           "Reconnecting…", retry_after=protocol.RETRY_AFTER_SECONDS))
                await self.ws.close(code, _reason(sub.close_reason or ("internal error" if failure else "")))

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
                if seq < 0:  # _close_after_queued: everything before it has been written
                    assert frame is not None
                    sub.close(frame["close"], frame["reason"])
                    return
                if seq and seq <= replayed:
                    continue  # already part of this connection's history or catch-up
                # No timer per frame: the hub's watchdog closes (and so cancels) a send stuck this long.
                sub.sending_since = loop.time()
                try:
                    await send(text)
                finally:
                    sub.sending_since = 0.0
                if frame is not None and frame.get("type") == "event":
                    kind = frame.get("kind")
                    if kind == "remove" and frame.get("pid") == self.local_pid:
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

    async def _still_signed_in(self, *, active: bool) -> bool:
        """Whether the member's session still holds (see Limits.session_check_seconds); when it does not, the
        socket closes with 1008, which the page shows and does not retry, and unsent text goes back into the box.
        `active`: the member acted, which keeps a staff session from running out its idle limit."""
        self.checked_at = asyncio.get_running_loop().time()
        viewer = await self.recheck(active=active)
        if viewer is None:
            self.sub.close(protocol.CLOSE_POLICY, SIGNED_OUT)
            return False
        self.viewer = viewer  # a role or silence changed meanwhile applies from now on
        return True

    async def _read(self) -> None:
        bad = 0
        loop = asyncio.get_running_loop()
        heard = loop.time()
        while True:
            now = loop.time()
            wait = min(heard + self.limits.idle_seconds, self.checked_at + self.limits.session_check_seconds) - now
            try:
                async with asyncio.timeout(max(0.0, wait)):
                    message = await self.ws.receive()
            except TimeoutError:
                if loop.time() - heard >= self.limits.idle_seconds:
                    self.sub.close(protocol.CLOSE_IDLE, "idle for too long")
                    return
                try:
                    if not await self._still_signed_in(active=False):
                        return
                except DB_ERRORS:
                    pass  # cannot tell just now: the next check asks again (and an action meets the outage)
                continue
            except WebSocketDisconnect:
                return
            heard = loop.time()
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
            if not self.failing:
                await self._handle(frame)

    async def _handle(self, frame: dict[str, Any]) -> None:
        """One valid frame. A database failure is an error frame with a retry hint, then a 1013 close (the
        reader keeps going until the writer has sent both, ignoring what comes meanwhile)."""
        kind = frame["type"]
        try:
            if kind == "ping":
                self._direct('{"type":"pong"}')
            elif not await self._still_signed_in(active=True):
                return
            elif kind == "send":
                await self._send(frame)
            elif kind == "earlier":
                await self._earlier(frame["before"])
            else:
                await self._moderate(frame)
        except DB_ERRORS as exc:
            log.error("room %s: %s failed, database unavailable (%s) request_id=%s", self.room_id, kind,
                      type(exc).__name__, request_id_of(self.ws))
            self.failing = True
            message = ("Your message was not sent: " if kind == "send" else "") + UNAVAILABLE
            self._direct(protocol.error("unavailable", message + " Reconnecting…", frame.get("client_id"),
                                        retry_after=protocol.RETRY_AFTER_SECONDS))
            self._close_after_queued(protocol.CLOSE_TRY_AGAIN, "database unavailable: try again")

    async def _earlier(self, before: int) -> None:
        """"Load earlier messages": the page before `before`, back to the start of what retention keeps."""
        async with self.db.transaction() as session:
            items, more = await rooms_actions.message_page(session, self.room_id, before=before)
        self._direct(protocol.dumps({"type": "earlier", "before": before, "items": items, "more": more}))

    async def _send(self, frame: dict[str, Any]) -> None:
        client_id = frame.get("client_id")
        started = time.perf_counter()
        try:
            posted = await self._post(frame, client_id)
        except ActionError as exc:
            self._direct(protocol.error(_error_code(exc), exc.message, client_id))
            return
        if posted.held is not None:
            screening = posted.held.as_json()
            self._direct(protocol.dumps({"type": "held", "client_id": client_id, "findings": screening["findings"],
                                         "highlighted": screening["highlighted"]}))
            return
        ack: dict[str, Any] = {"type": "ack", "client_id": client_id, "seq": posted.seq,
                               "ms": round((time.perf_counter() - started) * 1000, 1)}
        if posted.duplicate:
            ack["duplicate"] = True
        self._direct(protocol.dumps(ack))
        if posted.crisis:
            resources = self.ws.app.state.settings.crisis_resources
            self._direct(protocol.dumps({"type": "resources", "resources": [
                {"name": name, "description": description, "link": link} for name, description, link in resources]}))

    async def _post(self, frame: dict[str, Any], client_id: str | None) -> rooms_actions.Posted:
        """The fast path (one statement) when it applies, else the careful path in a session."""
        confirm = frame.get("confirm") is True
        posted = None
        conn = None
        try:
            pool = await self.hub.acquire_pool()
            conn = await pool.acquire(timeout=10)
        except DB_ERRORS as exc:
            log.info("room %s: no fast-path connection (%s)", self.room_id, type(exc).__name__)
        if conn is not None:
            try:  # one statement, one round trip, when nothing needs the careful path
                posted = await rooms_actions.post_message_fast(conn, self.viewer, self.room_id, self.pid,
                                                               frame["text"], client_id=client_id, confirm=confirm,
                                                               per_minute=self.limits.messages_per_minute)
                if posted is not None and posted.frame is not None:
                    # Committed: local sockets need no read-back. Before the release, which waits a turn of the
                    # event loop (asyncpg shields it in a task of its own).
                    self.hub.deliver(self.room_id, posted.frame)
            finally:
                await pool.release(conn)
        if posted is None:
            async with self.db.transaction() as session:
                posted = await rooms_actions.post_message(
                    session, self.anonymity, self.viewer, self.room_id, self.pid, frame["text"],
                    client_id=client_id, confirm=confirm, per_minute=self.limits.messages_per_minute)
        return posted

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
