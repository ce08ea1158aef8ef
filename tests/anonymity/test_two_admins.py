"""Issue 14, finding 3: "two admins must agree" means two independent people, not two accounts.

An admin could invite a second admin account and approve their own unmasking from it, or reset and demote the
other admins alone. A second admin must have held the role for TWO_ADMIN_MIN_DAYS and be neither the first
admin's creation (invited or promoted, directly or down a chain) nor their creator; admins' actions on other
admins wait for such a second admin. Each test fails on the code before the change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from community.platform.accounts import actions as accounts
from community.platform.accounts.models import AdminApproval, User
from community.platform.accounts.security import Passwords
from community.platform.review.models import AuditEntry
from community.reflections.models import UnmaskRequest
from community.settings import Settings
from tests.reflections.conftest import write


async def _unmask_request(member_factory, login, db, requester) -> int:
    writer = await login(await member_factory(name="Hidden Resident"))
    rid = await write(writer, body="Something I could only write without my name.", visibility="anonymous")
    asked = await (await login(requester)).post_form(f"/reflections/unmask/reflection/{rid}", {
        "reason": "A credible threat to a patient was reported to us and must be followed up."})
    assert asked.status_code == 303, asked.text[:500]
    async with db.transaction() as session:
        return (await session.scalars(select(UnmaskRequest.id))).one()


async def test_an_unmasking_needs_a_second_admin_who_is_not_the_first_ones_creation(member_factory, login, db):
    first = await member_factory("admin", name="First Admin")
    request_id = await _unmask_request(member_factory, login, db, first)
    invited = await member_factory("admin", name="Invited Admin", invited_by=first.id)
    promoted = await member_factory("admin", name="Promoted Admin", role_changed_by=first.id)
    # Down a chain: the first admin invited a moderator, who invited this admin.
    middle = await member_factory("moderator", invited_by=first.id)
    grandchild = await member_factory("admin", name="Chained Admin", invited_by=middle.id)
    fresh = await member_factory("admin", name="Fresh Admin", role_changed_at=datetime.now(UTC) - timedelta(days=3))
    for admin, words in ((invited, "invited or promoted"), (promoted, "invited or promoted"),
                         (grandchild, "invited or promoted"), (fresh, "less than 14 days")):
        refused = await (await login(admin)).post_form(f"/admin/unmask/{request_id}/decide", {"decision": "approve"})
        assert refused.status_code == 403 and words in refused.text, (admin.display_name, refused.text[:300])
    # The first admin's own creator cannot be the second either.
    creator = await member_factory("admin", name="Creator Admin")
    async with db.transaction() as session:
        (await session.get(User, first.id)).invited_by = creator.id
    refused = await (await login(creator)).post_form(f"/admin/unmask/{request_id}/decide", {"decision": "approve"})
    assert refused.status_code == 403
    async with db.transaction() as session:
        assert (await session.get(UnmaskRequest, request_id)).decision is None
    independent = await member_factory("admin", name="Independent Admin")
    approved = await (await login(independent)).post_form(f"/admin/unmask/{request_id}/decide",
                                                         {"decision": "approve"})
    assert approved.status_code == 303


async def test_an_invitation_records_who_invited_and_a_role_change_who_promoted(member_factory, db):
    admin = await member_factory("admin")
    actor = accounts.to_viewer(admin)
    async with db.transaction() as session:
        _, token = await accounts.create_invitation(session, actor, role="admin")
        joined = await accounts.register(session, Passwords(1, 1024), token=token, display_name="New Admin",
                                         email="new.admin@example.org", password="a long enough passphrase 42",
                                         accept=True)
        resident = await member_factory()
    async with db.transaction() as session:
        await accounts.change_role(session, actor, resident.id, "admin", "Helping with the program.",
                                   settings=Settings())
        promoted = await session.get(User, resident.id)
        joined = await session.get(User, joined.id)
    assert joined.invited_by == admin.id and joined.role_changed_by == admin.id
    assert promoted.role_changed_by == admin.id
    assert promoted.role_changed_at > datetime.now(UTC) - timedelta(minutes=5)


async def test_one_admin_cannot_demote_suspend_or_reset_another_alone(member_factory, login, db):
    first = await member_factory("admin", name="First Admin")
    other = await member_factory("admin", name="Other Admin")
    independent = await member_factory("admin", name="Independent Admin")
    me = await login(first)
    asked = await me.post_form(f"/admin/members/{other.id}/role", {"role": "resident", "reason": "Stepping down."})
    assert asked.status_code == 303
    reset = await me.post_form(f"/admin/members/{other.id}/reset-link", {"reason": "They lost their password."})
    assert reset.status_code == 303 and "/link/" not in reset.text
    no_reason = await me.post_form(f"/admin/members/{other.id}/suspend", {"days": "3", "reason": ""})
    assert no_reason.status_code == 400
    async with db.transaction() as session:
        assert (await session.get(User, other.id)).role == "admin"
        pending = list(await session.scalars(select(AdminApproval).order_by(AdminApproval.id)))
    assert [p.action for p in pending] == ["role", "reset-link"]
    page = await (await login(independent)).get(f"/admin/members/{other.id}")
    assert "Waiting for a second admin" in page.text and "Stepping down." in page.text

    # Neither the admin who asked nor the admin it is about may approve.
    for who in (first, other):
        refused = await (await login(who)).post_form(f"/admin/approvals/{pending[0].id}", {"decision": "approve"})
        assert refused.status_code == 403, refused.text[:300]
    second = await login(independent)
    approved = await second.post_form(f"/admin/approvals/{pending[0].id}", {"decision": "approve"})
    assert approved.status_code == 303
    link = await second.post_form(f"/admin/approvals/{pending[1].id}", {"decision": "approve"})
    assert link.status_code == 200 and "/link/" in link.text  # shown once, to the approving admin
    async with db.transaction() as session:
        assert (await session.get(User, other.id)).role == "resident"
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-4:] == ["admin.role_approved", "member.role", "admin.reset-link_approved", "member.reset_link"]
    # An admin's action on a member who is not an admin needs nobody else.
    resident = await member_factory()
    direct = await me.post_form(f"/admin/members/{resident.id}/role", {"role": "attending", "reason": "Graduated."})
    assert direct.status_code == 303
    async with db.transaction() as session:
        assert (await session.get(User, resident.id)).role == "attending"
