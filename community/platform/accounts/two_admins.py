"""When one admin's say is not enough: unmasking an anonymous writer, and acting on another admin.

"Two admins" must mean two people, not two accounts. A second admin is refused when:
- they are the same account;
- either became an admin less than `min_days` ago (an account made for the occasion);
- either is the other's creation: invited or given their role by the other, directly or through accounts the
  other created (`creators` follows users.invited_by and users.role_changed_by).

Admins' actions on other admins (a new role, a suspension, a reset link) wait in `admin_approvals` for a second
admin who passes the same rule; the action runs when they approve, in their name.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts.models import AdminApproval, User
from community.platform.errors import Forbidden, Invalid, NotFound
from community.platform.review import audit
from community.platform.viewer import Viewer

ACTIONS = {"role": "change the role of", "suspend": "suspend", "reset-link": "create a password-reset link for"}

_CREATORS_SQL = text("""
WITH RECURSIVE chain(id, depth) AS (
    SELECT creator, 1 FROM users u, LATERAL (VALUES (u.invited_by), (u.role_changed_by)) AS c(creator)
     WHERE u.id = :member AND creator IS NOT NULL
  UNION
    SELECT creator, chain.depth + 1 FROM chain JOIN users u ON u.id = chain.id,
           LATERAL (VALUES (u.invited_by), (u.role_changed_by)) AS c(creator)
     WHERE creator IS NOT NULL AND chain.depth < 50
)
SELECT DISTINCT id FROM chain
""")


async def creators(session: AsyncSession, member_id: int) -> set[int]:
    """Everyone who invited or promoted the member, and who invited or promoted them, and so on."""
    return set((await session.scalars(_CREATORS_SQL, {"member": member_id})).all())


async def refusal(session: AsyncSession, first_id: int, second_id: int, *, min_days: int,
                  at: datetime | None = None) -> str | None:
    """Why `second_id` cannot be the second admin beside `first_id` (None: they may)."""
    if first_id == second_id:
        return "A different admin must decide: the admin who asked cannot also approve."
    first, second = await session.get(User, first_id), await session.get(User, second_id)
    if first is None or second is None or first.role != "admin" or second.role != "admin":
        return "Both must be admins now."
    since = (at or datetime.now(UTC)) - timedelta(days=min_days)
    for who, user in (("You", second), ("The admin who asked", first)):
        if user.role_changed_at > since:
            return (f"{who} became an admin less than {min_days} days ago; the two admins must each have held "
                    f"the role for at least {min_days} days.")
    if first.id in await creators(session, second.id) or second.id in await creators(session, first.id):
        return ("One of you invited or promoted the other (directly or through accounts they created); the second "
                "admin must be independent of the first.")
    return None


async def request(session: AsyncSession, actor: Viewer, target: User, action: str, params: dict[str, str],
                  reason: str) -> AdminApproval:
    """Records an admin's action on another admin, to wait for a second admin."""
    assert action in ACTIONS
    if not reason.strip():
        raise Invalid(fields={"reason": "Please give a reason; the second admin reads it, and the audit log keeps it."})
    pending = await session.scalar(select(AdminApproval.id).where(
        AdminApproval.target_id == target.id, AdminApproval.action == action, AdminApproval.decision.is_(None)))
    if pending:
        raise Invalid(f"A request to {ACTIONS[action]} this admin is already waiting for a second admin.")
    approval = AdminApproval(action=action, target_id=target.id, params=params, reason=reason.strip()[:1000],
                             requested_by=actor.id)
    session.add(approval)
    await session.flush()
    await audit.record(session, actor, f"admin.{action}_request", target_type="user", target_id=target.id,
                       target_label=target.display_name, reason=approval.reason,
                       details={"approval": approval.id, **params})
    return approval


async def pending_for(session: AsyncSession, target_id: int) -> list[AdminApproval]:
    return list(await session.scalars(select(AdminApproval).where(
        AdminApproval.target_id == target_id, AdminApproval.decision.is_(None)).order_by(AdminApproval.id)))


async def decide(session: AsyncSession, actor: Viewer, approval_id: int, *, approve: bool,
                 min_days: int) -> AdminApproval:
    """The second admin's decision; the caller runs the action when it is approved."""
    approval = (await session.scalars(select(AdminApproval).where(AdminApproval.id == approval_id)
                                      .with_for_update())).first()
    if approval is None:
        raise NotFound("No such request.")
    if approval.decision is not None:
        raise Invalid(f"This request was already {approval.decision}.")
    if actor.id == approval.target_id:
        raise Forbidden("The admin a request is about cannot decide it.")
    if approve:
        problem = await refusal(session, approval.requested_by, actor.id, min_days=min_days)
        if problem:
            raise Forbidden(problem)
    approval.decision = "approved" if approve else "declined"
    approval.decided_by, approval.decided_at = actor.id, datetime.now(UTC)
    await session.flush()
    target = await session.get(User, approval.target_id)
    await audit.record(session, actor, f"admin.{approval.action}_{approval.decision}", target_type="user",
                       target_id=approval.target_id, target_label=target.display_name if target else None,
                       details={"approval": approval.id, "requested_by": approval.requested_by})
    return approval
