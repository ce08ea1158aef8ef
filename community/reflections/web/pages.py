"""Reflection pages: the wall, one reflection with its replies, writing and editing, drafts (JSON autosave).

This module also collects the routes of the other reflection modules (journal, prompts, moderation, own data),
since the app loads `community.web.reflections` only.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import community.platform.web.ids  # noqa: F401  (registers the dbid path convertor)
from community.platform.drafts import web as drafts_web
from community.platform.errors import ActionError, Invalid, NotFound, SearchTooBroad
from community.platform.numbers import parse_int
from community.platform.publishing import NeedsConfirmation
from community.platform.web import fragments
from community.platform.web.common import (
    anonymity_of,
    db_of,
    drafts_of,
    form_error,
    redirect,
    settings_of,
    viewer_of,
)
from community.platform.web.forms import read_form
from community.platform.web.templates import coarse_time, render
from community.reflections import actions, drafts, policy, replies
from community.reflections import prompts as prompt_actions
from community.reflections.models import BODY_MAX, REPLY_MAX, TITLE_MAX
from community.reflections.page_moderation import DECISIONS
from community.reflections.web.cards import render_card

FIELDS = ("title", "body", "visibility", "prompt_id", "theme")
PROMPT_SQL = "SELECT id, theme, title, text, minutes FROM prompts WHERE id = $1::bigint"


def key_of(request: Request) -> str:
    return anonymity_of(request)


def as_id(raw: str | None) -> int | None:
    """A database id from untrusted text, or None ("12", not "²", "-1", "1e9" or 40 digits)."""
    raw = (raw or "").strip()
    return parse_int(raw, max_digits=12, low=1)


def int_param(request: Request, name: str) -> int | None:
    return as_id(request.query_params.get(name))


# ---- the wall ---------------------------------------------------------------------------------------------

_WALL_CARDS = object()  # the wall's cards' namespace in web.fragments' cache


def _wall_card(context: dict[str, Any]) -> str:
    return render_card(context["card"], heading="h3", when=context["when"])


async def wall(request: Request) -> Response:
    viewer = viewer_of(request)
    theme = request.query_params.get("theme", "")
    theme = theme if theme in prompt_actions.THEMES else ""
    prompt_id = int_param(request, "prompt")
    q = " ".join(request.query_params.get("q", "").split())[:200].replace("\x00", "")
    before = int_param(request, "before")
    # Prepared statements on a bare asyncpg connection: the cards with their counts and the prompt of the week
    # in one, and the prompt filtered by (when there is one).
    error, status = None, 200
    async with db_of(request).raw() as connection:
        try:
            page = await actions.wall_page(connection, viewer, key_of(request), theme=theme, prompt_id=prompt_id,
                                           q=q, before=before)
        except SearchTooBroad as exc:  # no cards, the prompt of the week, and the words kept in the search box
            error, status = exc.message, exc.status_code
            page = actions.WallPage([], await prompt_actions.prompt_of_week_row(connection))
        prompt = await connection.fetchrow(PROMPT_SQL, prompt_id) if prompt_id else None
    cards, weekly = page.cards, page.weekly
    # Each card's HTML is cached by its row (the same for every viewer) and its coarse time.
    now = datetime.now(UTC)
    items = []
    for card in cards:
        when = coarse_time(card.created_at, now)
        items.append(((card.row, when), {"card": card, "when": when}))
    return render(request, "reflections/wall.html", {
        "cards": cards, "cards_html": fragments.render_items(_WALL_CARDS, items, _wall_card), "theme": theme,
        "themes": prompt_actions.THEMES, "prompt": prompt, "q": q, "weekly": weekly,
        "more": len(cards) == actions.WALL_PAGE, "before": before, "error": error}, status_code=status)


# ---- one reflection ---------------------------------------------------------------------------------------

async def show_context(request: Request, reflection_id: int) -> dict[str, Any]:
    """The reflection page's context: one prepared statement on a bare asyncpg connection (replies.reflection_page).
    The page reads the reflection's own fields from its card."""
    viewer = viewer_of(request)
    async with db_of(request).raw() as connection:
        page = await replies.reflection_page(connection, viewer, key_of(request), reflection_id)
    return {"reflection": page.card, "card": page.card, "prompt": page.prompt, "replies": page.replies,
            "my_reactions": page.my_reactions, "reaction_labels": replies.REACTION_LABELS, "decisions": DECISIONS,
            "reply_max": REPLY_MAX, "support": request.query_params.get("support") == "1",
            "visibility_labels": actions.VISIBILITY_LABELS}


async def show(request: Request) -> Response:
    context = await show_context(request, request.path_params["reflection_id"])
    return render(request, "reflections/show.html", context)


