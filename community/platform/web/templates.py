"""The one Jinja2 environment and the render helper every endpoint uses."""

from __future__ import annotations

import hashlib
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from community.platform.anonymity import Anonymity
from community.platform.review.audit import readable_reason
from community.platform.review.pulse import Pulse
from community.platform.web import fragments
from community.settings import ROOT, Settings

TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"


def _static_versions(static_dir: Path) -> dict[str, str]:
    """Content hashes for cache-busting ?v= query strings, computed once at start-up.

    A module with a folder of the same name (js/room.js and js/room/) is hashed with everything in the folder:
    it imports its parts with its own ?v=, so any change to a part gives every part a new URL."""
    versions = {}
    for path in sorted(static_dir.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes())
            parts = path.with_suffix("")
            if path.suffix == ".js" and parts.is_dir():
                for part in sorted(parts.rglob("*.js")):
                    digest.update(part.relative_to(parts).as_posix().encode() + b"\0" + part.read_bytes())
            versions[path.relative_to(static_dir).as_posix()] = digest.hexdigest()[:10]
    return versions


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError, OSError):
        return ZoneInfo("UTC")


def local_time(value: datetime | None, tz: str | None = "UTC", fmt: str = "%d %b %Y, %H:%M") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone(tz)).strftime(fmt)


def relative_time(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return ""
    delta = (now or datetime.now(UTC)) - value
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        hours = seconds // 3600
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    if delta < timedelta(days=7):
        days = delta.days
        return f"{days} day{'s' if days != 1 else ''} ago"
    return value.strftime("%d %b %Y")


def coarse_time(value: datetime | None, now: datetime | None = None) -> str:
    """Anonymous content shows only the day or 'this week': no minute to match against activity."""
    if value is None:
        return ""
    days = ((now or datetime.now(UTC)).date() - value.astimezone(UTC).date()).days
    if days <= 0:
        return "today"
    if days < 7:
        return "this week"
    return value.astimezone(UTC).strftime("%d %b %Y")


CURRENT_CSRF: ContextVar[str] = ContextVar("csrf_token", default="")


class _CsrfToken:
    """`{{ csrf_token }}` for macros imported without context: reads the current request's token."""

    def __str__(self) -> str:
        return CURRENT_CSRF.get()

    def __html__(self) -> str:
        return escape(CURRENT_CSRF.get())


class Templates:
    def __init__(self, settings: Settings, anonymity: Anonymity, pulse: Pulse | None = None) -> None:
        self.settings = settings
        self.pulse = pulse or Pulse()  # the moderators' urgent count in the navigation (review.pulse)
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATES_DIR)),
            autoescape=select_autoescape(["html", "xml"]),
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=not settings.production,
        )
        versions = _static_versions(STATIC_DIR)
        self.env.globals.update(
            static=lambda path: f"/static/{path}?v={versions.get(path, '0')}",
            settings=settings,
            resources=settings.crisis_resources,
            csrf_token=_CsrfToken(),
        )
        # The same on every signed-in page, and fixed for the life of the process (settings): rendered once.
        self.env.globals["crisis_resources_html"] = Markup(
            self.env.get_template("_crisis_resources_template.html").render(resources=settings.crisis_resources))
        self.env.filters.update(local_time=local_time, relative_time=relative_time, coarse_time=coarse_time,
                                audit_reason=lambda reason: readable_reason(reason, anonymity))

    def render(self, request: Request, name: str, context: dict[str, Any] | None = None, *,
               status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
        viewer = request.scope.get("user")
        csrf_token = request.scope.get("csrf_token", "")
        ctx = {
            "request": request,
            "viewer": viewer,
            "csrf_token": csrf_token,
            "flash": request.scope.get("flash"),
            "tz": getattr(viewer, "timezone", "UTC"),
            "unread_count": getattr(viewer, "unread", 0),
            "form": {},
            "errors": {},
        }
        if context:
            ctx.update(context)
        urgent = self.pulse.urgent if viewer is not None and viewer.is_moderator else 0
        # The scope's path, not request.url.path: building the URL object cost more than the rest of this call.
        ctx["site_header"] = self.site_header(viewer, ctx["unread_count"], request.scope["path"], csrf_token, urgent)
        spliced = [value for value in ctx.values() if type(value) is fragments.Spliced]
        html = self.env.get_template(name).render(ctx)
        if spliced:  # cached HTML that is already encoded: see web.fragments.Spliced
            return HTMLResponse(fragments.splice(html.encode(), spliced, csrf_token), status_code=status_code,
                                headers=headers)
        return HTMLResponse(html, status_code=status_code, headers=headers)


    def site_header(self, viewer: Any, unread: int, path: str, csrf_token: str, urgent: int = 0) -> Markup:
        """The page header (navigation): the same for every page of one section for one member, so cached.
        Moderators' headers carry the count of urgent items (review.pulse)."""
        section = section_of(path)
        key = (viewer.display_name, viewer.is_moderator, unread, section, urgent) if viewer is not None \
            else (section,)
        template = self.env.get_template("_site_header.html")
        html = fragments.render(template, key, lambda: {
            "viewer": viewer, "unread_count": unread, "section": section, "csrf_token": fragments.CsrfMarker(),
            "urgent_count": urgent})
        return fragments.with_csrf(html, csrf_token)


# The navigation's sections, by how a path starts (the first match wins).
SECTIONS = (("/c", "threads"), ("/t/", "threads"), ("/reflections", "reflections"), ("/journal", "journal"),
            ("/prompts", "prompts"), ("/rooms", "rooms"), ("/notifications", "notifications"),
            ("/review", "review"), ("/admin", "admin"), ("/account", "account"))


def section_of(path: str) -> str:
    for prefix, section in SECTIONS:
        if path.startswith(prefix):
            return section
    return ""


def render(request: Request, name: str, context: dict[str, Any] | None = None, **kwargs: Any) -> HTMLResponse:
    return request.app.state.templates.render(request, name, context, **kwargs)
