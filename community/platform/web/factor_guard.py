"""The one place that keeps half-sessions and staff without a second factor away from everything else.

- A half-session (password given, second factor not yet: `Viewer.factor_pending`) is not signed in: the viewer
  middleware puts it in `scope["pending_viewer"]`, never `scope["user"]`, and this guard sends it to
  /signin/factor from every page but signing in and out.
- A moderator or admin whose session has not checked a second factor (`Viewer.factor_at` is None) reaches no
  page and no action, staff or not, until they do: to /account/security to set one up (first sign-in, a
  fresh `community create-admin`, a member just promoted), or to /signin/factor when they have one.
- Their sockets are closed (1008) before the handshake.
"""

from __future__ import annotations

from urllib.parse import quote

from itsdangerous import URLSafeSerializer
from starlette.types import ASGIApp, Receive, Scope, Send

from community.platform.web.middleware import FLASH_COOKIE, cookie_header
from community.settings import Settings

# Paths a half-session may reach; staff without a checked factor also reach setting one up.
PENDING_OPEN = ("/signin", "/signout", "/healthz", "/static/", "/forgot", "/link/", "/guidelines")
ENROL_OPEN = (*PENDING_OPEN, "/account/security")
CHECK_MESSAGE = "Please confirm it is you with your second factor."


def _open(path: str, prefixes: tuple[str, ...]) -> bool:
    return any(path == p or path.startswith(p if p.endswith("/") else p + "/") for p in prefixes)


class SecondFactorGuard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.flash_signer = URLSafeSerializer(settings.secret_key, salt="flash")

    def target(self, scope: Scope) -> tuple[str, str] | None:
        """Where this request must go instead, with why; None when it may go on."""
        path = scope.get("path", "")
        if scope.get("pending_viewer") is not None:
            return None if _open(path, PENDING_OPEN) else ("/signin/factor", CHECK_MESSAGE)
        viewer = scope.get("user")
        if viewer is None or not viewer.is_moderator or viewer.factor_at is not None or _open(path, ENROL_OPEN):
            return None
        # The set-up page says why itself; the check page is told by a flash.
        return ("/signin/factor", CHECK_MESSAGE) if viewer.has_factor else ("/account/security", "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        target = self.target(scope)
        if target is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "second factor required"})
            return
        url, message = target
        if scope.get("method") == "GET":
            query = scope.get("query_string", b"").decode("latin-1")
            back = scope.get("path", "/") + (f"?{query}" if query else "")
            url += "?next=" + quote(back, safe="/")
        headers = [(b"location", url.encode("latin-1")), (b"content-length", b"0"), (b"cache-control", b"no-store")]
        if message:
            flash = cookie_header(FLASH_COOKIE, self.flash_signer.dumps(message), self.settings, max_age=60)
            headers.append((b"set-cookie", flash.encode("latin-1")))
        await send({"type": "http.response.start", "status": 303, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
