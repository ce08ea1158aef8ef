"""Bulk invitations by mail: a pasted list or a CSV, a per-row report of bad rows while the good ones go, the
status of each (queued, sent, failed, accepted, expired, revoked), resend and revoke."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from community.platform.accounts import invitations
from community.platform.accounts.actions import to_viewer
from community.platform.accounts.models import Invitation
from community.platform.mail.models import OutboxMessage
from community.platform.mail.outbox import Outbox
from tests.conftest import PASSWORD

pytestmark = pytest.mark.asyncio


async def all_rows(db):
    async with db.transaction() as session:
        invites = list(await session.scalars(select(Invitation).where(Invitation.email.is_not(None))
                                             .order_by(Invitation.id)))
        mails = {m.id: m for m in await session.scalars(select(OutboxMessage))}
    return invites, mails


async def test_a_pasted_list_mails_each_address_its_own_link(db, member_factory, login):
    coordinator = await member_factory("admin", name="Dr. Rivera")
    client = await login(coordinator)
    response = await client.post_form("/admin/invitations/mail", {
        "addresses": "ana@example.org, ben@example.org\ncara@example.org", "role": "resident",
        "cohort": "IM 2027", "days": "14"})
    assert response.status_code == 201 and "3 invitations queued" in response.text
    invites, mails = await all_rows(db)
    assert [i.email for i in invites] == ["ana@example.org", "ben@example.org", "cara@example.org"]
    links = set()
    for invite in invites:
        mail = mails[invite.outbox_id]
        assert mail.to_addr == invite.email and mail.template == "invitation"
        assert "Dr. Rivera invited you" in mail.text_body and "(IM 2027)" in mail.text_body
        links.add(re.search(r"http://testserver/join/(\S+)", mail.text_body).group(1))
        assert (invite.role, invite.cohort) == ("resident", "IM 2027")
        assert timedelta(days=13) < invite.expires_at - datetime.now(UTC) <= timedelta(days=14)
    assert len(links) == 3
    page = await client.get("/admin/invitations")
    assert page.text.count('class="tag tag-queued"') == 3


async def test_bad_rows_are_listed_with_their_reason_and_good_rows_still_go(db, member_factory, login):
    await member_factory(email="member@example.org")
    moderator = await member_factory("moderator")
    client = await login(moderator)
    csv_text = ("email,role,cohort\n"
                "good1@example.org,resident,IM 2027\n"
                "not-an-address,resident,\n"
                "good2@example.org,wizard,\n"
                "GOOD1@example.org,attending,\n"
                "member@example.org,,\n"
                "boss@example.org,admin,\n"
                "good3@example.org,attending,Peds\n")
    response = await client.post("/admin/invitations/mail", data={
        "csrf_token": client.cookies.get("csrf"), "addresses": "", "role": "resident", "cohort": "", "days": "7"},
        files={"csv": ("cohort.csv", "\ufeff" + csv_text, "text/csv")})
    assert response.status_code == 201
    assert "2 invitations queued" in response.text and "5 rows not sent" in response.text
    table = response.text.split('id="bad-rows"', 1)[1]
    for line, reason in ((3, "does not look like an email address"), (4, "Unknown role &#39;wizard&#39;"),
                         (5, "A duplicate of an address above"), (6, "already belongs to a member"),
                         (7, "Only admins can invite moderators and admins")):
        assert re.search(rf"<td[^>]*>{line}</td>.*?{reason}", table, re.S), (line, reason)
    # The bad rows stay in the box to be corrected; the good ones are not in it.
    box = response.text.split('name="addresses"', 1)[1].split("</textarea>", 1)[0]
    assert "not-an-address" in box and "good1@example.org" not in box
    invites, _ = await all_rows(db)
    assert [(i.email, i.role, i.cohort) for i in invites] == [("good1@example.org", "resident", "IM 2027"),
                                                             ("good3@example.org", "attending", "Peds")]
    again = await client.post_form("/admin/invitations/mail", {"addresses": "good3@example.org", "role": "resident"})
    assert again.status_code == 400 and "open invitation already" in again.text


async def test_nothing_is_written_when_a_row_cannot_be_stored(db, settings, member_factory):
    """All good rows in one transaction: a failure part way leaves no invitation and no mail behind."""
    admin = to_viewer(await member_factory("admin"))
    text = "\n".join(f"person{n}@example.org" for n in range(50))
    with pytest.raises(Exception, match="boom"):
        async with db.transaction() as session:
            await invitations.invite_many(session, Outbox(settings), settings, admin, text=text, role="resident")
            raise RuntimeError("boom")
    async with db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Invitation)) == 0
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


async def test_status_follows_the_mail_and_the_invitation(db, settings, member_factory, login, client):
    admin_member = await member_factory("admin")
    admin = to_viewer(admin_member)
    async with db.transaction() as session:
        await invitations.invite_many(session, Outbox(settings), settings, admin, role="resident",
                                      text="q@example.org\ns@example.org\nf@example.org\na@example.org\n"
                                           "e@example.org\nr@example.org")
    invites, mails = await all_rows(db)
    by_email = {i.email: i for i in invites}
    async with db.transaction() as session:
        for email, status in (("s@example.org", "sent"), ("f@example.org", "dead")):
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == by_email[email].outbox_id)
                                  .values(status=status))
        await session.execute(update(Invitation).where(Invitation.email == "e@example.org")
                              .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        await session.execute(update(Invitation).where(Invitation.email == "r@example.org")
                              .values(revoked_at=datetime.now(UTC)))
    token = re.search(r"/join/(\S+)", mails[by_email["a@example.org"].outbox_id].text_body).group(1)
    signup = await client.get(f"/join/{token}")
    assert 'value="a@example.org"' in signup.text  # the address it was sent to, filled in
    joined = await client.post_form(f"/join/{token}", {"display_name": "Ari", "email": "a@example.org",
                                                       "password": PASSWORD, "accept": "yes"})
    assert joined.status_code == 303
    async with db.transaction() as session:
        listed = await session.scalars(select(Invitation).where(Invitation.email.is_not(None)))
        listed = list(listed)
        statuses = await invitations.mail_statuses(session, listed)
    states = {i.email: invitations.delivery_state(i, statuses.get(i.id)) for i in listed}
    assert states == {"q@example.org": "queued", "s@example.org": "sent", "f@example.org": "failed",
                      "a@example.org": "accepted", "e@example.org": "expired", "r@example.org": "revoked"}
    page = await (await login(admin_member)).get("/admin/invitations")
    for state in ("queued", "sent", "failed", "accepted", "expired", "revoked"):
        assert f'class="tag tag-{state}"' in page.text


async def test_resend_makes_a_new_link_and_revoke_stops_it(db, settings, member_factory, login, make_client):
    admin = await member_factory("admin")
    client = await login(admin)
    await client.post_form("/admin/invitations/mail", {"addresses": "late@example.org", "role": "attending"})
    [invite], mails = await all_rows(db)
    old_token = re.search(r"/join/(\S+)", mails[invite.outbox_id].text_body).group(1)
    response = await client.post_form(f"/admin/invitations/{invite.id}/resend")
    assert response.status_code == 303
    [invite], mails = await all_rows(db)
    assert len(mails) == 2
    new_token = re.search(r"/join/(\S+)", mails[invite.outbox_id].text_body).group(1)
    assert new_token != old_token
    stranger = make_client()
    assert (await stranger.get(f"/join/{old_token}")).status_code == 404
    assert (await stranger.get(f"/join/{new_token}")).status_code == 200
    assert (await client.post_form(f"/admin/invitations/{invite.id}/revoke")).status_code == 303
    assert (await stranger.get(f"/join/{new_token}")).status_code == 400
    refused = await client.post_form(f"/admin/invitations/{invite.id}/resend", follow_redirects=True)
    assert "revoked; it cannot be sent again" in refused.text


async def test_an_empty_or_oversized_paste_is_a_field_message(member_factory, login):
    client = await login(await member_factory("admin"))
    empty = await client.post_form("/admin/invitations/mail", {"addresses": "  \n ", "role": "resident"})
    assert empty.status_code == 400 and "Paste at least one address" in empty.text
    many = "\n".join(f"p{n}@example.org" for n in range(1001))
    big = await client.post_form("/admin/invitations/mail", {"addresses": many, "role": "resident"})
    assert big.status_code == 400 and "At most 1,000 rows" in big.text
    residents_only = await client.post_form("/admin/invitations/mail", {"addresses": "x@example.org", "role": "chef"})
    assert residents_only.status_code == 400


async def test_moderators_may_not_give_staff_roles_by_default_role(member_factory, login):
    client = await login(await member_factory("moderator"))
    page = await client.get("/admin/invitations/mail")
    assert page.status_code == 200 and '<option value="attending"' in page.text
    assert '<option value="admin"' not in page.text
    refused = await client.post_form("/admin/invitations/mail", {"addresses": "x@example.org", "role": "admin"})
    assert refused.status_code == 400 and "Only admins can invite" in refused.text
    resident = await login(await member_factory("resident"))
    assert (await resident.get("/admin/invitations/mail")).status_code == 403
