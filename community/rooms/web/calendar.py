"""Sessions to follow (/rooms/calendar): follow and unfollow, and the member's private calendar feed (issue,
revoke); the feed itself (/calendar/TOKEN.ics) needs no session, only its unguessable token."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.platform.errors import ActionError, NotFound
from community.platform.web.common import db_of, redirect, settings_of, viewer_of
from community.platform.web.forms import read_form
from community.platform.web.templates import render
from community.rooms import calendar


async def page(request: Request, new_feed: str | None = None) -> Response:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        sessions = await calendar.upcoming(session, viewer)
        has_feed = await calendar.has_feed(session, viewer)
    return render(request, "rooms/calendar.html", {"sessions": sessions, "has_feed": has_feed,
                                                   "new_feed": new_feed})


async def follow(request: Request) -> Response:
    viewer = viewer_of(request)
    form = await read_form(request)
    on = form.get("on") == "1"
    try:
        form.check()
        async with db_of(request).transaction() as session:
            room = await calendar.follow(session, viewer, request.path_params["room_id"], on=on)
            title = room.title
    except ActionError as exc:
        return redirect(request, "/rooms/calendar", flash=exc.message or "That could not be done.")
    message = f"You follow “{title}”: a reminder comes by mail before it starts." if on else \
        f"You no longer follow “{title}”."
    return redirect(request, "/rooms/calendar", flash=message)


async def follow_host(request: Request) -> Response:
    viewer = viewer_of(request)
    form = await read_form(request)
    on = form.get("on") == "1"
    try:
        form.check()
        async with db_of(request).transaction() as session:
            name = await calendar.follow_host(session, viewer, request.path_params["host_id"], on=on)
    except ActionError as exc:
        return redirect(request, "/rooms/calendar", flash=exc.message or "That could not be done.")
    return redirect(request, "/rooms/calendar", flash=f"You will hear of each new session {name} schedules." if on
                    else f"You no longer follow {name}'s sessions.")


async def issue_feed(request: Request) -> Response:
    viewer = viewer_of(request)
    form = await read_form(request)
    form.check()
    async with db_of(request).transaction() as session:
        token = await calendar.issue_feed(session, viewer)
    # Shown once, on this response: only the token's hash is stored.
    base = settings_of(request).base_url
    return await page(request, new_feed=f"{base}/calendar/{token}.ics")


async def revoke_feed(request: Request) -> Response:
    viewer = viewer_of(request)
    form = await read_form(request)
    form.check()
    async with db_of(request).transaction() as session:
        await calendar.revoke_feed(session, viewer)
    return redirect(request, "/rooms/calendar", flash="Your calendar address is revoked; it no longer works.")


async def feed(request: Request) -> Response:
    token = request.path_params["token"]
    async with db_of(request).transaction() as session:
        rooms = await calendar.feed_rooms(session, token)
    if rooms is None:
        raise NotFound("This calendar address does not exist, or it was revoked.")
    outbox = request.app.state.outbox
    body = calendar.ics(rooms, settings_of(request), outbox.domain, name="Compassionate Practice sessions")
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300", "X-Robots-Tag": "noindex"})


routes = [
    Route("/rooms/calendar", page),
    Route("/rooms/calendar/feed", issue_feed, methods=["POST"]),
    Route("/rooms/calendar/feed/revoke", revoke_feed, methods=["POST"]),
    Route("/rooms/{room_id:dbid}/follow", follow, methods=["POST"]),
    Route("/rooms/hosts/{host_id:dbid}/follow", follow_host, methods=["POST"]),
    Route("/calendar/{token}.ics", feed),
]
