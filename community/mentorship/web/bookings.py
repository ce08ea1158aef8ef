"""A mentor's page (card, open slots, booking, asking for a conversation) and bookings: the list, one booking,
cancelling, moving, its .ics. Built with the private-room seam create_app's pillar list hands in (`Bookings`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.mentorship import office_hours, profiles
from community.platform.errors import ActionError
from community.platform.meetings import PrivateRooms
from community.platform.numbers import parse_int
from community.platform.web.common import anonymity_of, db_of, form_error, redirect, settings_of, viewer_of
from community.platform.web.forms import read_form
from community.platform.web.templates import render


async def _mentor_context(request: Request, mentor_id: int) -> dict[str, Any]:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        mentor = await profiles.access_mentor(session, viewer, mentor_id)
        slots = await office_hours.free_slots(session, mentor_id)
    return {"mentor": mentor, "slots": slots[:60], "may_be_anonymous": viewer.role == "resident"}


class Bookings:
    """The pages that make, move and cancel bookings: they need the private rooms (platform.meetings)."""

    def __init__(self, rooms: PrivateRooms) -> None:
        self.rooms = rooms

    async def mentor_page(self, request: Request) -> Response:
        return render(request, "mentorship/mentor.html",
                      await _mentor_context(request, request.path_params["mentor_id"]))

    async def book(self, request: Request) -> Response:
        viewer = viewer_of(request)
        mentor_id = request.path_params["mentor_id"]
        form = await read_form(request)
        hours_id, _, starts = form.get("slot").partition("|")
        try:
            form.check()
            async with db_of(request).transaction() as session:
                booking = await office_hours.book(
                    session, anonymity_of(request), self.rooms, viewer, mentor_id=mentor_id,
                    hours_id=_id(hours_id), starts=starts, anonymous=form.get("as") == "pseudonym")
        except ActionError as exc:
            return form_error(request, "mentorship/mentor.html", exc, form.as_dict(),
                              await _mentor_context(request, mentor_id))
        return redirect(request, f"/mentorship/bookings/{booking.id}", flash="Your office hour is booked.")

    async def cancel(self, request: Request) -> Response:
        viewer = viewer_of(request)
        form = await read_form(request)
        form.check()
        async with db_of(request).transaction() as session:
            booking = await office_hours.cancel(session, anonymity_of(request), self.rooms, viewer,
                                                request.path_params["booking_id"])
        return redirect(request, f"/mentorship/bookings/{booking.id}",
                        flash="The office hour is cancelled; the other person is told.")

    async def move(self, request: Request) -> Response:
        viewer = viewer_of(request)
        booking_id = request.path_params["booking_id"]
        form = await read_form(request)
        hours_id, _, starts = form.get("slot").partition("|")
        try:
            form.check()
            async with db_of(request).transaction() as session:
                await office_hours.reschedule(session, anonymity_of(request), self.rooms, viewer, booking_id,
                                              hours_id=_id(hours_id), starts=starts)
        except ActionError as exc:
            if exc.status_code in (403, 404):
                raise
            return form_error(request, "mentorship/booking.html", exc, form.as_dict(),
                              await _booking_context(request, booking_id))
        return redirect(request, f"/mentorship/bookings/{booking_id}", flash="The office hour is moved.")

    @property
    def routes(self) -> list[Route]:
        return [
            Route("/mentors/{mentor_id:dbid}", self.mentor_page),
            Route("/mentors/{mentor_id:dbid}/book", self.book, methods=["POST"]),
            Route("/mentorship/bookings", bookings_page),
            Route("/mentorship/bookings/{booking_id:dbid}", booking_page),
            Route("/mentorship/bookings/{booking_id:dbid}/calendar.ics", booking_ics),
            Route("/mentorship/bookings/{booking_id:dbid}/cancel", self.cancel, methods=["POST"]),
            Route("/mentorship/bookings/{booking_id:dbid}/move", self.move, methods=["POST"]),
        ]


def _id(value: str) -> int | None:
    """The office hours' id half of a slot field ("<hours id>|<start, ISO 8601>")."""
    return parse_int(value, max_digits=17)


async def bookings_page(request: Request) -> Response:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        listed = await office_hours.my_bookings(session, anonymity_of(request), viewer)
    return render(request, "mentorship/bookings.html", {"bookings": listed, "now": office_hours.now()})


async def _booking_context(request: Request, booking_id: int) -> dict[str, Any]:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        booking, side = await office_hours.access_booking(session, anonymity_of(request), viewer, booking_id)
        mentor = await profiles.access_mentor_name(session, booking.mentor_id)
        slots = await office_hours.free_slots(session, booking.mentor_id) if side == "booker" else []
    at = office_hours.now()
    return {"booking": booking, "side": side, "mentor_name": mentor, "slots": slots[:60],
            "room_ready": booking.state == "booked" and booking.room_id is not None
            and booking.starts_at - office_hours.OPEN_EARLY <= at < booking.ends_at}


async def booking_page(request: Request) -> Response:
    return render(request, "mentorship/booking.html",
                  await _booking_context(request, request.path_params["booking_id"]))


async def booking_ics(request: Request) -> Response:
    context = await _booking_context(request, request.path_params["booking_id"])
    settings = settings_of(request)
    body = office_hours.ics(context["booking"], context["mentor_name"], settings.base_url,
                            request.app.state.outbox.domain)
    return Response(body, media_type="text/calendar", headers={
        "Content-Disposition": 'attachment; filename="office-hour.ics"', "Cache-Control": "private, no-store"})
