"""Mail pages: a member's email choices (/account/email) and unsubscribe links that need no session; /admin/mail:
the outbox (counts, recent messages, dead letters and sending one again), a test message, and, in development,
the messages the local catcher caught (so invitation and reset links can be followed)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.platform.accounts.models import User
from community.platform.errors import ActionError, NotFound
from community.platform.mail import catcher, preferences, status
from community.platform.mail.models import FREQUENCIES
from community.platform.mail.outbox import Outbox
from community.platform.web import ids  # noqa: F401  (registers the dbid convertor)
from community.platform.web.common import admin_of, db_of, form_error, redirect, settings_of, viewer_of
from community.platform.web.forms import read_form
from community.platform.web.templates import render


def outbox_of(request: Request) -> Outbox:
    """The one outbox (templates and settings), built once by create_app."""
    return request.app.state.outbox


async def index(request: Request) -> Response:
    admin_of(request)
    settings = settings_of(request)
    async with db_of(request).transaction() as session:
        view = await status.overview(session)
    caught = catcher.caught(settings.var_dir / "mail") if settings.mail_catcher else []
    return render(request, "admin/mail.html", {"view": view, "caught": caught,
                                               "catcher": settings.mail_catcher})


async def caught_one(request: Request) -> Response:
    admin_of(request)
    settings = settings_of(request)
    mail = catcher.caught_one(settings.var_dir / "mail", request.path_params["name"]) if settings.mail_catcher else None
    if mail is None:
        raise NotFound("No such caught message.")
    return render(request, "admin/mail_caught.html", {"mail": mail})


async def retry(request: Request) -> Response:
    viewer = admin_of(request)
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await status.retry_dead(session, viewer, request.path_params["message_id"])
    except ActionError as exc:
        return redirect(request, "/admin/mail", flash=exc.message or "That could not be done.")
    return redirect(request, "/admin/mail", flash="The message is queued again.")


async def send_test(request: Request) -> Response:
    viewer = admin_of(request)
    form = await read_form(request)
    form.check()
    note = " ".join(form.get("note").split())[:200]
    async with db_of(request).transaction() as session:
        await outbox_of(request).enqueue(session, to=viewer.email, template="test",
                                         context={"sender": viewer.display_name, "note": note})
    return redirect(request, "/admin/mail", flash=f"A test message to {viewer.email} is queued.")


async def email_preferences(request: Request) -> Response:
    """The member's choice per kind of notification email."""
    viewer = viewer_of(request)
    context = {"kinds": preferences.KINDS, "frequencies": FREQUENCIES}
    if request.method == "GET":
        async with db_of(request).transaction() as session:
            chosen = await preferences.for_member(session, viewer.id)
            excerpts = await preferences.excerpts_of(session, viewer.id)
        return render(request, "account/email.html", {**context, "chosen": chosen, "excerpts": excerpts})
    form = await read_form(request)
    choices = {kind: form.get(f"kind_{kind}") for kind in preferences.KINDS if form.has(f"kind_{kind}")}
    try:
        form.check()
        excerpts = preferences.check_excerpts(form.get("excerpts"))
        async with db_of(request).transaction() as session:
            await preferences.save(session, viewer.id, choices)
            await preferences.save_excerpts(session, viewer.id, excerpts)
    except ActionError as exc:
        return form_error(request, "account/email.html", exc, form.as_dict(),
                          {**context, "chosen": preferences.DEFAULTS | choices,
                           "excerpts": form.get("excerpts") == "1"})
    return redirect(request, "/account/email", flash="Your email choices are saved.")


async def unsubscribe(request: Request) -> Response:
    """From a link in a message, without signing in: GET asks, POST (a button, or the mail provider's one-click
    POST) turns off that kind only."""
    found = preferences.read_token(settings_of(request).secret_key, request.path_params["token"])
    if found is None:
        raise NotFound("This unsubscribe link is not valid. You can choose your email on your account page.")
    user_id, what = found
    label = preferences.KINDS.get(what, f"the {what} digest")
    if request.method == "GET":
        return render(request, "account/unsubscribe.html", {"label": label, "token": request.path_params["token"]})
    async with db_of(request).transaction() as session:
        if await session.get(User, user_id) is None:
            raise NotFound("This unsubscribe link is not valid any more.")
        kinds = await preferences.unsubscribe(session, user_id, what)
    return render(request, "account/unsubscribe.html",
                  {"label": label, "done": [preferences.KINDS[k] for k in kinds]})


routes = [
    Route("/account/email", email_preferences, methods=["GET", "POST"]),
    Route("/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"]),
    Route("/admin/mail", index),
    Route("/admin/mail/test", send_test, methods=["POST"]),
    Route("/admin/mail/caught/{name}", caught_one),
    Route("/admin/mail/{message_id:dbid}/retry", retry, methods=["POST"]),
]
