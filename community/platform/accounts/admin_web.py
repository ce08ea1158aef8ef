"""Admin pages: members, roles, suspensions, invitations, one-time links and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.platform.accounts import actions as accounts
from community.platform.accounts.models import ROLES
from community.platform.errors import ActionError, NotFound
from community.platform.numbers import parse_int
from community.platform.review import audit_log
from community.platform.times import parse_moment
from community.platform.web.common import admin_of, db_of, form_error, redirect, settings_of, staff_of
from community.platform.web.forms import read_form
from community.platform.web.templates import render

PAGE = 50


def _int_param(request: Request, name: str, default: int = 0) -> int:
    raw = request.query_params.get(name, "")
    number = parse_int(raw, max_digits=8)
    return default if number is None else number


async def members(request: Request) -> Response:
    viewer = admin_of(request)
    q = request.query_params.get("q", "")[:100]
    role = request.query_params.get("role", "")
    status = request.query_params.get("status", "")
    offset = _int_param(request, "offset")
    async with db_of(request).transaction() as session:
        page = await accounts.search_members(session, viewer, q=q, role=role, status=status, limit=PAGE,
                                             offset=offset)
    return render(request, "admin/members.html", {"page": page, "q": q, "role": role, "status": status,
                                                  "roles": ROLES, "offset": offset, "limit": PAGE})


async def member(request: Request) -> Response:
    viewer = admin_of(request)
    user_id = request.path_params["user_id"]
    async with db_of(request).transaction() as session:
        user = await accounts.access_member(session, viewer, user_id)
        history = await audit_log.for_target(session, "user", user_id)
    return render(request, "admin/member.html", {"member": user, "roles": ROLES, "history": history,
                                                 "link": request.query_params.get("link")})


async def member_action(request: Request) -> Response:
    viewer = admin_of(request)
    user_id = request.path_params["user_id"]
    action = request.path_params["action"]
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            if action == "role":
                await accounts.change_role(session, viewer, user_id, data.get("role", ""), data.get("reason", ""))
                message = "The role is changed."
            elif action == "suspend":
                days = form.int("days", low=1, high=3650)
                await accounts.suspend(session, viewer, user_id, data.get("reason", ""), days)
                message = "The member is suspended and signed out everywhere."
            elif action == "unsuspend":
                await accounts.unsuspend(session, viewer, user_id, data.get("reason", ""))
                message = "The suspension is lifted."
            elif action == "reset-link":
                token = await accounts.create_link(session, viewer, user_id, "reset")
                url = f"{settings_of(request).base_url}/link/{token}"
                user = await accounts.access_member(session, viewer, user_id)
                history = await audit_log.for_target(session, "user", user_id)
                # Shown once, on this response only: the link is not stored in any readable form.
                return render(request, "admin/member.html", {"member": user, "roles": ROLES,
                                                             "history": history, "reset_url": url})
            else:
                raise NotFound("No such action.")
    except ActionError as exc:
        async with db_of(request).transaction() as session:
            try:
                user = await accounts.access_member(session, viewer, user_id)
            except ActionError as inner:
                return form_error(request, "errors/error.html", inner, {})
            history = await audit_log.for_target(session, "user", user_id)
        return form_error(request, "admin/member.html", exc, data,
                          {"member": user, "roles": ROLES, "history": history, "failed_action": action})
    return redirect(request, f"/admin/members/{user_id}", flash=message)


async def invitations(request: Request) -> Response:
    viewer = staff_of(request)
    async with db_of(request).transaction() as session:
        items = await accounts.list_invitations(session, viewer)
    context = {"invitations": items, "roles": ROLES, "state": accounts.invitation_state,
               "default_days": settings_of(request).invite_days}
    if request.method == "GET":
        return render(request, "admin/invitations.html", context)
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        days = form.int("days", default=settings_of(request).invite_days, low=1, high=90)
        async with db_of(request).transaction() as session:
            _, token = await accounts.create_invitation(session, viewer, role=data.get("role", ""),
                                                         cohort=data.get("cohort", ""), note=data.get("note", ""),
                                                         days=days or settings_of(request).invite_days)
            items = await accounts.list_invitations(session, viewer)
    except ActionError as exc:
        return form_error(request, "admin/invitations.html", exc, data, context)
    url = f"{settings_of(request).base_url}/join/{token}"
    return render(request, "admin/invitations.html", {**context, "invitations": items, "new_url": url},
                  status_code=201)


async def revoke_invitation(request: Request) -> Response:
    viewer = staff_of(request)
    try:
        async with db_of(request).transaction() as session:
            await accounts.revoke_invitation(session, viewer, request.path_params["invitation_id"])
    except ActionError as exc:
        return redirect(request, "/admin/invitations", flash=exc.message or "That could not be done.")
    return redirect(request, "/admin/invitations", flash="The invitation is revoked.")


async def audit(request: Request) -> Response:
    admin_of(request)
    filters = {name: request.query_params.get(name, "")[:80] for name in ("action", "actor", "target", "since")}
    before = _int_param(request, "before") or None
    since: datetime | None = None
    if filters["since"]:
        since = parse_moment(filters["since"], UTC)
        if since is None:
            filters["since"] = ""
    async with db_of(request).transaction() as session:
        entries = await audit_log.search(session, action=filters["action"], actor=filters["actor"],
                                         target=filters["target"], since=since, before=before, limit=PAGE)
        actions = await audit_log.known_actions(session)
    return render(request, "admin/audit.html", {"entries": entries, "filters": filters, "actions": actions,
                                                "limit": PAGE})


async def admin_home(request: Request) -> Response:
    staff_of(request)
    return render(request, "admin/index.html")


routes = [
    Route("/admin", admin_home),
    Route("/admin/members", members),
    Route("/admin/members/{user_id:dbid}", member),
    Route("/admin/members/{user_id:dbid}/{action}", member_action, methods=["POST"]),
    Route("/admin/invitations", invitations, methods=["GET", "POST"]),
    Route("/admin/invitations/{invitation_id:dbid}/revoke", revoke_invitation, methods=["POST"]),
    Route("/admin/audit", audit),
]


