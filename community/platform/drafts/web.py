"""Drafts on the web: "My drafts" (/drafts, each can be deleted) and the JSON autosave of static/js/drafts.js
(GET /drafts/one?slot=..., POST /drafts/save with the X-CSRF-Token header); `keep` stores a failed submit."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from community.platform.errors import ActionError, RateLimited
from community.platform.viewer import Viewer
from community.platform.web.common import db_of, drafts_of, maybe_viewer, redirect, viewer_of
from community.platform.web.forms import read_form
from community.platform.web.templates import render

NO_STORE = {"cache-control": "no-store"}


def _problem(status: int, message: str, fields: dict[str, str] | None = None,
             retry_after: int | None = None) -> Response:
    headers = dict(NO_STORE)
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    return JSONResponse({"saved": False, "error": message, "errors": fields or {}}, status_code=status,
                        headers=headers)


def _problem_of(exc: ActionError) -> Response:
    return _problem(exc.status_code, exc.message or "The draft could not be saved.", getattr(exc, "fields", {}),
                    exc.retry_after if isinstance(exc, RateLimited) else None)


async def _payload(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    """(values, problems): a JSON object whose slot, body and title are text."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return {}, {"_": "Send the draft as JSON (Content-Type: application/json)."}
    try:
        data = json.loads((await request.body()).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}, {"_": "The draft was not valid JSON text (UTF-8)."}
    if not isinstance(data, dict):
        return {}, {"_": "The draft must be a JSON object."}
    values: dict[str, str] = {}
    problems: dict[str, str] = {}
    for key in ("slot", "body", "title"):
        value = data.get(key) or ""
        if not isinstance(value, str):
            problems[key] = "This must be text."
        else:
            values[key] = value
    return values, problems


async def save(request: Request) -> Response:
    viewer = maybe_viewer(request)
    if viewer is None:
        return _problem(401, "Your session ended. Sign in again; your draft is still in the box.")
    values, problems = await _payload(request)
    if problems:
        return _problem(400, "The draft could not be saved.", problems)
    try:
        async with db_of(request).transaction() as session:
            saved_at = await drafts_of(request).save(session, viewer, values["slot"], body=values["body"],
                                                     title=values["title"])
    except ActionError as exc:
        return _problem_of(exc)
    return JSONResponse({"saved": True, "saved_at": saved_at.isoformat()}, headers=NO_STORE)


async def one(request: Request) -> Response:
    """The member's draft in one slot (null when there is none), for the composer to restore."""
    viewer = maybe_viewer(request)
    if viewer is None:
        return _problem(401, "Your session ended. Sign in again.")
    slot = request.query_params.get("slot", "")[:120]
    try:
        async with db_of(request).transaction() as session:
            draft = await drafts_of(request).load(session, viewer, slot)
    except ActionError as exc:
        return _problem_of(exc)
    found = None if draft is None else {"body": draft.body, "title": draft.title or "",
                                        "saved_at": draft.updated_at.isoformat()}
    return JSONResponse({"draft": found}, headers=NO_STORE)


async def keep(request: Request, viewer: Viewer, slot: str, *, body: str, title: str = "") -> bool:
    """A failed submit keeps the writing on the server too (the form is re-rendered with it as well). A draft
    that cannot be saved (the limit reached, a slot the member may no longer write to) must not hide the form's
    own message, so its refusal is returned as False, for the page to say the draft was not stored."""
    try:
        async with db_of(request).transaction() as session:
            await drafts_of(request).save(session, viewer, slot, body=body, title=title)
    except ActionError:
        return False
    return True


async def index(request: Request) -> Response:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        listed = await drafts_of(request).mine(session, viewer)
    return render(request, "account/drafts.html", {"drafts": listed, "section": "account"},
                  headers=NO_STORE)


async def delete(request: Request) -> Response:
    viewer = viewer_of(request)
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await drafts_of(request).delete_listed(session, viewer, form.get("source"), form.get("slot"))
    except ActionError as exc:
        return redirect(request, "/drafts", flash=exc.message or "That draft could not be deleted.")
    return redirect(request, "/drafts", flash="The draft is deleted.")


routes = [
    Route("/drafts", index),
    Route("/drafts/one", one),
    Route("/drafts/save", save, methods=["POST"]),
    Route("/drafts/delete", delete, methods=["POST"]),
]
