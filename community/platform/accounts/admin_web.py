"""Admin pages: members, roles, suspensions, invitations, one-time links and the audit log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.platform.accounts import actions as accounts
from community.platform.accounts import invitations as invitations_by_mail
from community.platform.accounts import two_admins
from community.platform.accounts.models import ROLES, AdminApproval, User
from community.platform.errors import ActionError, NotFound
from community.platform.numbers import parse_int
from community.platform.review import approval as new_members
from community.platform.review import audit_log
from community.platform.times import parse_moment
from community.platform.viewer import Viewer
from community.platform.web.common import admin_of, db_of, form_error, redirect, settings_of, staff_of
from community.platform.web.forms import Form, read_form
from community.platform.web.step_up import sensitive
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


async def _member_context(session: AsyncSession, viewer: Viewer, user_id: int) -> dict[str, Any]:
    user = await accounts.access_member(session, viewer, user_id)
    pending = await two_admins.pending_for(session, user_id)
    names = dict((await session.execute(select(User.id, User.display_name).where(
        User.id.in_({p.requested_by for p in pending})))).all()) if pending else {}
    silenced = user.silenced_until is not None and user.silenced_until > datetime.now(UTC)
    return {"member": user, "roles": ROLES, "history": await audit_log.for_target(session, "user", user_id),
            "silenced": silenced,
            "pending": [(p, names.get(p.requested_by, "an admin")) for p in pending], "asks": two_admins.ACTIONS}


async def member(request: Request) -> Response:
    viewer = admin_of(request)
    async with db_of(request).transaction() as session:
        context = await _member_context(session, viewer, request.path_params["user_id"])
    return render(request, "admin/member.html", context)


async def _run(request: Request, session: AsyncSession, viewer: Viewer, user_id: int, action: str,
               data: dict[str, str], days: int | None) -> str | Response:
    """One action on a member: a flash message, or the page (a reset link is shown once, on its response)."""
    if action == "role":
        await accounts.change_role(session, viewer, user_id, data.get("role", ""), data.get("reason", ""),
                                   settings=settings_of(request))
        return "The role is changed."
    if action == "suspend":
        await accounts.suspend(session, viewer, user_id, data.get("reason", ""), days)
        return "The member is suspended and signed out everywhere."
    if action == "unsuspend":
        await accounts.unsuspend(session, viewer, user_id, data.get("reason", ""))
        return "The suspension is lifted."
    if action == "unsilence":
        await accounts.unsilence(session, viewer, user_id, data.get("reason", ""))
        return "The silence is lifted: the member can post again."
    if action == "reset-link":
        token = await accounts.create_link(session, viewer, user_id, "reset")
        context = await _member_context(session, viewer, user_id)
        # Shown once, on this response only: the link is not stored in any readable form.
        return render(request, "admin/member.html", {**context,
                                                     "reset_url": f"{settings_of(request).base_url}/link/{token}"})
    raise NotFound("No such action.")


async def member_action(request: Request) -> Response:
    """An admin's action on a member; on another admin, it waits for a second admin (accounts.two_admins)."""
    viewer = admin_of(request)
    user_id = request.path_params["user_id"]
    action = request.path_params["action"]
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        days = form.int("days", low=1, high=3650) if action == "suspend" else None
        async with db_of(request).transaction() as session:
            target = await accounts.access_member(session, viewer, user_id)
            if action in two_admins.ACTIONS and target.role == "admin" and target.id != viewer.id:
                params = {"role": data.get("role", "")} if action == "role" else (
                    {"days": str(days or "")} if action == "suspend" else {})
                await two_admins.request(session, viewer, target, action, params, data.get("reason", ""))
                result: str | Response = "A second admin must approve this. It waits on this page until one does."
            else:
                result = await _run(request, session, viewer, user_id, action, data, days)
    except ActionError as exc:
        return await _member_error(request, viewer, user_id, exc, data, action)
    if isinstance(result, Response):
        return result
    return redirect(request, f"/admin/members/{user_id}", flash=result)


