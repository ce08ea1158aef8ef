"""Live safety screening for composers (JSON), used by static/js/composer.js while a member writes.

Nothing is stored or reported here: the text is screened in memory and the findings go back to the writer only.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from community.platform.safety.screening import screen_async
from community.platform.web.common import viewer_of
from community.platform.web.forms import read_form

MAX_SCREEN_CHARS = 20_000


async def check(request: Request) -> Response:
    viewer_of(request)
    form = await read_form(request)
    text = form.get("text")[:MAX_SCREEN_CHARS]
    private = form.get("private") == "1"
    result = await screen_async(text, check_identifiers=not private)
    return JSONResponse(result.as_json(), headers={"cache-control": "no-store"})


routes = [Route("/safety/check", check, methods=["POST"])]
