"""Pure ASGI middleware: access log, security headers, body limit and CSRF, and the session viewer."""

from __future__ import annotations

import functools
import logging
import os
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

import asyncpg
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import DBAPIError
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from community.platform.accounts import actions as accounts
from community.platform.accounts import restrictions, scopes
from community.platform.anonymity import Anonymity
from community.platform.numbers import parse_int
from community.platform.viewer import Viewer
from community.platform.web.templates import CURRENT_CSRF
from community.platform.web.viewer_cache import ViewerCache
from community.settings import Settings

access_log = logging.getLogger("community.access")
log = logging.getLogger(__name__)

SESSION_COOKIE = "session"
CSRF_COOKIE = "csrf"
# Under HTTPS the session and CSRF cookies are named with this prefix: browsers then accept them only when
# Secure, for Path=/ and with no Domain, so a sibling subdomain or a plain-HTTP page cannot set or shadow them.
HOST_PREFIX = "__Host-"
FLASH_COOKIE = "flash"
STAMP_COOKIE = "stamp"  # changes with each of the member's own writes; see web.viewer_cache
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# One-click unsubscribe (RFC 8058): the mail provider POSTs without our cookie or Origin. The signed token in
# the path is the whole authority, and all it can do is turn one kind of email off.
TOKEN_AUTHORIZED_PREFIXES = ("/unsubscribe/",)

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def cookies_of(scope: Scope) -> dict[str, str]:
    """A small, forgiving Cookie header parser (http.cookies is slow and strict about odd values)."""
    if "_cookies" in scope:
        return scope["_cookies"]
    cookies: dict[str, str] = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            for chunk in value.decode("latin-1").split(";"):
                key, sep, val = chunk.partition("=")
                key = key.strip()
                if sep and key and key not in cookies:
                    cookies[key] = val.strip().strip('"')
    scope["_cookies"] = cookies
    return cookies


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def cookie_name(base: str, settings: Settings) -> str:
    """The session's or CSRF cookie's name: `__Host-session` under HTTPS (BASE_URL https://), else `session`."""
    return HOST_PREFIX + base if settings.https else base


def cookie_header(name: str, value: str, settings: Settings, *, max_age: int | None = None,
                  http_only: bool = True) -> str:
    parts = [f"{name}={value}", "Path=/", "SameSite=Lax"]
    if http_only:
        parts.append("HttpOnly")
    if settings.https:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def request_origin(scope: Scope) -> str:
    scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
    host = header(scope, b"host") or ""
    return f"{scheme}://{host}"


def origin_allowed(scope: Scope, settings: Settings) -> bool:
    """Same-origin only: the Origin (or Referer) must be our BASE_URL or the host the request came to."""
    origin = header(scope, b"origin")
    if origin is None:
        referer = header(scope, b"referer")
        if referer is None:
            return header(scope, b"sec-fetch-site") in (None, "same-origin", "none")
        scheme, _, rest = referer.partition("://")
        origin = f"{scheme}://{rest.split('/', 1)[0]}"
    if origin == "null":
        return False
    return origin in (settings.origin, request_origin(scope))


async def send_simple(send: Send, status: int, text: str, extra: list[tuple[bytes, bytes]] | None = None,
                      prefix: str = "http") -> None:
    body = text.encode()
    await send({"type": f"{prefix}.response.start", "status": status,
                "headers": [(b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())] + (extra or [])})
    await send({"type": f"{prefix}.response.body", "body": body})


# A database that is away, as the session lookup meets it: refused or dropped connections, timeouts, and a
# connection left in a broken state by a terminated backend (asyncpg's InternalClientError).
DATABASE_DOWN: tuple[type[BaseException], ...] = (OSError, TimeoutError, asyncpg.PostgresError,
                                                  asyncpg.InterfaceError, asyncpg.InternalClientError, DBAPIError)
RETRY_AFTER_SECONDS = 5