async def render_show_error(request: Request, reflection_id: int, exc: ActionError, form: dict[str, str],
                            extra: dict[str, Any] | None = None) -> Response:
    context = await show_context(request, reflection_id)
    return form_error(request, "reflections/show.html", exc, form, {**context, **(extra or {})})


HELD_REPLY = " Others will see it once a moderator has looked at it: it contains wording our community reviews first."


def shared_message(saved: Any, messages: dict[str, str]) -> str:
    """What the writer is told after saving: shared pieces that are not on the wall (held for a moderator, or
    hidden by one) say so instead of claiming to be on it."""
    if saved.visibility != "private" and saved.state != "visible":
        return "Saved. It is not on the reflection wall for now: a moderator will look at it first."
    return messages[saved.visibility]


async def reply(request: Request) -> Response:
    viewer = viewer_of(request)
    reflection_id = request.path_params["reflection_id"]
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            created, result = await replies.create_reply(
                session, viewer, key_of(request), reflection_id, settings=settings_of(request),
                body=data.get("body", ""), anonymous=data.get("anonymous") == "yes",
                confirmed=data.get("confirm_phi") == "yes",
                draft=drafts_of(request).key(viewer, drafts.reply_slot(reflection_id)))
    except ActionError as exc:
        await drafts_web.keep(request, viewer, drafts.reply_slot(reflection_id), body=data.get("body", ""))
        if isinstance(exc, NeedsConfirmation):
            return await render_show_error(request, reflection_id, exc, data, {
                "highlighted": exc.screening.highlighted(), "crisis": exc.screening.crisis_fired})
        return await render_show_error(request, reflection_id, exc, data)
    support = "?support=1" if result.crisis_fired else ""
    return redirect(request, f"/reflections/{reflection_id}{support}#reply-{created.id}",
                    flash="Thank you for your reply." + (HELD_REPLY if created.state != "visible" else ""))


async def delete_reply(request: Request) -> Response:
    viewer = viewer_of(request)
    # Only a fixed place to return to (the journal's list of replies, or the page of them all), never a URL from
    # the form.
    back_to = {"journal": "/journal#my-replies", "replies": "/journal/replies"}.get(
        (await read_form(request)).get("next"))
    async with db_of(request).transaction() as session:
        reflection_id = await replies.delete_reply(session, viewer, key_of(request), request.path_params["reply_id"])
    return redirect(request, back_to or f"/reflections/{reflection_id}",
                    flash="Your reply is deleted.")


async def edit_reply(request: Request) -> Response:
    """The writer edits their own reply; anyone else gets the same 404 as for deleting it."""
    viewer = viewer_of(request)
    reply_id = request.path_params["reply_id"]
    template = "reflections/reply_edit.html"
    async with db_of(request).transaction() as session:
        own, reflection = await replies.access_own_reply(session, viewer, key_of(request), reply_id)
    context = {"reply": own, "reflection": reflection, "reply_max": REPLY_MAX}
    if request.method == "GET":
        return render(request, template, {**context, "form": {"body": own.body}})
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            saved, result = await replies.edit_reply(session, viewer, key_of(request), reply_id,
                                                     settings=settings_of(request), body=data.get("body", ""),
                                                     confirmed=data.get("confirm_phi") == "yes")
    except NeedsConfirmation as exc:
        return form_error(request, template, exc, data, {
            **context, "highlighted": exc.screening.highlighted(), "crisis": exc.screening.crisis_fired})
    except ActionError as exc:
        return form_error(request, template, exc, data, context)
    support = "?support=1" if result.crisis_fired else ""
    return redirect(request, f"/reflections/{saved.reflection_id}{support}#reply-{saved.id}",
                    flash="Your reply is updated." + (HELD_REPLY if saved.state != "visible" else ""))


async def react(request: Request) -> Response:
    viewer = viewer_of(request)
    reflection_id = request.path_params["reflection_id"]
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            on = await replies.toggle_reaction(session, viewer, key_of(request), reflection_id, form.get("kind"))
    except ActionError as exc:
        return await render_show_error(request, reflection_id, exc, {})
    label = replies.REACTION_LABELS[form.get("kind")]
    return redirect(request, f"/reflections/{reflection_id}#reactions",
                    flash=f"“{label}” sent, quietly." if on else f"“{label}” taken back.")


# ---- writing and editing ----------------------------------------------------------------------------------

async def compose_context(session: Any, request: Request, *, slot: str, prompt_id: int | None,
                          reflection: Any = None) -> dict[str, Any]:
    prompt = None
    if prompt_id:
        try:
            prompt = await prompt_actions.access_prompt(session, prompt_id, active_only=False)
        except NotFound:
            prompt = None
    refused = reflection is not None and not policy.may_become_anonymous(reflection)
    return {"slot": slot, "prompt": prompt, "reflection": reflection,
            "anonymous_refused": policy.NAMED_STAYS_NAMED if refused else None,
            "prompts": await prompt_actions.list_prompts(session), "themes": prompt_actions.THEMES,
            "visibility_labels": actions.VISIBILITY_LABELS, "title_max": TITLE_MAX, "body_max": BODY_MAX}


