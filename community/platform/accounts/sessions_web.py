"""The member's sessions: the account page that lists them, signs one out or all others, and sets their length."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.platform.accounts import actions as accounts
from community.platform.accounts.models import User
from community.platform.errors import ActionError
from community.platform.web.common import clear_session, db_of, form_error, redirect, settings_of, viewer_of
from community.platform.web.forms import read_form
from community.platform.web.templates import render

TEMPLATE = "account/sessions.html"


async def _context(request: Request) -> dict[str, object]:
    viewer = viewer_of(request)
    settings = settings_of(request)
    async with db_of(request).read() as session:
        rows = await accounts.list_sessions(session, viewer)
        user = await session.get(User, viewer.id)
    chosen = user.session_hours if user is not None else None
    usual = (f"{settings.staff_session_hours} hours" if viewer.is_moderator else f"{settings.session_days} days")
    options = [(str(hours or ""), f"{label} ({usual})" if hours is None else label)
               for hours, label in accounts.SESSION_CHOICES]
    return {"sessions": rows, "current_id": viewer.session_id, "choices_options": options,
            "chosen": str(chosen or ""), "staff": viewer.is_moderator,
            "staff_hours": settings.staff_session_hours, "staff_idle": settings.staff_idle_minutes,
            "usual_days": settings.session_days, "seen_minutes": int(accounts.SEEN_EVERY.total_seconds() // 60)}


async def sessions_page(request: Request) -> Response:
    context = await _context(request)
    return render(request, TEMPLATE, {**context, "form": {"hours": context["chosen"]}})


async def end_session(request: Request) -> Response:
    """Signs out one session; ending the current one is signing out here."""
    viewer = viewer_of(request)
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await accounts.end_one_session(session, viewer, request.path_params["session_id"])
    except ActionError as exc:
        return form_error(request, TEMPLATE, exc, form.as_dict(), await _context(request))
    if request.path_params["session_id"] == viewer.session_id:
        response = redirect(request, "/signin", flash="You are signed out on this device.")
        clear_session(request, response)
        return response
    return redirect(request, "/account/sessions", flash="That session is signed out.")


async def end_others(request: Request) -> Response:
    viewer = viewer_of(request)
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            ended = await accounts.revoke_sessions(session, viewer.id, keep_id=viewer.session_id)
    except ActionError as exc:
        return form_error(request, TEMPLATE, exc, form.as_dict(), await _context(request))
    flash = (f"{ended} other session{'s are' if ended != 1 else ' is'} signed out." if ended
             else "There were no other sessions to sign out.")
    return redirect(request, "/account/sessions", flash=flash)


async def session_length(request: Request) -> Response:
    viewer = viewer_of(request)
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await accounts.set_session_length(session, settings_of(request), viewer, data.get("hours", ""))
    except ActionError as exc:
        return form_error(request, TEMPLATE, exc, data, await _context(request))
    return redirect(request, "/account/sessions", flash="Your session length is saved.")


routes = [
    Route("/account/sessions", sessions_page),
    Route("/account/sessions/others/end", end_others, methods=["POST"]),
    Route("/account/sessions/length", session_length, methods=["POST"]),
    Route("/account/sessions/{session_id:dbid}/end", end_session, methods=["POST"]),
]