async def send_unavailable(scope: Scope, send: Send, exc: BaseException) -> None:
    """503 with Retry-After, never 500, when the session cannot be looked up; a socket's handshake gets the same
    answer (through the denial-response extension where the server has it, else a 1013 close)."""
    log.error("database unavailable for %s %s (%s) request_id=%s", scope["type"], scope.get("path", ""),
              type(exc).__name__, scope.get("state", {}).get("request_id", ""))
    text = "<!doctype html><title>Unavailable</title><p>The site cannot reach its database just now. " \
           "Please try again in a few seconds.</p>"
    extra = [(b"retry-after", str(RETRY_AFTER_SECONDS).encode()), (b"cache-control", b"no-store")]
    if scope["type"] == "http":
        await send_simple(send, 503, text, extra)
    elif "websocket.http.response" in scope.get("extensions", {}):
        await send_simple(send, 503, text, extra, prefix="websocket.http")
    else:
        await send({"type": "websocket.close", "code": 1013, "reason": "database unavailable: try again"})


class AccessLog:
    """Structured JSON access log with a request id and latency; no personal data (no IP, no query)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        supplied = header(scope, b"x-request-id")
        request_id = "".join(ch for ch in supplied if ch.isalnum() or ch in "-_")[:64] if supplied else ""
        request_id = request_id or os.urandom(8).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 0}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            access_log.info({
                "event": "access",
                "request_id": request_id,
                "type": scope["type"],
                "method": scope.get("method", "WS"),
                "route": getattr(route, "path", None) or "unmatched",
                "status": status["code"],
                "ms": round((time.perf_counter() - started) * 1000, 2),
            })


class SecurityHeaders:
    """Adds the security headers to every response, unless the endpoint set its own."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        headers = [
            (b"content-security-policy", CSP.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
            (b"x-frame-options", b"DENY"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if settings.https:
            headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                existing = message.get("headers", ())
                present = {name.lower() for name, _ in existing}
                message["headers"] = [*existing, *(h for h in self.headers if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_wrapper)


class ServerErrors:
    """An unhandled exception becomes the 500 page here, inside the other middleware, so that page gets the same
    security headers, cache-control and access-log line as any other (Starlette's ServerErrorMiddleware sits
    outside all user middleware: its page had none of them, and the access log saw status 0). An error after the
    response started cannot be answered: it goes on up, to Starlette's handler and the server's log."""

    def __init__(self, app: ASGIApp, handler: Callable[[Request, Exception], Awaitable[Response]]) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            if started:
                raise
            response = await self.handler(Request(scope, receive), exc)
            await response(scope, receive, send)


def size_words(limit: int) -> str:
    """MAX_BODY_BYTES as a writer reads it: 1048576 -> "1 MB", 524288 -> "512 KB", 1500000 -> "1.4 MB"."""
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    return f"{max(1, limit // 1024)} KB"


class RequestGuard:
    """Refuses bodies over the limit (413) and cross-site or token-less state changes (403).

    The body is read here once, under the limit, and replayed to the app; forms are then parsed
    strictly by web.forms. The CSRF token is a random per-browser cookie that a cross-site page
    cannot read, echoed in a hidden field or an X-CSRF-Token header (double submit), and the
    Origin must be ours as well.
    """

    def __init__(self, app: ASGIApp, settings: Settings, error_page: Any) -> None:
        self.app = app
        self.settings = settings
        self.error_page = error_page  # (status, title, message) -> html
        self.csrf_cookie = cookie_name(CSRF_COOKIE, settings)
        self.too_large = f"This submission is larger than {size_words(settings.max_body_bytes)}. Please shorten it."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            # NUL cannot be stored in PostgreSQL text: no path holds one, and query strings lose it.
            if "\x00" in scope.get("path", ""):
                if scope["type"] == "http":
                    await self._refuse(send, 404, "Page not found", "We could not find that page.")
                return
            query = scope.get("query_string", b"")
            if b"%00" in query or b"\x00" in query:
                scope["query_string"] = query.replace(b"\x00", b"").replace(b"%00", b"")
        if scope["type"] != "http" or scope["method"] not in UNSAFE:
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_body_bytes
        declared = header(scope, b"content-length")
        if declared is not None and ((size := parse_int(declared)) is None or size > limit):
            await self._refuse(send, 413, "Too large", self.too_large)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(send, 413, "Too large", self.too_large)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        token_authorized = scope.get("path", "").startswith(TOKEN_AUTHORIZED_PREFIXES)
        if not token_authorized and (not origin_allowed(scope, self.settings) or not self._token_ok(scope, body)):
            await self._refuse(send, 403, "Request refused",
                               "This form came from another site, or its security token expired. "
                               "Please go back, reload the page and try again.")
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _token_ok(self, scope: Scope, body: bytes) -> bool:
        expected = cookies_of(scope).get(self.csrf_cookie)
        if not expected:
            return False
        supplied = header(scope, b"x-csrf-token")
        if supplied is None:
            content_type = (header(scope, b"content-type") or "").split(";")[0].strip().lower()
            if content_type in ("application/x-www-form-urlencoded", ""):
                for key, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
                    if key == "csrf_token":
                        supplied = value
                        break
            elif content_type == "multipart/form-data":
                supplied = _multipart_token(body)
        return supplied is not None and secrets.compare_digest(supplied.encode("latin-1", "replace"),
                                                                expected.encode("latin-1", "replace"))

    async def _refuse(self, send: Send, status: int, title: str, message: str) -> None:
        await send_simple(send, status, self.error_page(status, title, message))


def _multipart_token(body: bytes) -> str | None:
    marker = b'name="csrf_token"'
    at = body.find(marker)
    if at < 0:
        return None
    start = body.find(b"\r\n\r\n", at)
    end = body.find(b"\r\n", start + 4)
    if start < 0 or end < 0:
        return None
    return body[start + 4:end].decode("latin-1")


class ViewerMiddleware:
    """Loads the signed-in member (one query), issues the CSRF cookie and reads the flash message."""

    def __init__(self, app: ASGIApp, settings: Settings, db: Any, anonymity: Anonymity,
                 cache: ViewerCache | None = None) -> None:
        self.app = app
        self.settings = settings
        self.anonymity = anonymity
        self.db = db
        self.cache = cache
        self.flash_signer = URLSafeSerializer(settings.secret_key, salt="flash")
        self.session_cookie = cookie_name(SESSION_COOKIE, settings)
        self.csrf_cookie = cookie_name(CSRF_COOKIE, settings)
        # session token -> (member id, its keyring slots, its restriction slots), so that they are known before
        # the one query.
        self._member_of_token: OrderedDict[str, tuple[int, list[str], list[str]]] = OrderedDict()

    async def _load(self, token: str, stamp: str) -> Any:
        cache = self.cache
        if cache is not None:
            viewer = cache.get(token, stamp)
            if viewer is not None:
                return viewer
            generation = cache.generation
        known = self._member_of_token.get(token)
        async with self.db.raw() as connection:
            loaded = await accounts.load_viewer_and_tags(connection, token, *(known[1:] if known is not None else ()))
        if loaded is None:
            return None
        viewer, tags = loaded.viewer, loaded.tags
        if known is None:
            first = await self._first_load(viewer)
            if first is None:
                return None
            viewer, tags = first
            known = (viewer.id, scopes.viewer_slots(self.anonymity, viewer.id, len(tags)),
                     self.anonymity.restriction_slots(viewer.id))
            self._member_of_token[token] = known
            if len(self._member_of_token) > 20000:
                self._member_of_token.popitem(last=False)
        elif scopes.needs_more_slots(known[1], len(tags)):
            # The member's scopes reach into the spare batch: the next load looks a batch further.
            self._member_of_token[token] = (viewer.id, scopes.viewer_slots(self.anonymity, viewer.id, len(tags)),
                                            known[2])
        if cache is not None:
            cache.put(token, stamp, viewer, tags, generation)
        return viewer

    async def _first_load(self, viewer: Viewer) -> tuple[Viewer, tuple[str, ...]] | None:
        """What the one statement could not know before the member id: their scope tags' unread notifications
        and the restrictions on their anonymous writing."""
        async with self.db.read() as session:
            tags = await scopes.tags_of(session, self.anonymity, viewer.id)
            unread = viewer.unread + await accounts.count_tagged_unread(session, tags, viewer)
            held = await restrictions.in_force(session, self.anonymity, viewer.id)
        if held.suspended:
            return None
        silenced = max((t for t in (viewer.silenced_until, held.silenced_until) if t is not None), default=None)
        return replace(viewer, unread=unread, silenced_until=silenced), tuple(tags)

    async def _touch(self, viewer: Viewer | None) -> Viewer | None:
        """Writes the session's last_seen_at when it is accounts.SEEN_EVERY old: one write per session every few
        minutes, not one per request. The write's NOTIFY refreshes the cached snapshots (web.viewer_cache)."""
        if viewer is None or viewer.session_seen_at is None or \
                accounts.now() - viewer.session_seen_at < accounts.SEEN_EVERY:
            return viewer
        async with self.db.raw() as connection:
            await accounts.touch_session(connection, viewer)
        return viewer

    async def recheck(self, token: str, stamp: str, *, active: bool) -> Viewer | None:
        """A live-room socket's member as their session stands now, long after the handshake: None once the
        session is signed out, revoked, expired, idle past its limit (staff), or the member is suspended.
        `active`: the member did something on the socket, which counts against a staff session's idle limit
        as a page request does. Usually a viewer-cache hit: no database."""
        viewer = await self._load(token, stamp)
        if viewer is not None and active:
            viewer = await self._touch(viewer)
        return None if viewer is None or viewer.factor_pending else viewer

    def _read_flash(self, raw: str) -> Any:
        try:
            return self.flash_signer.loads(raw)
        except BadSignature:
            return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Long because the request's view of its member (viewer, CSRF token, flash, and a socket's later
        re-check) and the response's cookies that depend on it are one sequence sharing its locals."""
        if scope["type"] not in ("http", "websocket") or scope.get("path", "").startswith("/static/"):
            scope["user"] = None
            await self.app(scope, receive, send)
            return
        cookies = cookies_of(scope)
        viewer = None
        token = cookies.get(self.session_cookie)
        stamp = cookies.get(STAMP_COOKIE, "")
        if token and len(token) < 200:
            try:
                viewer = await self._touch(await self._load(token, stamp))
            except DATABASE_DOWN as exc:
                return await send_unavailable(scope, send, exc)
        # A half-session (second factor not yet checked) is not signed in; web.factor_guard sends it on.
        pending = viewer is not None and viewer.factor_pending
        scope["user"], scope["pending_viewer"] = (None, viewer) if pending else (viewer, None)
        scope["session_token"] = token if viewer else None
        if scope["type"] == "websocket":  # a live-room socket checks its session again later (rooms.web.sockets)
            scope["recheck_viewer"] = functools.partial(self.recheck, token or "", stamp)
        csrf, new_csrf = cookies.get(self.csrf_cookie), None
        if not csrf or len(csrf) > 100:
            csrf = new_csrf = secrets.token_urlsafe(24)
        scope["csrf_token"] = csrf
        CURRENT_CSRF.set(csrf)
        if flash_raw := cookies.get(FLASH_COOKIE):
            scope["flash"] = self._read_flash(flash_raw)
        stale_session = bool(token) and viewer is None

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if new_csrf:
                    headers.append("set-cookie", cookie_header(self.csrf_cookie, new_csrf, self.settings,
                                                               max_age=60 * 60 * 24 * 365))
                # A flash waits through redirects (/p/1 -> /t/1#p1) until a page shows it.
                if flash_raw and not scope.get("flash_set") and not 300 <= message["status"] < 400:
                    headers.append("set-cookie", cookie_header(FLASH_COOKIE, "", self.settings, max_age=0))
                if viewer is not None and self.cache is not None and (scope.get("method") in UNSAFE
                                                                      or scope.get("viewer_changed")):
                    # The member may have changed what their snapshot holds: their next page, on whichever
                    # process, loads it afresh (see web.viewer_cache).
                    self.cache.forget(token)
                    headers.append("set-cookie", cookie_header(STAMP_COOKIE, secrets.token_urlsafe(6), self.settings,
                                                               max_age=self.settings.session_days * 86400))
                if stale_session and not scope.get("session_set"):
                    headers.append("set-cookie", cookie_header(self.session_cookie, "", self.settings, max_age=0))
                headers.setdefault("cache-control", "no-store" if viewer else "no-cache")
                headers.append("vary", "Cookie")
            await send(message)

        await self.app(scope, receive, send_wrapper)