def _draft_form(draft: Any) -> dict[str, str]:
    return {"title": draft.title or "", "body": draft.body, "visibility": draft.visibility,
            "prompt_id": str(draft.prompt_id or ""), "theme": draft.theme or ""}


async def compose(request: Request) -> Response:
    viewer = viewer_of(request)
    if request.method == "POST":
        return await _submit(request, viewer, reflection_id=None)
    prompt_id = int_param(request, "prompt")
    slot = drafts.slot_for(prompt_id=prompt_id)
    async with db_of(request).transaction() as session:
        context = await compose_context(session, request, slot=slot, prompt_id=prompt_id)
        draft = await drafts.load_draft(session, viewer, key_of(request), slot)
    form = {"visibility": "private", "prompt_id": str(context["prompt"].id) if context["prompt"] else "",
            "theme": context["prompt"].theme if context["prompt"] else ""}
    if draft is not None and (draft.body or draft.title):
        form = _draft_form(draft)
        context["restored_at"] = draft.updated_at
    return render(request, "reflections/compose.html", {**context, "form": form})


async def edit(request: Request) -> Response:
    viewer = viewer_of(request)
    reflection_id = request.path_params["reflection_id"]
    if request.method == "POST":
        return await _submit(request, viewer, reflection_id=reflection_id)
    slot = drafts.slot_for(reflection_id=reflection_id)
    async with db_of(request).transaction() as session:
        reflection = await actions.access_own(session, viewer, key_of(request), reflection_id)
        context = await compose_context(session, request, slot=slot, prompt_id=reflection.prompt_id,
                                        reflection=reflection)
        draft = await drafts.load_draft(session, viewer, key_of(request), slot)
    form = {"title": reflection.title or "", "body": reflection.body, "visibility": reflection.visibility,
            "prompt_id": str(reflection.prompt_id or ""), "theme": reflection.theme or ""}
    if draft is not None and draft.body and draft.updated_at > reflection.updated_at and draft.body != reflection.body:
        form = _draft_form(draft)
        context["restored_at"] = draft.updated_at
    return render(request, "reflections/compose.html", {**context, "form": form})


async def _save_draft_quietly(request: Request, viewer: Any, slot: str, data: dict[str, str]) -> bool:
    """A failed submit keeps the writing on the server too; a draft that cannot be saved must not hide the
    original problem, so its own error is swallowed here (the text is still in the re-rendered form)."""
    try:
        async with db_of(request).transaction() as session:
            fields = {k: data.get(k, "") for k in FIELDS}
            fields["title"] = fields["title"][:TITLE_MAX]
            await drafts.save_draft(session, viewer, key_of(request), slot, **fields)
        return True
    except ActionError:
        return False


async def _save_as_draft(request: Request, viewer: Any, form: Any, data: dict[str, str], slot: str,
                         context: dict[str, Any], *, reflection_id: int | None, prompt_hint: int | None) -> Response:
    """"Save as draft" on the composer: kept on the server, nothing published."""
    template = "reflections/compose.html"
    try:
        form.check()
    except Invalid as exc:
        await _save_draft_quietly(request, viewer, slot, data)
        return form_error(request, template, exc, data, context)
    try:
        async with db_of(request).transaction() as session:
            await drafts.save_draft(session, viewer, key_of(request), slot, **{k: data.get(k, "") for k in FIELDS})
    except ActionError as exc:
        return form_error(request, template, exc, data, context)
    target = f"/reflections/{reflection_id}/edit" if reflection_id else (
        f"/reflections/new?prompt={prompt_hint}" if prompt_hint else "/reflections/new")
    return redirect(request, target, flash="Your draft is saved. Come back to it any time.")


async def _composer(request: Request, slot: str, prompt_id: int | None, reflection: Any) -> dict[str, Any]:
    async with db_of(request).transaction() as session:
        return await compose_context(session, request, slot=slot, prompt_id=prompt_id, reflection=reflection)


