"""Mentor conversations: asking a mentor, the mentor's answer, the conversation page and writing in it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.mentorship import conversations, profiles
from community.mentorship.policy import MESSAGE_MAX
from community.platform.errors import ActionError
from community.platform.publishing import NeedsConfirmation
from community.platform.web.common import db_of, form_error, redirect, viewer_of
from community.platform.web.forms import read_form
from community.platform.web.templates import render


async def ask(request: Request) -> Response:
    viewer = viewer_of(request)
    mentor_id = request.path_params["mentor_id"]
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            conversation = await conversations.request(session, viewer, mentor_id, form.get("body"),
                                                       confirm=form.get("confirm_phi") == "yes")
    except ActionError as exc:
        async with db_of(request).transaction() as session:
            mentor = await profiles.access_mentor(session, viewer, mentor_id)
        return form_error(request, "mentorship/ask.html", exc, form.as_dict(), {
            "mentor": mentor, "body_max": MESSAGE_MAX, **_held(exc)})
    return redirect(request, f"/mentorship/conversations/{conversation.id}",
                    flash="Your request is sent. The mentor accepts or declines it; you will be notified.")


def _held(exc: ActionError) -> dict[str, Any]:
    return {"phi_highlight": exc.screening.highlighted() if isinstance(exc, NeedsConfirmation) else None}


async def ask_page(request: Request) -> Response:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        mentor = await profiles.access_mentor(session, viewer, request.path_params["mentor_id"])
    return render(request, "mentorship/ask.html", {"mentor": mentor, "body_max": MESSAGE_MAX})


async def _context(request: Request, conversation_id: int) -> dict[str, Any]:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        conversation = await conversations.access_conversation(session, viewer, conversation_id)
        shown = await conversations.messages(session, viewer, conversation)
        other = await profiles.access_mentor_name(
            session, conversation.member_id if viewer.id == conversation.mentor_id else conversation.mentor_id)
    return {"conversation": conversation, "messages": shown, "other": other, "body_max": MESSAGE_MAX,
            "is_mentor": viewer.id == conversation.mentor_id}


async def page(request: Request) -> Response:
    return render(request, "mentorship/conversation.html",
                  await _context(request, request.path_params["conversation_id"]))


async def write(request: Request) -> Response:
    viewer = viewer_of(request)
    conversation_id = request.path_params["conversation_id"]
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await conversations.post(session, viewer, conversation_id, form.get("body"),
                                     confirm=form.get("confirm_phi") == "yes")
    except ActionError as exc:
        return form_error(request, "mentorship/conversation.html", exc, form.as_dict(),
                          {**await _context(request, conversation_id), **_held(exc)})
    return redirect(request, f"/mentorship/conversations/{conversation_id}", flash="Sent.")


async def answer(request: Request) -> Response:
    viewer = viewer_of(request)
    conversation_id = request.path_params["conversation_id"]
    form = await read_form(request)
    form.check()
    async with db_of(request).transaction() as session:
        if form.get("do") == "close":
            await conversations.close(session, viewer, conversation_id)
        else:
            await conversations.answer(session, viewer, conversation_id, accept=form.get("do") == "accept")
    return redirect(request, f"/mentorship/conversations/{conversation_id}", flash="Done.")


async def index(request: Request) -> Response:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        listed = await conversations.my_conversations(session, viewer)
    return render(request, "mentorship/conversations.html", {"conversations": listed})


routes = [
    Route("/mentors/{mentor_id:dbid}/ask", ask_page),
    Route("/mentors/{mentor_id:dbid}/ask", ask, methods=["POST"]),
    Route("/mentorship/conversations", index),
    Route("/mentorship/conversations/{conversation_id:dbid}", page),
    Route("/mentorship/conversations/{conversation_id:dbid}/write", write, methods=["POST"]),
    Route("/mentorship/conversations/{conversation_id:dbid}/answer", answer, methods=["POST"]),
]
