"""Step-up: sensitive actions ask for a second factor checked within the last few minutes.

Wrap the endpoint where its route is listed: `Route(path, sensitive(endpoint), ...)`. A member whose session
checked a factor less than `factors.STEP_UP_MINUTES` ago (or who has none to check) goes straight through.
Otherwise:
- a page (GET) redirects to /signin/factor?next=..., which comes back after the check;
- a form (POST) gets the step-up page, which carries the form's fields as hidden inputs and posts them again to
  the same address with the code (or a passkey's answer): the check and the action happen in one submission, and
  the draft is never lost. A wrong code shows the page again with the fields kept.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from community.platform.accounts.factors import Factors, needs_step_up
from community.platform.accounts.models import User
from community.platform.errors import RateLimited
from community.platform.viewer import Viewer
from community.platform.web.common import client_of, db_of, redirect
from community.platform.web.forms import Form, read_form
from community.platform.web.templates import render

Endpoint = Callable[[Request], Awaitable[Response]]
# What the step-up page adds to a form; never carried into the hidden fields again.
FACTOR_FIELDS = ("csrf_token", "factor_code", "factor_assertion")


def factors_of(request: Request) -> Factors:
    """The second-factor service, built once by create_app."""
    return request.app.state.factors


def here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


async def kinds_of(request: Request, user_id: int) -> set[str]:
    async with db_of(request).read() as session:
        return {f.kind for f in await factors_of(request).list(session, user_id)}


async def step_up_page(request: Request, viewer: Viewer, *, action: str, fields: list[tuple[str, str]],
                       error: str = "", status_code: int = 401, signin: bool = False,
                       headers: dict[str, str] | None = None) -> Response:
    """The second-factor form: at sign-in (posting to /signin/factor) or before a sensitive action (posting the
    action's own fields back to it)."""
    kinds = await kinds_of(request, viewer.id)
    return render(request, "auth/factor.html", {
        "action": action, "fields": fields, "error": error, "errors": {"factor_code": error} if error else {},
        "signin": signin, "totp": "totp" in kinds, "passkey": "passkey" in kinds, "form": {}},
        status_code=status_code, headers=headers)


async def check_submitted(request: Request, viewer: Viewer, form: Form) -> str | None:
    """None when the form carries a valid code or passkey answer (the session is then marked), else why not
    ("" when it carries neither). A refusal's records (failure count, replay warning) are committed."""
    code, assertion = form.get("factor_code").strip(), form.get("factor_assertion").strip()
    if not code and not assertion:
        return ""
    if viewer.session_id is None:
        return "Please sign in again."
    factors = factors_of(request)
    async with db_of(request).transaction() as session:
        user = await session.get(User, viewer.id)
        if user is None:
            return "Please sign in again."
        if assertion:
            return await factors.check_passkey(session, user, assertion[:20000], viewer.session_id,
                                               client_of(request))
        return await factors.check_code(session, user, code, viewer.session_id, client_of(request))


def sensitive(endpoint: Endpoint, *, pages: bool = False, when: Callable[[Form], bool] | None = None) -> Endpoint:
    """Marks an endpoint as a sensitive action (see the module's docstring): its form submissions, and with
    `pages` its pages too (an export, an unmasked name, the page that sets up a factor). `when`, for a form that
    is only sometimes sensitive (an invitation for a moderator or admin), says which submissions are."""

    @wraps(endpoint)
    async def guarded(request: Request) -> Response:
        viewer = request.scope.get("user")
        is_page = request.method in ("GET", "HEAD")
        if viewer is None or (is_page and not pages) or not needs_step_up(viewer):
            return await endpoint(request)
        if is_page:
            return redirect(request, "/signin/factor?next=" + quote(here(request), safe="/"),
                            flash="Please confirm it is you with your second factor.")
        if request.headers.get("content-type", "").startswith("application/json"):
            return JSONResponse({"error": "Please confirm it is you first.", "step_up": "/signin/factor"}, 401)
        form = await read_form(request)
        if when is not None and not when(form):
            return await endpoint(request)
        try:
            problem = await check_submitted(request, viewer, form)
        except RateLimited as exc:
            return await _again(request, viewer, form, exc.message, 429, {"Retry-After": str(exc.retry_after)})
        if problem is None:
            return await endpoint(request)
        return await _again(request, viewer, form, problem, 401 if problem == "" else 400)

    return guarded


async def _again(request: Request, viewer: Viewer, form: Form, problem: str, status: int,
                 headers: dict[str, str] | None = None) -> Response:
    # Passwords are never written into a page (as web.common.form_error): a password form asks for them again.
    fields = [(k, v) for k, v in form.items() if k not in FACTOR_FIELDS and "password" not in k
              and k not in ("current", "new", "confirm")]
    return await step_up_page(request, viewer, action=here(request), fields=fields, error=problem,
                              status_code=status, headers=headers)
