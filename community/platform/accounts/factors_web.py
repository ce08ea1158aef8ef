"""Second-factor pages: the check after the password (and for step-up), and a member's own factors."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from community.platform.accounts import actions as accounts
from community.platform.errors import ActionError, Invalid, RateLimited
from community.platform.viewer import Viewer
from community.platform.web.common import (
    db_of,
    form_error,
    redirect,
    safe_next,
    set_session,
    settings_of,
    viewer_of,
)
from community.platform.web.forms import read_form
from community.platform.web.step_up import check_submitted, factors_of, sensitive, step_up_page
from community.platform.web.templates import render

REQUIRED = "Moderators and admins need a second factor. Set one up to continue."


def either_viewer(request: Request) -> Viewer | None:
    """The signed-in member, or the one half-way through signing in (password given, second factor not yet)."""
    return request.scope.get("user") or request.scope.get("pending_viewer")


async def factor(request: Request) -> Response:
    """/signin/factor: the second step of signing in, or a step-up before a page that needs one."""
    viewer = either_viewer(request)
    next_url = safe_next(request.query_params.get("next"))
    if viewer is None:
        return redirect(request, "/signin")
    action = "/signin/factor" + (f"?{request.url.query}" if request.url.query else "")
    pending = viewer.factor_pending
    if request.method == "GET":
        if not viewer.has_factor:
            return redirect(request, "/account/security" if viewer.is_moderator else next_url)
        return await step_up_page(request, viewer, action=action, fields=[], signin=pending, status_code=200)
    form = await read_form(request)
    try:
        problem = await check_submitted(request, viewer, form)
    except RateLimited as exc:
        return await step_up_page(request, viewer, action=action, fields=[], error=exc.message, signin=pending,
                                  status_code=429, headers={"Retry-After": str(exc.retry_after)})
    if problem is not None:
        return await step_up_page(request, viewer, action=action, fields=[], signin=pending,
                                  error=problem or "Enter a code, or use your passkey.", status_code=400)
    if not pending:
        return redirect(request, next_url, flash="Thank you: confirmed.")
    # The half-session becomes a whole one under a new token (no token from before the check stays useful).
    async with db_of(request).transaction() as session:
        token, max_age = await accounts.start_session(session, settings_of(request), viewer.id,
                                                      user_agent=request.headers.get("user-agent"),
                                                      replace_token=request.scope.get("session_token"),
                                                      factor_at=accounts.now())
    response = redirect(request, next_url, flash=f"Welcome back, {viewer.display_name}.")
    set_session(request, response, token, max_age)
    return response


async def signin_passkey_options(request: Request) -> Response:
    viewer = either_viewer(request)
    if viewer is None or viewer.session_id is None:
        return _json({"error": "Please sign in again."}, 401)
    try:
        async with db_of(request).transaction() as session:
            options = await factors_of(request).authentication_options(session, viewer.id, viewer.session_id)
    except ActionError as exc:
        return _json({"error": exc.message}, exc.status_code)
    return Response(options, media_type="application/json")


def _json(data: dict[str, str], status: int) -> Response:
    return JSONResponse(data, status_code=status)


async def security(request: Request) -> Response:
    """Your second factors: what you have, and adding or removing them."""
    viewer = viewer_of(request)
    async with db_of(request).read() as session:
        factors = await factors_of(request).list(session, viewer.id)
        left = await factors_of(request).recovery_left(session, viewer.id)
    required = viewer.is_moderator and not factors
    return render(request, "account/security.html", {
        "factors": factors, "recovery_left": left, "required": required, "required_text": REQUIRED,
        "has_totp": any(f.kind == "totp" for f in factors), "passkeys_work": _passkeys_work(request)})


def _passkeys_work(request: Request) -> bool:
    """Browsers offer passkeys on https, and on http only for localhost (never for an IP address)."""
    settings = settings_of(request)
    return settings.https or factors_of(request).rp_id == "localhost"


async def totp(request: Request) -> Response:
    viewer = viewer_of(request)
    factors = factors_of(request)
    if request.method == "GET":
        try:
            async with db_of(request).transaction() as session:
                enrolment = await factors.start_totp(session, viewer)
        except ActionError as exc:
            return redirect(request, "/account/security", flash=exc.message)
        return render(request, "account/totp.html", {"enrolment": enrolment, "form": {}, "errors": {}})
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            codes = await factors.confirm_totp(session, viewer, form.get("code"), viewer.session_id)
    except ActionError as exc:
        async with db_of(request).transaction() as session:
            enrolment = await factors.start_totp(session, viewer)
        return form_error(request, "account/totp.html", exc, {}, {"enrolment": enrolment})
    return _enrolled(request, codes, "Your authenticator app is set up.")


def _enrolled(request: Request, codes: list[str], flash: str) -> Response:
    if codes:
        return render(request, "account/recovery_codes.html", {"codes": codes, "first": True, "done": flash})
    return redirect(request, "/account/security", flash=flash)


async def passkey(request: Request) -> Response:
    viewer = viewer_of(request)
    if request.method == "GET":
        return render(request, "account/passkey.html", {"form": {"label": "Passkey"}, "errors": {}})
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        if not form.get("credential"):
            raise Invalid("Your browser did not create a passkey. Press the button and follow its steps.")
        async with db_of(request).transaction() as session:
            codes = await factors_of(request).register_passkey(session, viewer, viewer.session_id or 0,
                                                               form.get("credential")[:20000], form.get("label"))
    except ActionError as exc:
        return form_error(request, "account/passkey.html", exc, {"label": data.get("label", "")})
    return _enrolled(request, codes, "Your passkey is added.")


async def passkey_options(request: Request) -> Response:
    viewer = viewer_of(request)
    if viewer.session_id is None:
        return _json({"error": "Please sign in again."}, 401)
    async with db_of(request).transaction() as session:
        options = await factors_of(request).registration_options(session, viewer, viewer.session_id)
    return Response(options, media_type="application/json")


async def remove(request: Request) -> Response:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        await factors_of(request).remove(session, viewer, request.path_params["factor_id"])
    return redirect(request, "/account/security", flash="The second factor is removed.")


async def recovery(request: Request) -> Response:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        if not await factors_of(request).list(session, viewer.id):
            raise Invalid("Set up an authenticator app or a passkey first.")
        codes = await factors_of(request).new_recovery_codes(session, viewer.id)
    return render(request, "account/recovery_codes.html", {"codes": codes, "first": False})


routes = [
    Route("/signin/factor", factor, methods=["GET", "POST"]),
    Route("/signin/factor/passkey-options", signin_passkey_options, methods=["POST"]),
    Route("/account/security", security),
    Route("/account/security/totp", sensitive(totp, pages=True), methods=["GET", "POST"]),
    Route("/account/security/passkey", sensitive(passkey, pages=True), methods=["GET", "POST"]),
    Route("/account/security/passkey-options", passkey_options, methods=["POST"]),
    Route("/account/security/factors/{factor_id:dbid}/remove", sensitive(remove), methods=["POST"]),
    Route("/account/security/recovery", sensitive(recovery), methods=["POST"]),
]
