"""F9: revoking an invitation needs the right to create it (moderators cannot revoke staff invitations)."""

from __future__ import annotations

from community.platform.accounts.models import Invitation
from tests.accounts.test_invitations import make_invitation


async def test_a_moderator_cannot_revoke_a_staff_invitation(db, moderator, admin, login):
    mod = await login(moderator)
    for role in ("admin", "moderator"):
        invitation_id, token = await make_invitation(db, role=role)
        response = await mod.post_form(f"/admin/invitations/{invitation_id}/revoke", follow_redirects=True)
        assert "Only admins can revoke" in response.text, role
        async with db.transaction() as session:
            assert (await session.get(Invitation, invitation_id)).revoked_at is None
        assert (await (await login(admin)).post_form(f"/admin/invitations/{invitation_id}/revoke")).status_code == 303
    invitation_id, _ = await make_invitation(db, role="resident")
    assert (await mod.post_form(f"/admin/invitations/{invitation_id}/revoke")).status_code == 303
    async with db.transaction() as session:
        assert (await session.get(Invitation, invitation_id)).revoked_at is not None
