"""Every admin route for every role (allowed or 403), role changes and the audit log."""

import pytest
from sqlalchemy import select, text

from community.platform.review.models import AuditEntry

ROLES = ["resident", "attending", "moderator", "admin"]
# route -> roles allowed
GET_ROUTES = {
    "/admin": {"moderator", "admin"},
    "/admin/members": {"admin"},
    "/admin/members/{target}": {"admin"},
    "/admin/invitations": {"moderator", "admin"},
    "/admin/audit": {"moderator", "admin"},  # moderators: the moderation entries only (audit_log.MODERATOR_SCOPE)
    "/admin/settings": {"admin"},
}
POST_ROUTES = {
    "/admin/invitations": ({"role": "resident", "days": "7"}, {"moderator", "admin"}),
    "/admin/members/{target}/role": ({"role": "attending", "reason": "Finished training"}, {"admin"}),
    "/admin/members/{target}/suspend": ({"reason": "Test", "days": "1"}, {"admin"}),
    "/admin/members/{target}/unsuspend": ({"reason": "Test"}, {"admin"}),
    "/admin/members/{target}/reset-link": ({}, {"admin"}),
    "/admin/settings": ({"posts": "0", "reason": "Matrix"}, {"admin"}),
}


@pytest.mark.parametrize("role", ROLES + ["signed out"])
async def test_admin_get_routes(role, member_factory, login, client):
    target = await member_factory("resident")
    c = client if role == "signed out" else await login(await member_factory(role))
    for route, allowed in GET_ROUTES.items():
        response = await c.get(route.format(target=target.id))
        if role == "signed out":
            assert response.status_code == 303 and "/signin" in response.headers["location"], route
        elif role in allowed:
            assert response.status_code == 200, (role, route)
        else:
            assert response.status_code == 403, (role, route)


@pytest.mark.parametrize("role", ROLES + ["signed out"])
async def test_admin_post_routes(role, member_factory, login, client):
    c = client if role == "signed out" else await login(await member_factory(role))
    for route, (data, allowed) in POST_ROUTES.items():
        target = await member_factory("resident")
        response = await c.post_form(route.format(target=target.id), data)
        if role == "signed out":
            assert response.status_code == 303 and "/signin" in response.headers["location"], route
        elif role in allowed:
            assert response.status_code in (200, 201, 303), (role, route, response.status_code)
        else:
            assert response.status_code == 403, (role, route)


async def test_revoke_invitation_permissions(db, member_factory, login):
    from community.platform.accounts import actions as accounts

    async with db.transaction() as session:
        invitation, _ = await accounts.create_invitation(session, None, role="resident")
    resident = await login(await member_factory("resident"))
    assert (await resident.post_form(f"/admin/invitations/{invitation.id}/revoke")).status_code == 403
    moderator = await login(await member_factory("moderator"))
    assert (await moderator.post_form(f"/admin/invitations/{invitation.id}/revoke")).status_code == 303


async def test_role_change_is_audited_and_filterable(db, member_factory, login):
    admin = await member_factory("admin", name="Ada Admin")
    target = await member_factory("resident", name="Rory Resident")
    c = await login(admin)
    response = await c.post_form(f"/admin/members/{target.id}/role",
                                 {"role": "attending", "reason": "Finished residency"})
    assert response.status_code == 303
    async with db.transaction() as session:
        entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "member.role"))).one()
    assert entry.actor_id == admin.id and entry.reason == "Finished residency"
    assert entry.details == {"from": "resident", "to": "attending"}
    log = await c.get("/admin/audit?action=member.role")
    assert "Finished residency" in log.text and "Rory Resident" in log.text
    other = await c.get("/admin/audit?action=member.suspend")
    assert "Finished residency" not in other.text


async def test_audit_log_is_append_only(db, member_factory, login):
    admin = await member_factory("admin")
    target = await member_factory("resident")
    c = await login(admin)
    await c.post_form(f"/admin/members/{target.id}/role", {"role": "attending", "reason": "x"})
    with pytest.raises(Exception, match="append-only"):
        async with db.transaction() as session:
            await session.execute(text("UPDATE audit_log SET reason = 'rewritten'"))
    with pytest.raises(Exception, match="append-only"):
        async with db.transaction() as session:
            await session.execute(text("DELETE FROM audit_log"))


async def test_admin_cannot_demote_self(member_factory, login):
    admin = await member_factory("admin")
    c = await login(admin)
    response = await c.post_form(f"/admin/members/{admin.id}/role", {"role": "resident", "reason": "oops"})
    assert response.status_code == 400


async def test_member_search(member_factory, login):
    admin = await member_factory("admin")
    await member_factory("attending", name="Priya Attending", email="priya@example.org")
    c = await login(admin)
    page = await c.get("/admin/members?q=priya")
    assert "Priya Attending" in page.text
    page = await c.get("/admin/members?role=moderator")
    assert "Priya Attending" not in page.text
