"""Helpers shared by endpoints: redirects with flash messages, the signed-in member, error pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from itsdangerous import URLSafeSerializer
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from community.platform.anonymity import Anonymity
from community.platform.db import Database
from community.platform.drafts.store import Drafts
from community.platform.errors import ActionError, Forbidden, Invalid, RateLimited
from community.platform.review.targets import Review, Targets
from community.platform.viewer import Viewer
from community.platform.web.middleware import FLASH_COOKIE, SESSION_COOKIE, cookie_header, cookie_name
from community.platform.web.templates import render
from community.settings import Settings


class SignInRequired(Exception):
    """Raised by `viewer_of` when a page needs a member; the app redirects to sign-in."""


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def db_of(request: Request) -> Database:
    return request.app.state.db


def anonymity_of(request: Request) -> Anonymity:
    """The one anonymity service (tags, pseudonyms, seals), built once by create_app."""
    return request.app.state.anonymity


def drafts_of(request: Request) -> Drafts:
    """The drafts service (every pillar's composer slots), built once by create_app."""
    return request.app.state.drafts


def targets_of(request: Request) -> Targets:
    """The moderation adapters of every pillar, built once by create_app."""
    return request.app.state.review.targets


def review_of(request: Request) -> Review:
    """What moderation decisions need: settings, every pillar's adapters, the anonymity service."""
    return request.app.state.review


def viewer_of(request: Request) -> Viewer:
    viewer = request.scope.get("user")
    if viewer is None:
        raise SignInRequired()
    return viewer


def maybe_viewer(request: Request) -> Viewer | None:
    return request.scope.get("user")


def staff_of(request: Request) -> Viewer:
    viewer = viewer_of(request)
    if not viewer.is_moderator:
        raise Forbidden("This page is for moderators and admins.")
    return viewer


def admin_of(request: Request) -> Viewer:
    viewer = viewer_of(request)
    if not viewer.is_admin:
        raise Forbidden("This page is for admins.")
    return viewer


def client_of(request: Request) -> str:
    """The client address (uvicorn's --proxy-headers puts the real one here behind nginx)."""
    return request.client.host if request.client else "unknown"


def safe_next(value: str | None, default: str = "/") -> str:
    """Only local paths: an open redirect would make our sign-in page a phishing tool."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def redirect(request: Request, url: str, *, flash: str | None = None, status_code: int = 303) -> Response:
    response = RedirectResponse(url, status_code=status_code)
    if flash:
        signer = URLSafeSerializer(settings_of(request).secret_key, salt="flash")
        response.headers.append("set-cookie", cookie_header(FLASH_COOKIE, signer.dumps(flash), settings_of(request),
                                                            max_age=60))
        request.scope["flash_set"] = True
    return response


def set_session(request: Request, response: Response, token: str, max_age: int) -> None:
    """The session cookie, lasting as long as the session (`max_age` seconds: accounts.start_session says)."""
    settings = settings_of(request)
    response.headers.append("set-cookie", cookie_header(cookie_name(SESSION_COOKIE, settings), token, settings,
                                                        max_age=max_age))
    request.scope["session_set"] = True


def clear_session(request: Request, response: Response) -> None:
    settings = settings_of(request)
    response.headers.append("set-cookie", cookie_header(cookie_name(SESSION_COOKIE, settings), "", settings,
                                                        max_age=0))
    request.scope["session_set"] = True


def sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/signin?next=" + quote(target, safe="/")


def form_error(request: Request, template: str, exc: ActionError, form: dict[str, str],
               context: dict[str, Any] | None = None) -> Response:
    """Re-renders a form with its draft and field messages; 400, or the error's own status (403, 429...)."""
    fields = exc.fields if isinstance(exc, Invalid) else {}
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    # Passwords are never echoed back into a page.
    kept = {k: v for k, v in form.items() if "password" not in k and k not in ("current", "new", "confirm",
                                                                               "csrf_token")}
    ctx = {"form": kept, "errors": fields, "error": exc.message or "Please correct the highlighted fields."}
    ctx.update(context or {})
    return render(request, template, ctx, status_code=exc.status_code, headers=headers)
