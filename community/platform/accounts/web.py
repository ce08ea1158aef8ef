"""Sign-in, sign-out, joining by invitation, one-time links, profile and password change."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from community.platform.accounts import actions as accounts
from community.platform.accounts import restrictions
from community.platform.accounts.models import TRAINING_YEARS
from community.platform.errors import ActionError, Forbidden
from community.platform.web.common import (
    anonymity_of,
    clear_session,
    client_of,
    db_of,
    form_error,
    redirect,
    safe_next,
    set_session,
    settings_of,
    viewer_of,
)
from community.platform.web.forms import read_form
from community.platform.web.step_up import sensitive
from community.platform.web.templates import render

COMMON_ZONES = ("UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
                "America/Anchorage", "Pacific/Honolulu", "America/Toronto", "America/Vancouver", "Europe/London",
                "Europe/Dublin", "Europe/Paris", "Europe/Berlin", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo",
                "Australia/Sydney", "Pacific/Auckland")


async def signin(request: Request) -> Response:
    next_url = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        if request.scope.get("user"):
            return redirect(request, next_url)
        if request.scope.get("pending_viewer"):
            return redirect(request, "/signin/factor?next=" + quote(next_url, safe="/"))
        return render(request, "auth/signin.html", {"next": next_url})
    form = await read_form(request)
    data = form.as_dict()
    next_url = safe_next(data.get("next"), next_url)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            user = await accounts.authenticate(session, request.app.state.passwords, settings_of(request),
                                               email=data.get("email", ""), password=data.get("password", ""),
                                               client=client_of(request))
            await restrictions.refuse_if_suspended(session, anonymity_of(request), user.id)
            # With a second factor, a half-session that reaches only /signin/factor (web.factor_guard).
            pending = await accounts.needs_second_factor(session, user.id)
            token, max_age = await accounts.start_session(session, settings_of(request), user.id,
                                                          user_agent=request.headers.get("user-agent"),
                                                          replace_token=request.scope.get("session_token"),
                                                          factor_pending=pending)
    except ActionError as exc:
        # A failed attempt must be recorded even though the sign-in failed: save it in its own transaction.
        if exc.status_code == 400 and not form.errors:
            async with db_of(request).transaction() as session:
                await accounts.record_failure(session, request.app.state.outbox, settings_of(request),
                                              data.get("email", ""), client_of(request))
        return form_error(request, "auth/signin.html", exc, data, {"next": next_url})
    if pending:
        response = redirect(request, "/signin/factor?next=" + quote(next_url, safe="/"))
    else:
        response = redirect(request, next_url, flash=f"Welcome back, {user.display_name}.")
    set_session(request, response, token, max_age)
    return response


async def signout(request: Request) -> Response:
    token = request.scope.get("session_token")
    if token:
        async with db_of(request).transaction() as session:
            await accounts.end_session(session, token)
    response = redirect(request, "/signin", flash="You are signed out. Take care of yourself.")
    clear_session(request, response)
    return response


async def join(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        async with db_of(request).transaction() as session:
            invitation = await accounts.access_invitation(session, token)
            role, invited_address = invitation.role, invitation.email
    except ActionError as exc:
        return render(request, "auth/invite_invalid.html", {"message": exc.message},
                      status_code=exc.status_code)
    if request.method == "GET":  # an invitation by mail fills in the address it was sent to
        return render(request, "auth/signup.html", {"token": token, "role": role,
                                                    "form": {"email": invited_address or ""}})
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            user = await accounts.register(session, request.app.state.passwords, token=token,
                                           display_name=data.get("display_name", ""), email=data.get("email", ""),
                                           password=data.get("password", ""), accept=data.get("accept") == "yes")
            session_token, max_age = await accounts.start_session(
                session, settings_of(request), user.id, user_agent=request.headers.get("user-agent"),
                replace_token=request.scope.get("session_token"))
    except ActionError as exc:
        return form_error(request, "auth/signup.html", exc, data, {"token": token, "role": role})
    response = redirect(request, "/account?welcome=1",
                        flash=f"Welcome, {user.display_name}. You can add a few details to your profile.")
    set_session(request, response, session_token, max_age)
    return response


async def one_time_link(request: Request) -> Response:
    token = request.path_params["token"]
    try:
        async with db_of(request).transaction() as session:
            link, user = await accounts.access_link(session, token)
            purpose, name = link.purpose, user.display_name
    except ActionError as exc:
        return render(request, "auth/link_invalid.html", {"message": exc.message}, status_code=exc.status_code)
    context = {"token": token, "purpose": purpose, "name": name}
    if request.method == "GET":
        return render(request, "auth/link.html", context)
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            user = await accounts.use_link(session, request.app.state.passwords, token, new=data.get("new", ""),
                                           confirm=data.get("confirm", ""))
            if accounts.is_suspended(user):
                raise Forbidden(accounts.suspension_message(user))
            await restrictions.refuse_if_suspended(session, anonymity_of(request), user.id)
            # A reset link proves the mailbox, not the second factor: that is still asked for.
            pending = await accounts.needs_second_factor(session, user.id)
            session_token, max_age = await accounts.start_session(
                session, settings_of(request), user.id, user_agent=request.headers.get("user-agent"),
                replace_token=request.scope.get("session_token"), factor_pending=pending)
    except ActionError as exc:
        return form_error(request, "auth/link.html", exc, data, context)
    if pending:
        response = redirect(request, "/signin/factor", flash="Your password is set. One more step to sign in.")
        set_session(request, response, session_token, max_age)
        return response
    response = redirect(request, "/", flash="Your password is set and you are signed in.")
    set_session(request, response, session_token, max_age)
    return response


FORGOT_SENT = ("If an account uses that address, a link to choose a new password is on its way. It works once, "
               "for one hour. Nothing arrived? Check the spam folder, or ask an admin.")


async def forgot(request: Request) -> Response:
    """Self-service password reset: the same answer whether or not the address is a member's."""
    if request.method == "GET":
        return render(request, "auth/forgot.html", {"form": {"email": request.query_params.get("email", "")[:254]}})
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await accounts.request_reset(session, request.app.state.outbox, settings_of(request),
                                         email=data.get("email", ""), client=client_of(request))
    except ActionError as exc:
        return form_error(request, "auth/forgot.html", exc, data)
    return render(request, "auth/forgot.html", {"sent": FORGOT_SENT, "form": {}})


