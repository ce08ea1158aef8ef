"""Joining by invitation: valid, expired, used and revoked links; listing and revoking."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from community.platform.accounts import actions as accounts
from community.platform.accounts.models import Invitation, User
from community.platform.review.models import AuditEntry
from tests.conftest import PASSWORD


async def make_invitation(db, role="resident", cohort="", days=7):
    async with db.transaction() as session:
        invitation, token = await accounts.create_invitation(session, None, role=role, cohort=cohort, days=days)
        return invitation.id, token


def signup_form(**overrides):
    form = {"display_name": "Dana Resident", "email": "dana@example.org", "password": PASSWORD, "accept": "yes"}
    form.update(overrides)
    return form


async def test_valid_invitation_registers_and_signs_in(client, db):
    _, token = await make_invitation(db, role="resident", cohort="IM 2027")
    page = await client.get(f"/join/{token}")
    assert page.status_code == 200
    assert "resident" in page.text
    response = await client.post_form(f"/join/{token}", signup_form())
    assert response.status_code == 303
    assert response.headers["location"].startswith("/account")
    assert "session" in response.cookies
    profile = await client.get("/account")
    assert profile.status_code == 200
    assert "Dana Resident" in profile.text
    async with db.transaction() as session:
        user = (await session.scalars(select(User).where(User.email == "dana@example.org"))).one()
        assert user.role == "resident" and user.cohort == "IM 2027"
        assert user.password_hash.startswith("$argon2id$")
        assert user.guidelines_accepted_at is not None
        invitation = (await session.scalars(select(Invitation))).all()[-1]
        assert invitation.used_by == user.id


async def test_used_invitation_is_refused(client, make_client, db):
    _, token = await make_invitation(db)
    assert (await client.post_form(f"/join/{token}", signup_form())).status_code == 303
    other = make_client()
    page = await other.get(f"/join/{token}")
    assert page.status_code == 400
    assert "already been used" in page.text
    response = await other.post_form(f"/join/{token}", signup_form(email="second@example.org"))
    assert response.status_code == 400
    async with db.transaction() as session:
        assert await session.scalar(select(User.id).where(User.email == "second@example.org")) is None


async def test_expired_invitation_is_refused(client, db):
    invitation_id, token = await make_invitation(db)
    async with db.transaction() as session:
        await session.execute(update(Invitation).where(Invitation.id == invitation_id)
                              .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    page = await client.get(f"/join/{token}")
    assert page.status_code == 400
    assert "expired" in page.text
    assert (await client.post_form(f"/join/{token}", signup_form())).status_code == 400


async def test_revoked_invitation_is_refused(client, db, member_factory, login):
    admin = await member_factory("admin")
    invitation_id, token = await make_invitation(db)
    admin_client = await login(admin)
    response = await admin_client.post_form(f"/admin/invitations/{invitation_id}/revoke")
    assert response.status_code == 303
    page = await client.get(f"/join/{token}")
    assert page.status_code == 400 and "withdrawn" in page.text
    listing = await admin_client.get("/admin/invitations")
    assert "revoked" in listing.text
    async with db.transaction() as session:
        actions = (await session.scalars(select(AuditEntry.action))).all()
    assert "invitation.revoke" in actions


async def test_unknown_invitation_is_404(client):
    page = await client.get("/join/not-a-real-token")
    assert page.status_code == 404


async def test_email_unique_regardless_of_case(client, make_client, db, member_factory):
    await member_factory("resident", email="Taken@Example.org")
    _, token = await make_invitation(db)
    response = await client.post_form(f"/join/{token}", signup_form(email="taken@EXAMPLE.org"))
    assert response.status_code == 400
    assert "already exists" in response.text
    assert 'value="taken@EXAMPLE.org"' in response.text  # the draft is kept


async def test_signup_validation_keeps_the_draft(client, db):
    _, token = await make_invitation(db)
    response = await client.post_form(f"/join/{token}", signup_form(password="short", accept=""))
    assert response.status_code == 400
    assert "at least 12 characters" in response.text
    assert "accept the community guidelines" in response.text
    assert 'value="Dana Resident"' in response.text
    assert "value=\"short\"" not in response.text  # passwords are never echoed


async def test_common_password_refused(client, db):
    _, token = await make_invitation(db)
    response = await client.post_form(f"/join/{token}", signup_form(password="password123456"))
    assert response.status_code == 400
    assert "commonly used" in response.text


async def test_staff_create_invitations_with_state(member_factory, login):
    moderator = await member_factory("moderator")
    c = await login(moderator)
    response = await c.post_form("/admin/invitations", {"role": "attending", "cohort": "Peds", "days": "3"})
    assert response.status_code == 201
    assert "/join/" in response.text
    assert "open" in response.text
    # Moderators cannot mint admins.
    refused = await c.post_form("/admin/invitations", {"role": "admin", "days": "3"})
    assert refused.status_code == 403


async def test_invitation_days_validated(member_factory, login):
    admin = await member_factory("admin")
    c = await login(admin)
    for days in ("0", "91", "abc", "1e9"):
        response = await c.post_form("/admin/invitations", {"role": "resident", "days": days})
        assert response.status_code == 400, days
        assert "1 to 90" in response.text or "whole number" in response.text
