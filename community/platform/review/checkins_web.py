"""The check-in conversation page: its moderator and its writer read it, reply, and close it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.platform.errors import ActionError
from community.platform.review import checkins
from community.platform.web import ids  # noqa: F401  (registers the dbid convertor)
from community.platform.web.common import anonymity_of, db_of, form_error, redirect, review_of, viewer_of
from community.platform.web.forms import read_form
from community.platform.web.templates import render


async def _context(request: Request) -> dict[str, Any]:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        conversation = await checkins.access(session, viewer, anonymity_of(request), request.path_params["checkin_id"])
    return {"conversation": conversation, "checkin": conversation.checkin, "body_max": checkins.BODY_MAX,
            "reason_words": checkins.REASON_WORDS}


async def page(request: Request) -> Response:
    return render(request, "moderation/checkin.html", await _context(request))


async def reply(request: Request) -> Response:
    viewer = viewer_of(request)
    checkin_id = request.path_params["checkin_id"]
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await checkins.reply(session, viewer, review_of(request), checkin_id, form.get("body"))
    except ActionError as exc:
        return form_error(request, "moderation/checkin.html", exc, form.as_dict(), await _context(request))
    return redirect(request, checkins.url_of(checkin_id), flash="Sent. Only the two of you can read this.")


async def close(request: Request) -> Response:
    viewer = viewer_of(request)
    checkin_id = request.path_params["checkin_id"]
    form = await read_form(request)
    form.check()
    async with db_of(request).transaction() as session:
        await checkins.close(session, viewer, review_of(request), checkin_id)
    return redirect(request, checkins.url_of(checkin_id), flash="Closed. Thank you for talking.")


routes = [
    Route("/checkins/{checkin_id:dbid}", page),
    Route("/checkins/{checkin_id:dbid}/reply", reply, methods=["POST"]),
    Route("/checkins/{checkin_id:dbid}/close", close, methods=["POST"]),
]
