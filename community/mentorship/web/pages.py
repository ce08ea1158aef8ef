"""Member cards, the card's visibility settings, the mentor directory, a mentor's own directory entry and
office hours."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.mentorship import office_hours, profiles
from community.platform.errors import ActionError
from community.platform.web.common import db_of, form_error, redirect, viewer_of
from community.platform.web.forms import read_form
from community.platform.web.templates import render


async def card(request: Request) -> Response:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        shown = await profiles.card_for(session, viewer, request.path_params["handle"])
    return render(request, "mentorship/card.html", {"card": shown})


def _card_context(choices: dict[str, str]) -> dict[str, Any]:
    return {"fields": profiles.CARD_FIELDS, "audiences": profiles.AUDIENCES, "choices": choices}


async def card_settings(request: Request) -> Response:
    viewer = viewer_of(request)
    if request.method == "GET":
        async with db_of(request).transaction() as session:
            choices = await profiles.card_choices(session, viewer)
        return render(request, "mentorship/card_settings.html", _card_context(choices))
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await profiles.save_card(session, viewer, {f: form.get(f) for f in profiles.CARD_FIELDS})
    except ActionError as exc:
        return form_error(request, "mentorship/card_settings.html", exc, form.as_dict(),
                          _card_context({f: form.get(f) for f in profiles.CARD_FIELDS}))
    return redirect(request, "/account/card", flash="Your card is saved.")


async def directory(request: Request) -> Response:
    viewer = viewer_of(request)
    specialty = request.query_params.get("specialty", "")[:80]
    interest = request.query_params.get("interest", "")[:80]
    async with db_of(request).transaction() as session:
        found, specialties, interests = await profiles.directory(session, viewer, specialty=specialty,
                                                                 interest=interest)
    return render(request, "mentorship/directory.html", {
        "mentors": found, "specialties": specialties, "interests": interests, "specialty": specialty,
        "interest": interest})


async def _mine_context(request: Request, form: dict[str, str] | None = None) -> dict[str, Any]:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        profile = await profiles.my_mentor_profile(session, viewer)
        hours = await office_hours.hours_of(session, viewer.id)
    defaults = {"listed": "1" if profile and profile.listed else "",
                "final_year": "1" if profile and profile.final_year else "",
                "specialties": ", ".join(profile.specialties) if profile else "",
                "interests": ", ".join(profile.interests) if profile else "",
                "help_with": profile.help_with if profile else "",
                "takes_conversations": "1" if profile is None or profile.takes_conversations else ""}
    return {"profile": profile, "hours": hours, "weekdays": office_hours.WEEKDAYS,
            "form": {**defaults, "slot_minutes": "20", "retention": "24", **(form or {})}}


async def my_entry(request: Request) -> Response:
    viewer = viewer_of(request)
    if request.method == "GET":
        return render(request, "mentorship/mine.html", await _mine_context(request))
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            profile = await profiles.save_mentor(
                session, viewer, listed=form.get("listed") == "1", final_year=form.get("final_year") == "1",
                specialties=form.get("specialties"), interests=form.get("interests"),
                help_with=form.get("help_with"), takes_conversations=form.get("takes_conversations") == "1")
    except ActionError as exc:
        return form_error(request, "mentorship/mine.html", exc, form.as_dict(),
                          await _mine_context(request, form.as_dict()))
    return redirect(request, "/mentors/me", flash="You are in the mentor directory." if profile.listed
                    else "You are not in the mentor directory.")


async def publish_hours(request: Request) -> Response:
    viewer = viewer_of(request)
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await office_hours.publish_hours(
                session, viewer, weekday_field=form.get("weekday"), start=form.get("start"), end=form.get("end"),
                slot_field=form.get("slot_minutes"), retention=form.get("retention"))
    except ActionError as exc:
        return form_error(request, "mentorship/mine.html", exc, form.as_dict(),
                          await _mine_context(request, form.as_dict()))
    return redirect(request, "/mentors/me", flash="Your office hours are published.")


async def remove_hours(request: Request) -> Response:
    viewer = viewer_of(request)
    form = await read_form(request)
    form.check()
    async with db_of(request).transaction() as session:
        await office_hours.remove_hours(session, viewer, request.path_params["hours_id"])
    return redirect(request, "/mentors/me", flash="Those office hours are no longer offered.")


routes = [
    Route("/members/{handle:str}", card),
    Route("/account/card", card_settings, methods=["GET", "POST"]),
    Route("/mentors", directory),
    Route("/mentors/me", my_entry, methods=["GET", "POST"]),
    Route("/mentors/me/hours", publish_hours, methods=["POST"]),
    Route("/mentors/me/hours/{hours_id:dbid}/remove", remove_hours, methods=["POST"]),
]