async def _member_error(request: Request, viewer: Viewer, user_id: int, exc: ActionError, data: dict[str, str],
                        action: str) -> Response:
    async with db_of(request).transaction() as session:
        try:
            context = await _member_context(session, viewer, user_id)
        except ActionError as inner:
            return form_error(request, "errors/error.html", inner, {})
    return form_error(request, "admin/member.html", exc, data, {**context, "failed_action": action})


async def approval(request: Request) -> Response:
    """A second admin approves (the action runs, in their name) or declines an action on an admin."""
    viewer = admin_of(request)
    form = await read_form(request)
    data = form.as_dict()
    approval_id = request.path_params["approval_id"]
    user_id = 0
    try:
        form.check()
        async with db_of(request).transaction() as session:
            decided = await two_admins.decide(session, viewer, approval_id, approve=data.get("decision") == "approve",
                                              min_days=settings_of(request).two_admin_min_days)
            user_id = decided.target_id
            if decided.decision != "approved":
                return redirect(request, f"/admin/members/{user_id}", flash="The request is declined.")
            days = parse_int(decided.params.get("days", ""), max_digits=4)
            result = await _run(request, session, viewer, user_id, decided.action,
                                {**decided.params, "reason": decided.reason}, days)
    except ActionError as exc:
        if not user_id:
            async with db_of(request).transaction() as session:
                found = await session.get(AdminApproval, approval_id)
            if found is None:
                return form_error(request, "errors/error.html", exc, {})
            user_id = found.target_id
        return await _member_error(request, viewer, user_id, exc, data, "approval")
    if isinstance(result, Response):
        return result
    return redirect(request, f"/admin/members/{user_id}", flash=f"Approved. {result}")


async def _invitations_context(request: Request, viewer: Viewer) -> dict[str, Any]:
    async with db_of(request).transaction() as session:
        items = await accounts.list_invitations(session, viewer)
        statuses = await invitations_by_mail.mail_statuses(session, items)
    return {"invitations": items, "roles": ROLES, "default_days": settings_of(request).invite_days,
            "state": lambda inv: invitations_by_mail.delivery_state(inv, statuses.get(inv.id))}


async def invitations(request: Request) -> Response:
    viewer = staff_of(request)
    context = await _invitations_context(request, viewer)
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
    except ActionError as exc:
        return form_error(request, "admin/invitations.html", exc, data, context)
    url = f"{settings_of(request).base_url}/join/{token}"
    return render(request, "admin/invitations.html", {**await _invitations_context(request, viewer), "new_url": url},
                  status_code=201)


async def invite_by_mail(request: Request) -> Response:
    """A pasted list or a CSV file (email, role, cohort): every good row is mailed; bad rows come back with why."""
    viewer = staff_of(request)
    context = {"roles": ROLES if viewer.is_admin else ["resident", "attending"],
               "default_days": settings_of(request).invite_days}
    if request.method == "GET":
        return render(request, "admin/invitations_mail.html", {**context, "form": {"role": "resident"}})
    form = await read_form(request)
    data = form.as_dict()
    text = "\n".join(part for part in (data.get("addresses", ""), data.get("csv", "")) if part.strip())
    try:
        form.check()
        days = form.int("days", default=settings_of(request).invite_days, low=1, high=90)
        async with db_of(request).transaction() as session:
            result = await invitations_by_mail.invite_many(
                session, request.app.state.outbox, settings_of(request), viewer, text=text,
                role=data.get("role", ""), cohort=data.get("cohort", ""), days=days or settings_of(request).invite_days)
    except ActionError as exc:
        return form_error(request, "admin/invitations_mail.html", exc, {**data, "csv": ""}, context)
    # Bad rows stay in the box, to be corrected and sent again; the good ones are on their way.
    kept = "\n".join(dict.fromkeys(row.text for row in result.bad))
    return render(request, "admin/invitations_mail.html",
                  {**context, "report": result, "form": {**data, "addresses": kept, "csv": ""}},
                  status_code=201 if result.queued else 400)


