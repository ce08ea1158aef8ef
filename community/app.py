"""The application factory: create_app(settings) -> Starlette, with routes, middleware and lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from html import escape

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from community.discussions import pillar as discussions
from community.mentorship import pillar as mentorship
from community.platform import metrics as metrics_web
from community.platform.accounts import admin_web, factors_web, members_web, own_data_web, sessions_web
from community.platform.accounts import web as accounts_web
from community.platform.accounts.factors import Factors
from community.platform.accounts.security import Passwords
from community.platform.anonymity import Anonymity
from community.platform.db import Database
from community.platform.drafts import web as drafts_web
from community.platform.drafts.store import Drafts
from community.platform.errors import ActionError, RateLimited
from community.platform.logs import configure_logging
from community.platform.mail import digests
from community.platform.mail import web as mail_web
from community.platform.mail.outbox import Outbox
from community.platform.mail.sender import Sender
from community.platform.metrics import Metrics, MetricsMiddleware
from community.platform.migrate import head_revisions
from community.platform.notify import web as notify_web
from community.platform.pillar import Pillar
from community.platform.rate_limits import RecentEdits
from community.platform.review import checkins_web
from community.platform.review import web as review_web
from community.platform.review.pulse import Pulse, watch
from community.platform.review.targets import Review, Targets
from community.platform.safety import web as safety_web
from community.platform.web import fragments, pages
from community.platform.web.common import SignInRequired, redirect, sign_in_url
from community.platform.web.factor_guard import SecondFactorGuard
from community.platform.web.middleware import (
    DATABASE_DOWN,
    RETRY_AFTER_SECONDS,
    AccessLog,
    RequestGuard,
    SecurityHeaders,
    ServerErrors,
    ViewerMiddleware,
)
from community.platform.web.routing import IndexedRouter
from community.platform.web.templates import STATIC_DIR, Templates
from community.platform.web.viewer_cache import ViewerCache
from community.reflections import pillar as reflections
from community.rooms import pillar as rooms
from community.settings import Settings

log = logging.getLogger(__name__)

# The four pillars, by name: their routes, lifespans, moderation adapters, seeders, housekeeping jobs, own data
# and home-page sections are wired here and nowhere else. A pillar that fails to import stops start-up.
# Mentorship holds office hours in the rooms pillar's private rooms, through the platform's seam
# (platform.meetings.PrivateRooms), handed over here: neither pillar imports the other.
PILLARS: tuple[Pillar, ...] = (discussions.PILLAR, reflections.PILLAR, rooms.PILLAR,
                               mentorship.build(rooms.PRIVATE_ROOMS))

# The platform's own pages; its catch-all pages (home, guidelines, health) go last.
PLATFORM_ROUTES: tuple[BaseRoute, ...] = (*accounts_web.routes, *factors_web.routes, *sessions_web.routes,
                                          *admin_web.routes, *review_web.routes, *notify_web.routes,
                                          *safety_web.routes, *own_data_web.routes, *checkins_web.routes,
                                          *mail_web.routes, *members_web.routes, *metrics_web.routes,
                                          *drafts_web.routes)


def collect_routes(pillars: Sequence[Pillar]) -> list[BaseRoute]:
    return [*PLATFORM_ROUTES, *(route for pillar in pillars for route in pillar.routes), *pages.routes,
            Mount("/static", app=StaticFiles(directory=str(STATIC_DIR)), name="static")]


def error_page_html(templates: Templates) -> Callable[[int, str, str], str]:
    def page(status: int, title: str, message: str) -> str:
        try:
            return templates.env.get_template("errors/plain.html").render(status=status, title=title,
                                                                          message=message)
        except Exception:  # the error page must never fail
            return f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1><p>{escape(message)}</p>"
    return page


TITLES = {400: "Something in the request was not right", 403: "Not allowed", 404: "Page not found",
          405: "Not allowed", 409: "Conflict", 413: "Too large", 429: "Please slow down",
          500: "Something went wrong on our side", 503: "Unavailable for a moment"}
MESSAGES = {
    403: "You do not have access to this page. If you think you should, ask a moderator.",
    404: "We could not find that page. It may have been moved or removed.",
    405: "That action is not available here.",
    500: "We are sorry: this is our fault, not yours. Please try again in a moment. Your draft is kept in your browser.",
}


def _error_response(request: Request, status: int, message: str = "",
                    headers: dict[str, str] | None = None) -> Response:
    templates: Templates = request.app.state.templates
    return templates.render(request, "errors/error.html",
                            {"status": status, "title": TITLES.get(status, "Error"),
                             "message": message or MESSAGES.get(status, "")},
                            status_code=status, headers=headers)


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.status_code not in (404, 405, 500) else ""
    return _error_response(request, exc.status_code, detail if isinstance(detail, str) else "",
                           headers=exc.headers)


async def on_action_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ActionError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return _error_response(request, exc.status_code, exc.message, headers)


async def on_sign_in_required(request: Request, exc: Exception) -> Response:
    return redirect(request, sign_in_url(request), flash="Please sign in to continue.")


async def on_server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return _error_response(request, 500)


async def on_database_unavailable(request: Request, exc: Exception) -> Response:
    """The database is away (refused, dropped, timed out): 503 with Retry-After, logged, never a 500."""
    log.error("database unavailable (%s) request_id=%s", type(exc).__name__,
              request.scope.get("state", {}).get("request_id", ""))
    return _error_response(request, 503, "The site cannot reach its database just now. Please try again in a "
                           "few seconds.", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


EXCEPTION_HANDLERS = {HTTPException: on_http_exception, ActionError: on_action_error,
                      SignInRequired: on_sign_in_required, Exception: on_server_error,
                      **{kind: on_database_unavailable for kind in DATABASE_DOWN}}


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def cache_stats(app: Starlette, viewer_cache: ViewerCache | None) -> dict[str, dict[str, int]]:
    """The process's caches, hits / misses / entries since it started (logged at shutdown; bench/day_bench.py
    reports the hit rates). The bounds are in each cache's module and in README's Performance section."""
    stats = fragments.stats()
    post_pages = getattr(app.state, "post_pages", None)
    if post_pages is not None:
        stats["post_pages"] = post_pages.stats()
    if viewer_cache is not None:
        stats["viewer"] = viewer_cache.stats()
    return stats


def _lifespan(pillars: Sequence[Pillar], database: Database, viewer_cache: ViewerCache | None, *,
              owns_database: bool, settings: Settings, pulse: Pulse, outbox: Outbox, metrics: Metrics,
              sender: Sender | None = None) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    lifespans = [pillar.lifespan for pillar in pillars if pillar.lifespan is not None]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            database.observe_pool_waits(metrics.pool_wait.observe)
            stack.callback(metrics.process_exit)
            if viewer_cache is not None:
                await viewer_cache.start()
                stack.push_async_callback(viewer_cache.stop)
            if owns_database and settings.database_url:  # escalation runs without a request arriving
                task = asyncio.create_task(watch(database, settings, pulse, outbox), name="urgent-items")
                stack.push_async_callback(_stop, task)
            if sender is not None:
                stack.push_async_callback(_stop, asyncio.create_task(sender.run(), name="mail-sender"))
            for pillar_lifespan in lifespans:
                await stack.enter_async_context(pillar_lifespan(app))
            # Everything loaded so far (modules, the ORM registry, compiled templates) lives as long as the
            # process: moved out of the collector's reach, so full collections under load only walk what
            # requests allocate (shorter pauses, a lower p99).
            gc.collect()
            gc.freeze()
            yield
            log.info({"event": "cache_stats", "caches": cache_stats(app, viewer_cache)})
        if owns_database:
            await database.dispose()

    return lifespan


def _middleware(settings: Settings, templates: Templates, database: Database, anonymity: Anonymity,
                viewer_cache: ViewerCache | None, metrics: Metrics) -> list[Middleware]:
    """Outermost first."""
    return [
        Middleware(AccessLog),
        Middleware(MetricsMiddleware, metrics=metrics),
        Middleware(SecurityHeaders, settings=settings),
        Middleware(RequestGuard, settings=settings, error_page=error_page_html(templates)),
        Middleware(ViewerMiddleware, settings=settings, db=database, anonymity=anonymity, cache=viewer_cache),
        # Half-sessions and staff without a checked second factor reach only the second-factor pages.
        Middleware(SecondFactorGuard, settings=settings),
        # Innermost: a 500 page passes through all of the above (headers, no-store, the access log). The
        # Exception handler below stays as the last resort, for an error in the middleware itself.
        Middleware(ServerErrors, handler=on_server_error),
    ]


def _pillar_parts(app: Starlette, pillars: Sequence[Pillar], anonymity: Anonymity) -> None:
    """What the pillars bring beyond routes: own data, home sections, search sections, drafts."""
    app.state.own_data = tuple(pillar.own_data for pillar in pillars if pillar.own_data is not None)
    app.state.home_sections = tuple(pillar.home for pillar in pillars if pillar.home is not None)
    app.state.search_sections = tuple((pillar.search_heading, pillar.search) for pillar in pillars
                                      if pillar.search is not None)
    app.state.drafts = Drafts(anonymity, [kind for pillar in pillars for kind in pillar.draft_kinds],
                              [(pillar.name, pillar.own_drafts) for pillar in pillars if pillar.own_drafts])


def create_app(settings: Settings, *, db: Database | None = None,
               pillars: Sequence[Pillar] = PILLARS) -> Starlette:
    """Builds the app; `db` may be injected (tests bind it to a rolled-back transaction)."""
    database = db or Database(settings.database_url or "")
    anonymity = Anonymity(settings.anon_key)
    pulse = Pulse()
    templates = Templates(settings, anonymity, pulse)
    targets = Targets(adapter for pillar in pillars if pillar.adapters for adapter in pillar.adapters(anonymity))
    routes = collect_routes(pillars)
    # Not with an injected database: tests bind it to a transaction that never commits, so never notifies.
    viewer_cache = (ViewerCache(settings.database_url)
                    if settings.viewer_cache and db is None and settings.database_url else None)
    # The mail sender in every worker process (one sends, by advisory lock); not with an injected database,
    # whose transactions never commit.
    outbox = Outbox(settings)
    mail_jobs = [job for pillar in pillars for job in pillar.mail_jobs]
    sender = (Sender(settings, settings.database_url,
                     periodic=digests.job(database, outbox, anonymity, settings, mail_jobs))
              if db is None and settings.database_url else None)
    metrics = Metrics(settings)
    lifespan = _lifespan(pillars, database, viewer_cache, owns_database=db is None, settings=settings, pulse=pulse,
                         outbox=outbox, metrics=metrics, sender=sender)
    middleware = _middleware(settings, templates, database, anonymity, viewer_cache, metrics)
    app = Starlette(debug=False, routes=routes, middleware=middleware, exception_handlers=EXCEPTION_HANDLERS,
                    lifespan=lifespan)
    # Same routes, same order, but only those that can match the first path segment are tried.
    app.router = IndexedRouter(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.db = database
    app.state.templates = templates
    app.state.passwords = Passwords(settings.argon2_time_cost, settings.argon2_memory_kib)
    app.state.factors = Factors(settings, outbox)
    app.state.anonymity = anonymity
    app.state.pulse = pulse
    app.state.outbox = outbox
    app.state.metrics = metrics
    app.state.mail_sender = sender
    app.state.review = Review(settings=settings, targets=targets, anonymity=anonymity)
    app.state.suggest_lookups = RecentEdits()  # the @ autocomplete's rate limit, per process
    _pillar_parts(app, pillars, anonymity)
    app.state.migration_heads = head_revisions(settings.database_url or "")
    return app


def factory() -> Starlette:
    """For `uvicorn --factory community.app:factory` and multi-worker serving: reads the environment."""
    settings = Settings.from_env()
    configure_logging(settings)
    return create_app(settings)
