"""The composer's @ autocomplete (/members/suggest?q=, JSON, used by static/js/mentions.js). A mention links to
the member's card, /members/<handle>, which the mentorship pillar serves with each field's visibility."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from community.platform.accounts import members
from community.platform.errors import Invalid
from community.platform.rate_limits import RecentEdits
from community.platform.web.common import db_of, settings_of, viewer_of

SUGGEST_SURFACE = "member_suggest"


def lookups_of(request: Request) -> RecentEdits:
    """The per-process counter of autocomplete lookups, built by create_app."""
    counter: RecentEdits = request.app.state.suggest_lookups
    return counter


async def suggest(request: Request) -> Response:
    """Signed in only; a bounded list of {handle, name, role}; 400 for a bad query, 429 past the limit."""
    viewer = viewer_of(request)
    try:
        query = members.check_query(request.query_params.get("q", ""))
    except Invalid as exc:
        return JSONResponse({"error": next(iter(exc.fields.values()))}, status_code=400)
    lookups = lookups_of(request)
    lookups.check(viewer, SUGGEST_SURFACE, limit=settings_of(request).member_suggest_per_minute,
                  what="member lookups")
    lookups.note(viewer, SUGGEST_SURFACE)
    async with db_of(request).transaction() as session:
        found = await members.suggest(session, viewer.id, query)
    return JSONResponse({"members": found}, headers={"cache-control": "no-store"})


routes = [
    Route("/members/suggest", suggest),
]