async def resend_invitation(request: Request) -> Response:
    viewer = staff_of(request)
    try:
        async with db_of(request).transaction() as session:
            invitation = await invitations_by_mail.resend(session, request.app.state.outbox, settings_of(request),
                                                          viewer, request.path_params["invitation_id"])
            address = invitation.email
    except ActionError as exc:
        return redirect(request, "/admin/invitations", flash=exc.message or "That could not be done.")
    return redirect(request, "/admin/invitations", flash=f"A new invitation to {address} is queued; the old link "
                                                         "no longer works.")


async def revoke_invitation(request: Request) -> Response:
    viewer = staff_of(request)
    try:
        async with db_of(request).transaction() as session:
            await accounts.revoke_invitation(session, viewer, request.path_params["invitation_id"])
    except ActionError as exc:
        return redirect(request, "/admin/invitations", flash=exc.message or "That could not be done.")
    return redirect(request, "/admin/invitations", flash="The invitation is revoked.")


async def audit(request: Request) -> Response:
    """Admins read every entry; moderators the moderation entries (audit_log.MODERATOR_SCOPE)."""
    viewer = staff_of(request)
    scope = None if viewer.is_admin else audit_log.MODERATOR_SCOPE
    filters = {name: request.query_params.get(name, "")[:80] for name in ("action", "actor", "target", "since")}
    before = _int_param(request, "before") or None
    since: datetime | None = None
    if filters["since"]:
        since = parse_moment(filters["since"], UTC)
        if since is None:
            filters["since"] = ""
    async with db_of(request).transaction() as session:
        entries = await audit_log.search(session, action=filters["action"], actor=filters["actor"],
                                         target=filters["target"], since=since, before=before, limit=PAGE,
                                         scope=scope)
        actions = await audit_log.known_actions(session, scope)
    return render(request, "admin/audit.html", {"entries": entries, "filters": filters, "actions": actions,
                                                "limit": PAGE})


async def _settings_context(request: Request) -> dict[str, Any]:
    default = settings_of(request).new_member_approval_posts
    async with db_of(request).transaction() as session:
        posts = await new_members.posts_to_approve(session, default)
    return {"posts": posts, "default": default, "most": new_members.MOST}


async def site_settings(request: Request) -> Response:
    """Admins: new-member approval (review.approval); the environment only gives its default."""
    viewer = admin_of(request)
    context = await _settings_context(request)
    if request.method == "GET":
        return render(request, "admin/settings.html", {**context, "form": {"posts": str(context["posts"])}})
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            posts = await new_members.set_posts_to_approve(session, viewer, form.get("posts"), form.get("reason"))
    except ActionError as exc:
        return form_error(request, "admin/settings.html", exc, form.as_dict(), context)
    return redirect(request, "/admin/settings", flash=(
        f"Saved: a new member's first {posts} shared piece{'s' if posts != 1 else ''} wait for approval."
        if posts else "Saved: new members' writing no longer waits for approval."))


async def admin_home(request: Request) -> Response:
    staff_of(request)
    return render(request, "admin/index.html")


def _staff_invitation(form: Form) -> bool:
    return form.get("role") in ("moderator", "admin")


routes = [
    Route("/admin", admin_home),
    Route("/admin/members", members),
    Route("/admin/members/{user_id:dbid}", member),
    # Sensitive actions take a second factor checked in the last minutes (platform.web.step_up).
    Route("/admin/members/{user_id:dbid}/{action}", sensitive(member_action), methods=["POST"]),
    Route("/admin/approvals/{approval_id:dbid}", sensitive(approval), methods=["POST"]),
    Route("/admin/invitations", sensitive(invitations, when=_staff_invitation), methods=["GET", "POST"]),
    Route("/admin/invitations/mail", sensitive(invite_by_mail), methods=["GET", "POST"]),
    Route("/admin/invitations/{invitation_id:dbid}/revoke", revoke_invitation, methods=["POST"]),
    Route("/admin/invitations/{invitation_id:dbid}/resend", resend_invitation, methods=["POST"]),
    Route("/admin/audit", audit),
    Route("/admin/settings", site_settings, methods=["GET", "POST"]),
]


