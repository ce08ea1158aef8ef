"""The prompt library: browse by theme, write to a prompt; moderators add and edit; admins pin the weekly one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import community.platform.web.ids  # noqa: F401  (registers the dbid path convertor)
from community.platform.errors import ActionError
from community.platform.web.common import admin_of, db_of, form_error, redirect, staff_of, viewer_of
from community.platform.web.forms import read_form
from community.platform.web.templates import render
from community.reflections import prompts as actions


async def index(request: Request) -> Response:
    viewer = viewer_of(request)
    theme = request.query_params.get("theme", "")
    theme = theme if theme in actions.THEMES else ""
    async with db_of(request).transaction() as session:
        prompts = await actions.list_prompts(session, theme=theme, include_inactive=viewer.is_moderator)
        weekly = await actions.prompt_of_week(session)
    grouped: dict[str, list[actions.Prompt]] = {}
    for prompt in prompts:
        grouped.setdefault(prompt.theme, []).append(prompt)
    ordered = [(slug, actions.THEMES[slug], grouped[slug]) for slug in actions.THEMES if slug in grouped]
    return render(request, "prompts/index.html", {"groups": ordered, "weekly": weekly, "theme": theme,
                                                  "themes": actions.THEMES})


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
