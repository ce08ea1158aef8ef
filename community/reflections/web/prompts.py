"""The prompt library: browse by theme, write to a prompt; moderators add and edit; admins pin the weekly one."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import community.platform.web.ids  # noqa: F401  (registers the dbid path convertor)
from community.platform.errors import ActionError
from community.platform.web import fragments
from community.platform.web.common import admin_of, db_of, form_error, redirect, staff_of, viewer_of
from community.platform.web.forms import read_form
from community.platform.web.fragments import Spliced
from community.platform.web.templates import render
from community.reflections import prompts as actions

GROUPS_TEMPLATE = "prompts/_groups.html"


async def index(request: Request) -> Response:
    viewer = viewer_of(request)
    theme = request.query_params.get("theme", "")
    theme = theme if theme in actions.THEMES else ""
    async with db_of(request).raw() as connection:
        prompts, weekly = await actions.prompt_library(connection, theme=theme, include_inactive=viewer.is_moderator)
    grouped: dict[str, list[Any]] = {}
    for prompt in prompts:
        grouped.setdefault(prompt["theme"], []).append(prompt)
    ordered = [(slug, actions.THEMES[slug], grouped[slug]) for slug in actions.THEMES if slug in grouped]
    return render(request, "prompts/index.html", {"groups_html": _groups_html(request, ordered, weekly, viewer),
                                                  "weekly": weekly, "theme": theme, "themes": actions.THEMES})


def _groups_html(request: Request, groups: list[Any], weekly: dict[str, Any] | None, viewer: Any) -> Spliced:
    """The themed sections, the same for every member of one role: cached by everything they show (the prompts'
    rows as read, the role, the prompt of the week), so a changed prompt is a new key and nothing goes stale."""
    template = request.app.state.templates.env.get_template(GROUPS_TEMPLATE)
    pinned = weekly["id"] if weekly and weekly["pinned_at"] else None
    key = ("prompts", tuple(row for _, _, items in groups for row in items), viewer.is_moderator, viewer.is_admin,
           pinned)
    parts = fragments.cached(template, key)
    if parts is None:
        parts = Spliced.from_html(template.render({
            "groups": groups, "moderator": viewer.is_moderator, "admin": viewer.is_admin, "weekly": weekly,
            "csrf_token": fragments.CsrfMarker()})).parts
        fragments.store(template, key, parts)
    return Spliced(parts)


def _context() -> dict[str, object]:
    return {"themes": actions.THEMES, "minutes": actions.MINUTES}


async def new(request: Request) -> Response:
    viewer = staff_of(request)
    if request.method == "GET":
        return render(request, "prompts/form.html", {**_context(), "form": {"minutes": "5"}})
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            prompt = await actions.create_prompt(session, viewer, theme=data.get("theme", ""),
                                                 title=data.get("title", ""), text=data.get("text", ""),
                                                 minutes=data.get("minutes", ""))
    except ActionError as exc:
        return form_error(request, "prompts/form.html", exc, data, _context())
    return redirect(request, f"/prompts?theme={prompt.theme}#prompt-{prompt.id}", flash="The prompt is added.")


async def edit(request: Request) -> Response:
    viewer = staff_of(request)
    prompt_id = request.path_params["prompt_id"]
    async with db_of(request).transaction() as session:
        prompt = await actions.access_prompt(session, prompt_id, active_only=False)
        current = {"theme": prompt.theme, "title": prompt.title, "text": prompt.text,
                   "minutes": str(prompt.minutes), "active": "yes" if prompt.active else ""}
    context = {**_context(), "prompt": prompt}
    if request.method == "GET":
        return render(request, "prompts/form.html", {**context, "form": current})
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await actions.update_prompt(session, viewer, prompt_id, theme=data.get("theme", ""),
                                        title=data.get("title", ""), text=data.get("text", ""),
                                        minutes=data.get("minutes", ""), active=data.get("active") == "yes")
    except ActionError as exc:
        return form_error(request, "prompts/form.html", exc, data, context)
    return redirect(request, f"/prompts#prompt-{prompt_id}", flash="The prompt is saved.")


async def pin(request: Request) -> Response:
    viewer = admin_of(request)
    prompt_id = request.path_params.get("prompt_id")
    async with db_of(request).transaction() as session:
        await actions.pin_prompt(session, viewer, prompt_id)
    return redirect(request, "/prompts", flash="Pinned as the prompt of the week." if prompt_id else
                    "Unpinned: the prompt of the week rotates again.")


routes = [
    Route("/prompts", index),
    Route("/prompts/new", new, methods=["GET", "POST"]),
    Route("/prompts/{prompt_id:dbid}/edit", edit, methods=["GET", "POST"]),
    Route("/prompts/{prompt_id:dbid}/pin", pin, methods=["POST"]),
    Route("/prompts/unpin", pin, methods=["POST"]),
]