async def _submit(request: Request, viewer: Any, *, reflection_id: int | None) -> Response:
    form = await read_form(request)
    data = {k: v for k, v in form.as_dict().items() if k != "csrf_token"}
    prompt_hint = as_id(data.get("prompt_id"))
    slot = drafts.slot_for(reflection_id=reflection_id, prompt_id=prompt_hint)
    if "slot" in data and drafts.SLOT_RE.match(data["slot"]) and reflection_id is None and \
            not data["slot"].startswith("edit:"):
        slot = data["slot"]
    template = "reflections/compose.html"
    reflection = None
    if reflection_id:
        try:
            async with db_of(request).transaction() as session:
                reflection = await actions.access_own(session, viewer, key_of(request), reflection_id)
        except ActionError as exc:
            return form_error(request, "errors/error.html", exc, {})
    composer = functools.partial(_composer, request, slot, prompt_hint, reflection)  # for a draft or an error
    if data.get("intent") == "draft":
        return await _save_as_draft(request, viewer, form, data, slot, await composer(),
                                    reflection_id=reflection_id, prompt_hint=prompt_hint)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            fields = {k: data.get(k, "") for k in FIELDS}
            confirmed = data.get("confirm_phi") == "yes"
            if reflection_id:
                saved, result = await actions.update_reflection(session, viewer, key_of(request), reflection_id,
                                                                settings=settings_of(request), confirmed=confirmed,
                                                                **fields)
            else:
                saved, result = await actions.create_reflection(session, viewer, key_of(request),
                                                                settings=settings_of(request), confirmed=confirmed,
                                                                **fields)
            await drafts.discard_draft(session, viewer, key_of(request), slot)
    except NeedsConfirmation as exc:
        kept = await _save_draft_quietly(request, viewer, slot, data)
        return form_error(request, template, exc, data, {
            **await composer(), "highlighted": exc.screening.highlighted(), "crisis": exc.screening.crisis_fired,
            "draft_kept": kept})
    except ActionError as exc:
        kept = await _save_draft_quietly(request, viewer, slot, data)
        return form_error(request, template, exc, data, {**await composer(), "draft_kept": kept})
    messages = {"private": "Saved in your private journal.",
                "anonymous": "Shared anonymously on the reflection wall.",
                "named": "Shared on the reflection wall under your name."}
    support = "?support=1" if result.crisis_fired else ""
    return redirect(request, f"/reflections/{saved.id}{support}",
                    flash=("Your changes are saved. " if reflection_id else "") + shared_message(saved, messages))


async def visibility(request: Request) -> Response:
    viewer = viewer_of(request)
    reflection_id = request.path_params["reflection_id"]
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            saved = await actions.change_visibility(session, viewer, key_of(request), reflection_id,
                                                    data.get("visibility", ""), settings=settings_of(request),
                                                    confirmed=data.get("confirm_phi") == "yes")
    except ActionError as exc:
        async with db_of(request).transaction() as session:
            reflection = await actions.access_own(session, viewer, key_of(request), reflection_id)
            context = await compose_context(session, request, slot=drafts.slot_for(reflection_id=reflection_id),
                                            prompt_id=reflection.prompt_id, reflection=reflection)
        kept = {"title": reflection.title or "", "body": reflection.body, "prompt_id": str(reflection.prompt_id or ""),
                "theme": reflection.theme or "", "visibility": data.get("visibility", reflection.visibility)}
        extra = {}
        if isinstance(exc, NeedsConfirmation):
            extra = {"highlighted": exc.screening.highlighted(), "crisis": exc.screening.crisis_fired}
        return form_error(request, "reflections/compose.html", exc, kept, {**context, **extra})
    messages = {"private": "It is private now: withdrawn from the wall and from search.",
                "anonymous": "It is on the reflection wall now, anonymously.",
                "named": "It is on the reflection wall now, under your name."}
    return redirect(request, f"/reflections/{reflection_id}", flash=shared_message(saved, messages))


async def delete(request: Request) -> Response:
    viewer = viewer_of(request)
    reflection_id = request.path_params["reflection_id"]
    if request.method == "GET":
        async with db_of(request).transaction() as session:
            reflection = await actions.access_own(session, viewer, key_of(request), reflection_id)
        return render(request, "reflections/delete.html", {"reflection": reflection})
    async with db_of(request).transaction() as session:
        await actions.delete_reflection(session, viewer, key_of(request), reflection_id)
        await drafts.discard_draft(session, viewer, key_of(request), drafts.slot_for(reflection_id=reflection_id))
    return redirect(request, "/journal", flash="The reflection is deleted, with its replies.")


routes = [
    Route("/reflections", wall),
    Route("/reflections/new", compose, methods=["GET", "POST"]),
    Route("/reflections/{reflection_id:dbid}", show),
    Route("/reflections/{reflection_id:dbid}/edit", edit, methods=["GET", "POST"]),
    Route("/reflections/{reflection_id:dbid}/visibility", visibility, methods=["POST"]),
    Route("/reflections/{reflection_id:dbid}/delete", delete, methods=["GET", "POST"]),
    Route("/reflections/{reflection_id:dbid}/replies", reply, methods=["POST"]),
    Route("/reflections/{reflection_id:dbid}/react", react, methods=["POST"]),
    Route("/reflections/replies/{reply_id:dbid}/edit", edit_reply, methods=["GET", "POST"]),
    Route("/reflections/replies/{reply_id:dbid}/delete", delete_reply, methods=["POST"]),
]
