"""Moderating reflections and replies without learning who wrote them, and the two-admin unmasking flow."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import community.platform.web.ids  # noqa: F401  (registers the dbid path convertor)
from community.platform.errors import ActionError, NotFound
from community.platform.web.common import (
    admin_of,
    db_of,
    form_error,
    redirect,
    review_of,
    settings_of,
    staff_of,
    targets_of,
)
from community.platform.web.forms import read_form
from community.platform.web.step_up import sensitive
from community.platform.web.templates import render
from community.reflections import page_moderation as moderation
from community.reflections.models import ReflectionReply
from community.reflections.web.pages import render_show_error


async def _reflection_of(request: Request, kind: str, target_id: int) -> int:
    if kind == "reflection":
        return target_id
    async with db_of(request).transaction() as session:
        reply = await session.get(ReflectionReply, target_id)
        if reply is None:
            raise NotFound("That reply no longer exists.")
        return reply.reflection_id


async def _back(request: Request, kind: str, target_id: int, exc: ActionError, data: dict[str, str],
                action: str) -> Response:
    reflection_id = await _reflection_of(request, kind, target_id)
    return await render_show_error(request, reflection_id, exc, data, {"failed_action": action,
                                                                       "failed_target": f"{kind}:{target_id}"})


async def moderate(request: Request) -> Response:
    """hide / remove / restore, sanction the hidden writer, or send them a check-in message."""
    viewer = staff_of(request)
    kind, target_id, action = (request.path_params["kind"], request.path_params["target_id"],
                               request.path_params["action"])
    if kind not in moderation.KINDS or action not in ("decide", "sanction", "check-in"):
        raise NotFound()
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            if action == "decide":
                await moderation.decide(session, viewer, review_of(request), kind, target_id, data.get("decision", ""),
                                        data.get("reason", ""))
                message = "Done. The writer is told, without you learning who they are."
            elif action == "sanction":
                days = form.int("days", low=1, high=365)
                await moderation.sanction_hidden_author(session, viewer, review_of(request), kind, target_id,
                                                        sanction=data.get("sanction", ""), days=days,
                                                        reason=data.get("reason", ""))
                message = "The sanction is applied to the writer. Their identity stays sealed."
            else:
                await moderation.check_in(session, viewer, review_of(request), kind, target_id, data.get("message", ""))
                message = "Your message is on its way to the writer, privately."
    except ActionError as exc:
        return await _back(request, kind, target_id, exc, data, action)
    reflection_id = await _reflection_of(request, kind, target_id)
    return redirect(request, f"/reflections/{reflection_id}", flash=message)


async def unmask_request(request: Request) -> Response:
    viewer = admin_of(request)
    kind, target_id = request.path_params["kind"], request.path_params["target_id"]
    if kind not in moderation.KINDS:
        raise NotFound()
    context = {"kind": kind, "target_id": target_id}
    if request.method == "GET":
        return render(request, "reflections/unmask_request.html", context)
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await moderation.request_unmask(session, viewer, kind, target_id, data.get("reason", ""))
    except ActionError as exc:
        return form_error(request, "reflections/unmask_request.html", exc, data, context)
    return redirect(request, "/admin/unmask", flash="Your request is recorded. A different admin must approve it.")


async def unmask_list(request: Request) -> Response:
    viewer = admin_of(request)
    async with db_of(request).transaction() as session:
        requests = await moderation.list_unmask_requests(session, viewer)
    return render(request, "reflections/unmask_list.html", {"requests": requests})


async def unmask_decide(request: Request) -> Response:
    viewer = admin_of(request)
    request_id = request.path_params["request_id"]
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await moderation.decide_unmask(session, viewer, targets_of(request), request_id,
                                           approve=data.get("decision") == "approve", reason=data.get("reason", ""),
                                           min_days=settings_of(request).two_admin_min_days)
    except ActionError as exc:
        async with db_of(request).transaction() as session:
            requests = await moderation.list_unmask_requests(session, viewer)
        return form_error(request, "reflections/unmask_list.html", exc, data,
                          {"requests": requests, "failed_request": request_id})
    return redirect(request, f"/admin/unmask/{request_id}", flash="Your decision is recorded in the audit log.")


async def unmask_view(request: Request) -> Response:
    viewer = admin_of(request)
    request_id = request.path_params["request_id"]
    async with db_of(request).transaction() as session:
        item = await session.get(moderation.UnmaskRequest, request_id)
        if item is None:
            raise NotFound("No such request.")
        member = None
        if item.decision == "approved" and viewer.id in (item.requested_by, item.decided_by):
            member = await moderation.reveal(session, viewer, targets_of(request), request_id)
    return render(request, "reflections/unmask_view.html", {"item": item, "member": member})


routes = [
    Route("/reflections/moderate/{kind}/{target_id:dbid}/{action}", moderate, methods=["POST"]),
    # Unmasking takes a fresh second factor from both admins (platform.web.step_up): two accounts' passwords
    # in one person's hands are not enough.
    Route("/reflections/unmask/{kind}/{target_id:dbid}", sensitive(unmask_request), methods=["GET", "POST"]),
    Route("/admin/unmask", unmask_list),
    Route("/admin/unmask/{request_id:dbid}", sensitive(unmask_view, pages=True)),
    Route("/admin/unmask/{request_id:dbid}/decide", sensitive(unmask_decide), methods=["POST"]),
]
