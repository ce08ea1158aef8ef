"""Moderation pages shared by every pillar: the flag form for any registered kind, the review queue, a target's
decision page, and the admin's watched-words list."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from community.platform.accounts import restrictions
from community.platform.errors import ActionError, Invalid
from community.platform.numbers import parse_int
from community.platform.review import checkins, decisions, oncall, urgent, watched
from community.platform.review import queue as moderation
from community.platform.web.common import (
    anonymity_of,
    db_of,
    form_error,
    redirect,
    review_of,
    settings_of,
    staff_of,
    targets_of,
    viewer_of,
)
from community.platform.web.forms import read_form
from community.platform.web.templates import render

PAGE = 50


# ---- flags -------------------------------------------------------------------------------------------------

async def flag(request: Request) -> Response:
    viewer = viewer_of(request)
    kind = request.path_params["kind"]
    target_id = request.path_params["target_id"]

    async def context() -> dict[str, Any]:  # what the form shows; what the viewer may not see is a 404
        async with db_of(request).transaction() as session:
            view = await moderation.access_target(session, viewer, targets_of(request), kind, target_id)
        return {"view": view, "kind": kind, "reasons": moderation.FLAG_REASONS, "hints": moderation.FLAG_HINTS,
                "note_max": moderation.NOTE_MAX}

    if request.method == "GET":
        return render(request, "moderation/flag.html", await context())
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:  # the flag loads (and checks) the target itself
            outcome = await moderation.flag(session, viewer, settings_of(request), targets_of(request), kind,
                                            target_id, form.get("reason"), form.get("note"))
    except ActionError as exc:
        return form_error(request, "moderation/flag.html", exc, form.as_dict(), await context())
    view = outcome.view
    if outcome.urgent:
        minutes = settings_of(request).urgent_escalation_minutes
        message = ("Thank you for looking out for a colleague. The moderator on call has been told now (every "
                   f"moderator, if nobody has picked it up within {minutes} minutes), and a moderator will check in "
                   "with them privately. If someone is in immediate danger, please call your local emergency number.")
    elif outcome.hidden:
        message = "Thank you. It is hidden pending review: a moderator will look at it."
    else:
        message = "Thank you. A moderator will review it."
    # A flag that hid the piece: the flagger can no longer see it, so back to where it was (its thread), not 404.
    return redirect(request, (view.back_url or view.url) if outcome.hidden else view.url, flash=message)


# ---- queue and decisions ----------------------------------------------------------------------------------------

async def review_queue(request: Request) -> Response:
    viewer = staff_of(request)
    which = request.query_params.get("show", "all")
    which = which if which in moderation.QUEUE_FILTERS else "all"
    raw = request.query_params.get("offset", "")
    offset = parse_int(raw, max_digits=6) or 0
    async with db_of(request).transaction() as session:
        entries, total = await moderation.queue(session, viewer, targets_of(request), which=which, limit=PAGE, offset=offset)
        state = await request.app.state.pulse.read(session)
        figures = await urgent.time_to_human(session)
    return render(request, "moderation/queue.html", {
        "entries": entries, "total": total, "which": which, "filters": moderation.QUEUE_FILTERS,
        "offset": offset, "limit": PAGE, "waited": moderation.waited, "etag": state.etag, "figures": figures,
        "duration": urgent.duration, "unread": viewer.unread})


async def pulse(request: Request) -> Response:
    """The queue's state for the moderators' poll (static/js/staff.js): 304 when the ETag still holds."""
    viewer = staff_of(request)
    async with db_of(request).transaction() as session:
        state = await request.app.state.pulse.read(session)
    # The moderator's own unread count rides along (it comes with the viewer, no query): a new alert is one.
    tag = f"{state.etag}-{viewer.unread}"
    etag = f'"{tag}"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if request.headers.get("if-none-match") in (etag, tag):
        return Response(status_code=304, headers=headers)
    return JSONResponse({**state.as_json(), "etag": tag, "unread": viewer.unread}, headers=headers)


async def _detail_context(request: Request, kind: str, target_id: int) -> dict[str, Any]:
    viewer = staff_of(request)
    async with db_of(request).transaction() as session:
        entry = await moderation.target_detail(session, viewer, targets_of(request), kind, target_id)
        adapter = moderation.adapter_or_404(targets_of(request), kind)
        # What the kind adds to its decision page: categories to move a thread to, earlier versions, ...
        own = await adapter.review_context(session, viewer, target_id)
        # An anonymous piece's page says whether a restriction that followed from it is in force; not on whom.
        held = (await restrictions.about(session, anonymity_of(request), f"{kind}:{target_id}")
                if entry.view.anonymous else [])
        conversations = await checkins.mine_about(session, viewer, kind, target_id)
    return {"entry": entry, "view": entry.view, "kind": kind, "extra": getattr(adapter, "extra_decisions", ()),
            "labels": decisions.LABELS, "silence_hours": decisions.SILENCE_HOURS, "categories": [],
            "waited": moderation.waited, "needs_reason": decisions.DECIDE_NEEDS_REASON, "revisions": [],
            "restrictions": held, "conversations": conversations, **own}


async def review_target(request: Request) -> Response:
    kind, target_id = request.path_params["kind"], request.path_params["target_id"]
    context = await _detail_context(request, kind, target_id)
    view = context["view"]
    form = {"body": view.extra.get("body_md", ""), "title": view.extra.get("thread_title", "")}
    return render(request, "moderation/target.html", {**context, "form": form})


async def decide(request: Request) -> Response:
    viewer = staff_of(request)
    kind, target_id = request.path_params["kind"], request.path_params["target_id"]
    form = await read_form(request)
    try:
        form.check()
        params = {k: form.get(k) for k in ("hours", "days", "content", "category_id", "body", "title")}
        async with db_of(request).transaction() as session:
            result = await decisions.decide(session, viewer, review_of(request), kind=kind, target_id=target_id,
                                            action=form.get("action"), reason=form.get("reason"), params=params)
    except ActionError as exc:
        context = await _detail_context(request, kind, target_id)
        return form_error(request, "moderation/target.html", exc, form.as_dict(),
                          {**context, "failed_action": form.get("action")})
    back = form.get("next")
    if back == "thread" and kind == "post":
        return redirect(request, f"/p/{target_id}", flash=result.message)
    if result.conversation_url:
        return redirect(request, result.conversation_url, flash=f"{result.message} This is your private "
                        "conversation with the writer: you are notified when they answer.")
    if result.item_id is not None:
        return redirect(request, "/review", flash=result.message)
    return redirect(request, f"/review/{kind}/{target_id}", flash=result.message)


async def claim(request: Request) -> Response:
    viewer = staff_of(request)
    form = await read_form(request)
    release = form.get("release") == "yes"
    async with db_of(request).transaction() as session:
        item = await moderation.claim(session, viewer, request.path_params["item_id"], release=release)
    back = f"/review/{item.target_kind}/{item.target_id}" if form.get("next") == "target" else "/review"
    return redirect(request, back, flash="Released." if release else "Claimed: others can see you have it.")


async def acknowledge(request: Request) -> Response:
    viewer = staff_of(request)
    form = await read_form(request)
    form.check()
    async with db_of(request).transaction() as session:
        await moderation.acknowledge(session, viewer, request.path_params["item_id"])
    return redirect(request, "/review?show=urgent", flash="Recorded that you have seen it. Claim it if you are "
                    "taking it on: until someone claims it, it still escalates to every moderator.")


# ---- on-call hours (moderators) -------------------------------------------------------------------------------

async def _on_call_context(request: Request) -> dict[str, Any]:
    async with db_of(request).transaction() as session:
        now_on_call = await urgent.on_call_names(session)
    return {"weekdays": urgent.WEEKDAYS, "escalation": settings_of(request).urgent_escalation_minutes,
            "now_on_call": now_on_call}


async def on_call(request: Request) -> Response:
    viewer = staff_of(request)
    context = await _on_call_context(request)
    if request.method == "GET":
        async with db_of(request).transaction() as session:
            hours = await oncall.hours_of(session, viewer.id)
        return render(request, "moderation/on_call.html", {**context, "form": oncall.form_of(hours)})
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            hours = await oncall.set_hours(session, viewer, form.as_dict())
    except ActionError as exc:
        return form_error(request, "moderation/on_call.html", exc, form.as_dict(), context)
    days = len(hours)
    return redirect(request, "/account/on-call",
                    flash=f"Saved: on call on {days} day{'s' if days != 1 else ''} a week." if days
                    else "Saved: you are not on call at any time.")


# ---- watched words (admins; moderators in their scope) -------------------------------------------------------------------------------

async def _words_context(request: Request) -> dict[str, Any]:
    viewer = staff_of(request)
    async with db_of(request).transaction() as session:
        words = await watched.list_words(session)
    return {"words": words, "actions": watched.ACTION_LABELS, "may_add": watched.actions_for(viewer),
            "removable": {w.id for w in words if watched.may_remove(viewer, w)}}


async def watched_words(request: Request) -> Response:
    """Admins manage every word; moderators add hold and flag words and remove their own (watched.py)."""
    viewer = staff_of(request)
    if request.method == "GET":
        return render(request, "moderation/watched_words.html", await _words_context(request))
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            word = await watched.add_word(session, viewer, phrase=form.get("phrase"), action=form.get("action"),
                                          message=form.get("message"))
    except ActionError as exc:
        return form_error(request, "moderation/watched_words.html", exc, form.as_dict(),
                          await _words_context(request))
    return redirect(request, "/admin/watched-words", flash=f"“{word.phrase}” is on the list.")


async def watched_word_delete(request: Request) -> Response:
    viewer = staff_of(request)
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await watched.remove_word(session, viewer, request.path_params["word_id"])
    except ActionError as exc:
        return form_error(request, "moderation/watched_words.html", exc, {}, await _words_context(request))
    return redirect(request, "/admin/watched-words", flash="The word is off the list.")


async def watched_test(request: Request) -> Response:
    staff_of(request)
    form = await read_form(request)
    context = await _words_context(request)
    sample = form.get("sample")
    try:
        form.check()
        if not sample.strip():
            raise Invalid(fields={"sample": "Type a sentence to test."})
        if len(sample) > 5000:
            raise Invalid(fields={"sample": "Use at most 5,000 characters."})
    except ActionError as exc:
        return form_error(request, "moderation/watched_words.html", exc, {"sample": sample}, context)
    result = watched.match(context["words"], sample)
    return render(request, "moderation/watched_words.html", {**context, "form": {"sample": sample},
                                                             "test_result": result})


routes = [
    Route("/flag/{kind}/{target_id:dbid}", flag, methods=["GET", "POST"]),
    Route("/review", review_queue),
    Route("/review/pulse", pulse),
    Route("/review/items/{item_id:dbid}/claim", claim, methods=["POST"]),
    Route("/review/items/{item_id:dbid}/acknowledge", acknowledge, methods=["POST"]),
    Route("/account/on-call", on_call, methods=["GET", "POST"]),
    Route("/review/{kind}/{target_id:dbid}", review_target),
    Route("/review/{kind}/{target_id:dbid}/decide", decide, methods=["POST"]),
    Route("/admin/watched-words", watched_words, methods=["GET", "POST"]),
    Route("/admin/watched-words/test", watched_test, methods=["POST"]),
    Route("/admin/watched-words/{word_id:dbid}/delete", watched_word_delete, methods=["POST"]),
]
