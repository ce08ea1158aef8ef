"""Live rooms: the list, scheduling a session, the ground rules, the room page, moderation forms, the socket.

The module-level `lifespan` starts this process's realtime hub, the retention job and the presence heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import delete, text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from community.platform.errors import ActionError, Forbidden
from community.platform.web.common import anonymity_of, db_of, form_error, redirect, viewer_of
from community.platform.web.forms import read_form
from community.platform.web.templates import render
from community.rooms import actions as rooms_actions
from community.rooms import moderation as room_moderation
from community.rooms.hub import Hub
from community.rooms.leases import Leases
from community.rooms.models import RoomPresence
from community.rooms.web.sockets import Limits, room_socket

log = logging.getLogger(__name__)

PURGE_LOCK_ID = 727_002
DEFAULT_RULES = (
    "- A facilitator guides the conversation; follow their lead.\n"
    "- What is said here stays here. Do not repeat or screenshot what others share.\n"
    "- Speak from your own experience: \"I felt...\", not \"you should...\".\n"
    "- No patient identifiers: no names, dates, record numbers, or details that could identify someone.\n"
    "- Listen more than you advise. Silence is allowed.\n"
    "- If you are in crisis, use the resources link at the top of every page."
)


# ---- pages --------------------------------------------------------------------------------------------------

async def index(request: Request) -> Response:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        listing = await rooms_actions.list_rooms(session, viewer)
    return render(request, "rooms/index.html", listing)


def _new_context(form: dict[str, str] | None = None) -> dict[str, Any]:
    defaults = {"ground_rules": DEFAULT_RULES, "capacity": "12", "retention": "24", "allow_anonymous": "1"}
    return {"form": {**defaults, **(form or {})}, "retention_choices": [
        ("keep", "Keep the history"), ("0", "Delete when the session ends"), ("1", "Delete 1 hour after it ends"),
        ("24", "Delete 24 hours after it ends"), ("72", "Delete 3 days after it ends"),
        ("168", "Delete a week after it ends")]}


async def new_session(request: Request) -> Response:
    viewer = viewer_of(request)
    if not viewer.can_host:
        raise Forbidden("Only attendings and moderators can host a session.")
    if request.method == "GET":
        return render(request, "rooms/new.html", _new_context())
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            room = await rooms_actions.create_session(
                session, viewer, title=form.get("title"), description=form.get("description"),
                theme_prompt=form.get("theme_prompt"), starts_at=form.get("starts_at"), ends_at=form.get("ends_at"),
                capacity=form.int("capacity", low=2, high=200, message="Choose a capacity from 2 to 200 people."),
                ground_rules=form.get("ground_rules"), retention=form.get("retention"),
                allow_anonymous=form.get("allow_anonymous") == "1")
    except ActionError as exc:
        return form_error(request, "rooms/new.html", exc, form.as_dict(), _new_context(form.as_dict()))
    return redirect(request, f"/rooms/{room.id}", flash="The session is scheduled. It opens when you arrive.")


async def room_page(request: Request) -> Response:
    viewer = viewer_of(request)
    room_id = request.path_params["room_id"]
    anonymity = anonymity_of(request)
    async with db_of(request).transaction() as session:
        room = await rooms_actions.access_room(session, viewer, room_id)
        participant = await rooms_actions.find_participant(session, anonymity, viewer, room_id)
        if participant is not None and participant.removed_at is not None:
            raise Forbidden("You were removed from this session and cannot rejoin it.")
        if participant is None and room.private:
            raise Forbidden(rooms_actions.PRIVATE_ROOM)
        if participant is not None and await rooms_actions.room_is_full(session, room, participant, viewer):
            raise Forbidden(rooms_actions.ROOM_FULL)
        messages, earlier = await rooms_actions.message_page(session, room_id) if participant else ([], False)
        people = await rooms_actions.presence(session, room_id) if participant else []
    context = {"room": room, "participant": participant, "messages": messages, "people": people, "earlier": earlier,
               "can_moderate": rooms_actions.can_moderate(viewer, room),
               "transcript_note": rooms_actions.transcript_note(room),
               "may_be_anonymous": viewer.role == "resident" and room.allow_anonymous}
    if participant is None:
        return render(request, "rooms/rules.html", context)
    return render(request, "rooms/room.html", context)


async def join(request: Request) -> Response:
    viewer = viewer_of(request)
    room_id = request.path_params["room_id"]
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await rooms_actions.join_room(session, anonymity_of(request), viewer, room_id,
                                          accept=form.get("accept") == "1", anonymous=form.get("as") == "pseudonym")
    except ActionError as exc:
        async with db_of(request).transaction() as session:
            room = await rooms_actions.access_room(session, viewer, room_id)
        return form_error(request, "rooms/rules.html", exc, form.as_dict(), {
            "room": room, "transcript_note": rooms_actions.transcript_note(room),
            "may_be_anonymous": viewer.role == "resident" and room.allow_anonymous})
    return redirect(request, f"/rooms/{room_id}")


def _moderation(action: Callable[..., Any], fields: Callable[[Any], dict[str, Any]], done: str) -> Callable:
    async def endpoint(request: Request) -> Response:
        viewer = viewer_of(request)
        room_id = request.path_params["room_id"]
        form = await read_form(request)
        try:
            form.check()
            kwargs = fields(form) | {k: v for k, v in request.path_params.items() if k != "room_id"}
            async with db_of(request).transaction() as session:
                await action(session, viewer, room_id, **kwargs)
        except ActionError as exc:
            if exc.status_code == 403:
                raise
            return redirect(request, f"/rooms/{room_id}", flash=exc.message or "That did not work.")
        return redirect(request, f"/rooms/{room_id}", flash=done)
    return endpoint


routes = [
    Route("/rooms", index),
    Route("/rooms/new", new_session, methods=["GET", "POST"]),
    Route("/rooms/{room_id:dbid}", room_page),
    Route("/rooms/{room_id:dbid}/join", join, methods=["POST"]),
    Route("/rooms/{room_id:dbid}/lock", _moderation(
        room_moderation.set_lock, lambda f: {"locked": f.get("locked") == "1"}, "Room lock updated."),
        methods=["POST"]),
    Route("/rooms/{room_id:dbid}/slow", _moderation(
        room_moderation.set_slow_mode, lambda f: {"seconds": f.int("seconds", default=0, low=0, high=600)},
        "Slow mode updated."), methods=["POST"]),
    Route("/rooms/{room_id:dbid}/end", _moderation(room_moderation.end_session, lambda f: {}, "The session has ended."),
          methods=["POST"]),
    Route("/rooms/{room_id:dbid}/messages/{seq:dbid}/delete", _moderation(
        room_moderation.delete_message, lambda f: {}, "The message was deleted."), methods=["POST"]),
    Route("/rooms/{room_id:dbid}/participants/{pid:dbid}/mute", _moderation(
        room_moderation.mute, lambda f: {"minutes": f.int("minutes", default=10, low=1, high=1440)},
        "The participant is muted."), methods=["POST"]),
    Route("/rooms/{room_id:dbid}/participants/{pid:dbid}/remove", _moderation(
        room_moderation.remove, lambda f: {}, "The participant was removed from this session."), methods=["POST"]),
    WebSocketRoute("/rooms/{room_id:dbid}/ws", room_socket),
]


# ---- background work ----------------------------------------------------------------------------------------

async def _purge_loop(app: Starlette, interval: float) -> None:
    """Retention in-process; the advisory lock makes one process (of many, on many hosts) do each run."""
    while True:
        await asyncio.sleep(interval)
        try:
            async with app.state.db.transaction() as session:
                if await session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": PURGE_LOCK_ID}):
                    counts = await rooms_actions.purge_expired(session)
                    if any(counts.values()):
                        log.info("rooms retention: %s", counts)
        except Exception as exc:  # noqa: BLE001  (try again next time)
            log.warning("rooms retention failed: %s", type(exc).__name__)


async def _heartbeat_loop(app: Starlette, leases: Leases) -> None:
    """Renews this process's open sockets' presence leases, writes leaves that failed, and expires every lease
    that ran out (a crashed process's), telling those rooms."""
    while True:
        await asyncio.sleep(leases.period)
        try:
            await leases.beat(app.state.db)
        except Exception as exc:  # noqa: BLE001  (the database is away: the next beat tries again)
            log.warning("rooms presence heartbeat failed: %s", type(exc).__name__)


def _on_shutdown_signal(hub: Hub) -> Callable[[], None]:
    """Close our sockets with 1001 before uvicorn's own shutdown closes them with 1012.

    uvicorn captures SIGINT/SIGTERM before the lifespan starts; we wrap its handler: first every socket is
    told to go away, then (a moment later) uvicorn's handler runs as before.
    """
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    installed: dict[int, tuple[Any, Any]] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        original = signal.getsignal(sig)
        if not callable(original):
            continue

        def handler(signum: int, frame: Any, original: Any = original) -> None:
            loop.call_soon_threadsafe(hub.going_away)
            loop.call_soon_threadsafe(loop.call_later, 0.25, original, signum, frame)

        signal.signal(sig, handler)
        installed[sig] = (original, handler)

    def restore() -> None:
        for sig, (original, handler) in installed.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, original)
    return restore


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings = app.state.settings
    app.state.room_process = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"
    app.state.room_limits = Limits(idle_seconds=settings.rooms_idle_seconds, send_timeout=settings.rooms_send_timeout,
                                   messages_per_minute=settings.room_messages_per_minute,
                                   session_check_seconds=settings.rooms_session_check_seconds)
    leases = app.state.room_leases = Leases(settings.rooms_presence_lease_seconds, app.state.room_process)
    if not settings.database_url:
        yield
        return
    hub = Hub(app.state.db, settings.database_url, queue_size=settings.rooms_queue_size,
              send_timeout=app.state.room_limits.send_timeout, observe_lag=app.state.metrics.hub_lag.observe)
    await hub.start()
    app.state.room_hub = hub
    restore = _on_shutdown_signal(hub)
    tasks = [asyncio.create_task(_purge_loop(app, settings.rooms_purge_seconds)),
             asyncio.create_task(_heartbeat_loop(app, leases))]
    try:
        yield
    finally:
        hub.going_away()
        restore()
        for task in tasks:
            task.cancel()
        await hub.stop()
        try:  # leases this process still holds; if this cannot be written, they run out on their own
            async with app.state.db.transaction() as session:
                rooms = (await session.scalars(delete(RoomPresence).where(
                    RoomPresence.process == app.state.room_process).returning(RoomPresence.room_id))).all()
                for room_id in set(rooms):
                    await rooms_actions.notify(session, room_id, 0, "p")
        except Exception as exc:  # noqa: BLE001
            log.warning("rooms: could not end this process's presence leases at shutdown (%s); they expire",
                        type(exc).__name__)