async def profile(request: Request) -> Response:
    viewer = viewer_of(request)
    context = {"years": TRAINING_YEARS, "zones": COMMON_ZONES, "welcome": request.query_params.get("welcome")}
    if request.method == "GET":
        async with db_of(request).transaction() as session:
            user = await session.get(accounts.User, viewer.id)
            form = {"display_name": user.display_name, "specialty": user.specialty or "",
                    "training_year": user.training_year or "", "pronouns": user.pronouns or "",
                    "timezone": user.timezone}
        return render(request, "account/profile.html", {**context, "form": form, "member": user})
    form_data = await read_form(request)
    data = form_data.as_dict()
    try:
        form_data.check()
        async with db_of(request).transaction() as session:
            await accounts.update_profile(session, viewer, display_name=data.get("display_name", ""),
                                          specialty=data.get("specialty", ""),
                                          training_year=data.get("training_year", ""),
                                          pronouns=data.get("pronouns", ""), timezone=data.get("timezone", ""))
    except ActionError as exc:
        return form_error(request, "account/profile.html", exc, data, context)
    return redirect(request, "/account", flash="Your profile is saved.")


async def password(request: Request) -> Response:
    viewer = viewer_of(request)
    if request.method == "GET":
        return render(request, "account/password.html")
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await accounts.change_password(session, request.app.state.passwords, viewer,
                                           current=data.get("current", ""), new=data.get("new", ""),
                                           confirm=data.get("confirm", ""))
            # Every other session was revoked; this browser gets a fresh one.
            token, max_age = await accounts.start_session(session, settings_of(request), viewer.id,
                                                          user_agent=request.headers.get("user-agent"),
                                                          factor_at=viewer.factor_at)
    except ActionError as exc:
        return form_error(request, "account/password.html", exc, data)
    response = redirect(request, "/account", flash="Your password is changed. Other devices were signed out.")
    set_session(request, response, token, max_age)
    return response


async def signin_alias(request: Request) -> Response:
    """The addresses people type for signing in lead to the one sign-in page (with where they were going)."""
    query = request.url.query
    return RedirectResponse("/signin" + (f"?{query}" if query else ""), status_code=301)


routes = [
    Route("/signin", signin, methods=["GET", "POST"]),
    Route("/login", signin_alias),
    Route("/sign-in", signin_alias),
    Route("/log-in", signin_alias),
    Route("/signout", signout, methods=["POST"]),
    Route("/forgot", forgot, methods=["GET", "POST"]),
    Route("/join/{token}", join, methods=["GET", "POST"]),
    Route("/link/{token}", one_time_link, methods=["GET", "POST"]),
    Route("/account", profile, methods=["GET", "POST"]),
    Route("/account/password", sensitive(password, pages=True), methods=["GET", "POST"]),
]
