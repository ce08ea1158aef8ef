"""Home, guidelines, resources, and the health endpoints."""

from __future__ import annotations

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from community.platform import home as home_actions
from community.platform.migrate import current_revisions
from community.platform.web.common import db_of, maybe_viewer
from community.platform.web.templates import render


async def home(request: Request) -> Response:
    viewer = maybe_viewer(request)
    if viewer is None:
        return render(request, "pages/home.html")
    async with db_of(request).raw() as connection:
        board = await home_actions.dashboard(connection, viewer, request.app.state.home_sections)
    return render(request, "pages/home.html", {"board": board})


async def guidelines(request: Request) -> Response:
    return render(request, "pages/guidelines.html")


async def resources(request: Request) -> Response:
    return render(request, "pages/resources.html")


async def healthz(request: Request) -> Response:
    """The process is up; says nothing about its dependencies."""
    return PlainTextResponse("ok")


async def readyz(request: Request) -> Response:
    """Ready to serve: the database answers and its schema is at the newest migration."""
    db = db_of(request)
    try:
        async with db.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            current = await current_revisions(connection)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse({"ready": False, "database": "unreachable", "error": type(exc).__name__},
                            status_code=503)
    heads = request.app.state.migration_heads
    if current != heads:
        return JSONResponse({"ready": False, "database": "ok", "migrations": "pending",
                             "current": sorted(current), "expected": sorted(heads)}, status_code=503)
    return JSONResponse({"ready": True, "database": "ok", "migrations": "current"})


routes = [
    Route("/", home),
    Route("/guidelines", guidelines),
    Route("/resources", resources),
    Route("/healthz", healthz),
    Route("/readyz", readyz),
]
