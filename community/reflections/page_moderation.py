"""Moderating reflections without learning who wrote them; unmasking only by two admins with a written reason.

- hide / remove / restore, a sanction on the hidden writer and a check-in message, taken from the reflection's
  own page, are the review queue's decisions (platform.review.decisions), taken directly: one code path, so the same
  coarse times, sealed audit reasons, notifications through the sealed tag and resolution of open flags;
- unmasking: one admin requests with a reason, a different admin approves; the author is told. The member id
  is never stored with the request: the two admins unseal it when they view the approved request.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts import two_admins
from community.platform.accounts.actions import check_reason, require_admin
from community.platform.accounts.models import User
from community.platform.errors import Forbidden, Invalid, NotFound
from community.platform.review import audit, decisions
from community.platform.review.targets import Review, TargetAdapter, Targets
from community.platform.viewer import Viewer
from community.reflections.models import Reflection, ReflectionReply, UnmaskRequest

KINDS = ("reflection", "reflection_reply")
DECISIONS = {"hide": "hidden", "remove": "removed", "restore": "visible"}
SANCTIONS = ("silence", "suspend")


def adapter_of(targets: Targets, kind: str) -> TargetAdapter:
    if kind not in KINDS:
        raise NotFound("No such kind of content.")
    return targets[kind]


async def decide(session: AsyncSession, actor: Viewer, review: Review, kind: str, target_id: int,
                 decision: str, reason: str) -> None:
    """hide / remove / restore from the reflection's own page: the review queue's decision, taken directly."""
    adapter_of(review.targets, kind)
    if decision not in DECISIONS:
        raise Invalid(fields={"decision": "Choose hide, remove or restore."})
    await decisions.decide(session, actor, review, kind=kind, target_id=target_id, action=decision, reason=reason)


async def sanction_hidden_author(session: AsyncSession, actor: Viewer, review: Review, kind: str,
                                 target_id: int, *, sanction: str, days: int | None, reason: str) -> None:
    """Silences or suspends whoever wrote the content, without telling the moderator who that is."""
    adapter_of(review.targets, kind)
    if sanction not in SANCTIONS:
        raise Invalid(fields={"sanction": "Choose silence or suspend."})
    if sanction == "silence" and not days:
        raise Invalid(fields={"days": "A silence needs a number of days (1 to 365)."})
    if days is not None and not 1 <= days <= 365:
        raise Invalid(fields={"days": "Choose between 1 and 365 days."})
    params = {"hours": str(days * 24)} if sanction == "silence" and days else {"days": str(days or "")}
    await decisions.decide(session, actor, review, kind=kind, target_id=target_id, action=sanction,
                           reason=reason, params=params)


async def check_in(session: AsyncSession, actor: Viewer, review: Review, kind: str, target_id: int,
                   message: str) -> None:
    """A private, caring message to the writer (addressed to their sealed tag if anonymous); not a sanction."""
    adapter_of(review.targets, kind)
    try:
        await decisions.decide(session, actor, review, kind=kind, target_id=target_id, action="check_in",
                               reason=message)
    except Invalid as exc:  # this page's field is "message"
        raise Invalid(exc.message, fields={("message" if f == "reason" else f): m
                                           for f, m in (exc.fields or {}).items()}) from exc


# ---- unmasking ---------------------------------------------------------------------------------------------

async def _require_anonymous(session: AsyncSession, kind: str, target_id: int) -> None:
    if kind == "reflection":
        row = await session.get(Reflection, target_id)
        ok = row is not None and row.visibility == "anonymous" and row.sealed_author is not None
    elif kind == "reflection_reply":
        reply = await session.get(ReflectionReply, target_id)
        ok = reply is not None and reply.sealed_author is not None
    else:
        ok = False
    if not ok:
        raise NotFound("Only anonymous content whose writer can still be reached can be unmasked.")


async def request_unmask(session: AsyncSession, actor: Viewer, kind: str, target_id: int,
                         reason: str) -> UnmaskRequest:
    require_admin(actor)
    reason = reason.strip()
    if len(reason) < 20:
        raise Invalid(fields={"reason": "Please explain in writing (at least 20 characters) why the writer must "
                                        "be identified; a second admin will read it, and so will the writer."})
    if len(reason) > 2000:
        raise Invalid(fields={"reason": "Use at most 2,000 characters."})
    await _require_anonymous(session, kind, target_id)
    pending = await session.scalar(select(UnmaskRequest.id).where(
        UnmaskRequest.target_kind == kind, UnmaskRequest.target_id == target_id, UnmaskRequest.decision.is_(None)))
    if pending:
        raise Invalid("A request to unmask this writer is already waiting for a second admin.")
    request = UnmaskRequest(target_kind=kind, target_id=target_id, reason=reason, requested_by=actor.id)
    session.add(request)
    await session.flush()
    await audit.record(session, actor, "anonymity.unmask_request", target_type=kind, target_id=target_id,
                       reason=reason, details={"request": request.id})
    return request


async def decide_unmask(session: AsyncSession, actor: Viewer, targets: Targets, request_id: int, *, approve: bool,
                        reason: str, min_days: int) -> UnmaskRequest:
    """A second admin approves or declines; approving needs an admin independent of the first (two_admins)."""
    require_admin(actor)
    request = (await session.scalars(select(UnmaskRequest).where(UnmaskRequest.id == request_id)
                                     .with_for_update())).first()
    if request is None:
        raise NotFound("No such request.")
    if request.decision is not None:
        raise Invalid(f"This request was already {request.decision}.")
    if request.requested_by == actor.id and approve:
        raise Forbidden("A different admin must decide: the admin who asked cannot approve their own request.")
    if approve and (problem := await two_admins.refusal(session, request.requested_by, actor.id, min_days=min_days)):
        raise Forbidden(problem)
    reason_text = check_reason(reason, required=not approve)
    request.decision = "approved" if approve else "declined"
    request.decided_by, request.decided_at, request.decision_reason = actor.id, datetime.now(UTC), reason_text
    await session.flush()
    await audit.record(session, actor, "anonymity.unmask" if approve else "anonymity.unmask_declined",
                       target_type=request.target_kind, target_id=request.target_id,
                       reason=request.reason if approve else reason_text, details={"request": request.id})
    if approve:
        await adapter_of(targets, request.target_kind).notify_author(
            session, request.target_id, "unmask",
            "Two admins agreed to identify you as the writer of an anonymous piece. "
            f"The reason they recorded: {request.reason}", "/journal")
    return request


async def list_unmask_requests(session: AsyncSession, actor: Viewer) -> list[UnmaskRequest]:
    require_admin(actor)
    return list(await session.scalars(select(UnmaskRequest).order_by(UnmaskRequest.decision.is_not(None),
                                                                      UnmaskRequest.id.desc()).limit(100)))


async def reveal(session: AsyncSession, actor: Viewer, targets: Targets, request_id: int) -> User | None:
    """Only after approval, and only to the two admins who took part."""
    require_admin(actor)
    request = await session.get(UnmaskRequest, request_id)
    if request is None:
        raise NotFound("No such request.")
    if request.decision != "approved" or actor.id not in (request.requested_by, request.decided_by):
        raise Forbidden("The writer is shown only to the two admins of an approved request.")
    member_id = await adapter_of(targets, request.target_kind).author_user_id(session, request.target_id)
    return await session.get(User, member_id) if member_id is not None else None
