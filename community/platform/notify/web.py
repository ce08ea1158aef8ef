"""The in-app notifications page: newest first, mark one or all as read, open one (marks it read)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.platform.errors import NotFound
from community.platform.notify import notifications
from community.platform.numbers import parse_int
from community.platform.web import ids  # noqa: F401  (registers the dbid convertor)
from community.platform.web.common import anonymity_of, db_of, redirect, safe_next, viewer_of
from community.platform.web.forms import read_form
from community.platform.web.templates import render

PAGE = 50


async def index(request: Request) -> Response:
    viewer = viewer_of(request)
    raw = request.query_params.get("before", "")
    before = parse_int(raw)
    async with db_of(request).raw() as connection:
        items = await notifications.list_for(connection, viewer, anonymity_of(request), before=before,
                                             limit=PAGE)
    return render(request, "notifications/index.html", {"items": items, "limit": PAGE,
                                                        "any_unread": any(n.read_at is None for n in items)})


async def mark_read(request: Request) -> Response:
    viewer = viewer_of(request)
    form = await read_form(request)
    form.check()
    raw = form.get("id")
    ids_ = [number] if (number := parse_int(raw)) is not None else None
    async with db_of(request).transaction() as session:
        await notifications.mark_read(session, viewer, anonymity_of(request), ids_)
    return redirect(request, "/notifications", flash="Marked as read." if ids_ else "All marked as read.")


async def open_one(request: Request) -> Response:
    viewer = viewer_of(request)
    anonymity = anonymity_of(request)
    note_id = request.path_params["note_id"]
    async with db_of(request).transaction() as session:
        row = await notifications.access_notification(session, viewer, anonymity, note_id)
        if row is None:  # not theirs, or about something they may no longer see
            raise NotFound("This notification does not exist.")
        await notifications.mark_read(session, viewer, anonymity, [note_id])
    request.scope["viewer_changed"] = True  # the unread count: see web.viewer_cache (read-your-writes)
    return redirect(request, safe_next(row.url, "/notifications"))


routes = [
    Route("/notifications", index),
    Route("/notifications/read", mark_read, methods=["POST"]),
    Route("/notifications/{note_id:dbid}", open_one),
]
