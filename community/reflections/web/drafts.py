"""Draft autosave for static/js/reflection-draft.js: POST JSON (or a form) with the X-CSRF-Token header."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from community.platform.errors import ActionError, RateLimited
from community.platform.web.common import anonymity_of, db_of, maybe_viewer
from community.platform.web.forms import read_form
from community.reflections import drafts

FIELDS = ("title", "body", "visibility", "prompt_id", "theme")


def _problem(status: int, message: str, fields: dict[str, str] | None = None, retry_after: int | None = None) -> Response:
    headers = {"cache-control": "no-store"}
    if retry_after is not None:
        headers["retry-after"] = str(retry_after)
    return JSONResponse({"saved": False, "error": message, "errors": fields or {}}, status_code=status,
                        headers=headers)


async def _payload(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    """Returns (values, field problems); JSON must be an object of strings."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        form = await read_form(request)
        return {k: form.get(k) for k in (*FIELDS, "slot")}, dict(form.errors)
    raw = await request.body()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return {}, {"_": "The draft was not valid JSON text (UTF-8)."}
    if not isinstance(data, dict):
        return {}, {"_": "The draft must be a JSON object."}
    values: dict[str, str] = {}
    problems: dict[str, str] = {}
    for key in (*FIELDS, "slot"):
        value = data.get(key, "")
        if value is None:
            value = ""
        if isinstance(value, int) and not isinstance(value, bool) and key == "prompt_id":
            value = str(value)
        if not isinstance(value, str):
            problems[key] = "This must be text."
            continue
        if "\x00" in value:
            problems[key] = "This contained a NUL character, which is not allowed."
        values[key] = value.replace("\x00", "")
    return values, problems


async def save(request: Request) -> Response:
    viewer = maybe_viewer(request)
    if viewer is None:
        return _problem(401, "Your session ended. Sign in again; your draft is still in this browser.")
    values, problems = await _payload(request)
    if problems:
        return _problem(400, "The draft could not be saved.", problems)
    try:
        async with db_of(request).transaction() as session:
            saved_at = await drafts.save_draft(session, viewer, anonymity_of(request), values.get("slot", ""),
                                               **{k: values.get(k, "") for k in FIELDS})
    except ActionError as exc:
        return _problem(exc.status_code, exc.message or "The draft could not be saved.",
                        getattr(exc, "fields", {}), exc.retry_after if isinstance(exc, RateLimited) else None)
    return JSONResponse({"saved": True, "saved_at": saved_at.isoformat()}, headers={"cache-control": "no-store"})


routes = [Route("/reflections/drafts", save, methods=["POST"])]
