"""Issue 14, findings 2 and 4: what a decision about anonymous writing, or reading one's notifications, writes
beside the member's own rows.

- A silence or suspension over anonymous writing is not on the member's row (an admin would see who was
  sanctioned) and shares no transaction with anything about the member (a database copy would match `xmin`).
- "Mark all as read" writes nothing onto the rows addressed to the member's tag; their texts are sealed.
Each test fails on the code before the change.
"""

from __future__ import annotations

from datetime import UTC, time, timedelta

from sqlalchemy import select, text, update

from community.platform.accounts.models import AnonRestriction, User
from community.platform.anonymity import Anonymity
from community.platform.notify import notifications
from community.platform.review.models import AuditEntry, Notification
from tests.conftest import PASSWORD
from tests.reflections.conftest import write

# Columns that name a member, in any table.
PEOPLE_COLUMNS = ("user_id", "author_id", "actor_id", "created_by", "requested_by", "decided_by", "member_id")


async def _rows_of_transaction(db, xmin: str) -> list[tuple[str, dict]]:
    """Every current row, in every table, written by the transaction `xmin`."""
    async with db.transaction() as session:
        tables = list(await session.scalars(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE'")))
        found = []
        for table in tables:
            rows = await session.execute(text(f'SELECT to_jsonb(t) FROM "{table}" t WHERE t.xmin::text = :x'),
                                         {"x": xmin})
            found.extend((table, row) for (row,) in rows)
    return found


async def _decide(client, rid: int, data: dict) -> None:
    response = await client.post_form(f"/review/reflection/{rid}/decide", data)
    assert response.status_code == 303, response.text[:1000]


async def _sign_in(make_client, user):
    client = make_client()
    await client.ensure_csrf()
    return await client.post_form("/signin", {"email": user.email, "password": PASSWORD})


async def test_a_suspension_over_anonymous_writing_holds_without_touching_the_member(
        member_factory, login, make_client, db, settings):
    author = await member_factory(name="Quiet Writer")
    me = await login(author)
    rid = await write(me, title="After the code", body="I keep replaying the code from last night.",
                      visibility="anonymous")
    admin = await login(await member_factory("admin", name="Program Director"))
    await _decide(admin, rid, {"action": "suspend", "days": "3", "reason": "Distinctive suspension words"})

    # It holds: the open session is refused, and signing in says why.
    assert (await me.get("/journal")).status_code == 303
    refused = await _sign_in(make_client, author)
    assert refused.status_code == 403 and "suspended" in refused.text
    assert "Distinctive suspension words" in refused.text

    # An admin's member pages do not show who was suspended (finding 2).
    listed = await admin.get("/admin/members?status=suspended")
    assert listed.status_code == 200 and "Quiet Writer" not in listed.text
    page = await admin.get(f"/admin/members/{author.id}")
    assert "Distinctive suspension words" not in page.text and "Suspended" not in page.text

    # A database copy: the decision's transaction wrote nothing that names the member (finding 4).
    async with db.transaction() as session:
        entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "moderation.suspend"))).one()
        xmin = await session.scalar(text("SELECT xmin::text FROM audit_log WHERE id = :id"), {"id": entry.id})
        user = await session.get(User, author.id)
        restriction = (await session.scalars(select(AnonRestriction))).one()
    assert user.suspended_at is None and user.suspended_reason is None
    assert restriction.until.astimezone(UTC).time() == time(0, 0) and "Distinctive" not in restriction.sealed_reason
    for table, row in await _rows_of_transaction(db, xmin):
        assert not (table == "users" and row["id"] == author.id), row
        assert not any(row.get(column) == author.id for column in PEOPLE_COLUMNS), (table, row)
        assert "Quiet Writer" not in str(row) and author.email not in str(row), (table, row)

    # It ends by its date: then the member signs in again.
    async with db.transaction() as session:
        await session.execute(update(AnonRestriction).values(until=restriction.until - timedelta(days=10)))
    assert (await _sign_in(make_client, author)).status_code == 303


async def test_a_silence_over_anonymous_writing_pauses_posting_without_touching_the_member(
        member_factory, login, db):
    author = await member_factory(name="Paused Writer")
    me = await login(author)
    rid = await write(me, body="Some nights I wonder why I chose this.", visibility="anonymous")
    mod = await login(await member_factory("moderator"))
    await _decide(mod, rid, {"action": "silence", "hours": "5", "reason": "A pause, gently."})
    # The member's posting is paused, on their next request...
    draft = {"title": "", "body": "Trying to write again tonight.", "visibility": "anonymous", "theme": ""}
    refused = await me.post_form("/reflections/new", draft)
    assert refused.status_code == 403, refused.text[:500]
    assert "paused your posting" in refused.text
    assert "Trying to write again tonight." in refused.text  # the draft is kept
    # The private journal stays open.
    assert (await me.post_form("/reflections/new", {**draft, "visibility": "private"})).status_code == 303
    # ...while nothing on their row says so, to an admin or to a copy of the database.
    async with db.transaction() as session:
        user = await session.get(User, author.id)
    assert user.silenced_until is None
    admin = await login(await member_factory("admin"))
    assert "A pause, gently." not in (await admin.get(f"/admin/members/{author.id}")).text


async def test_mark_all_read_leaves_the_tag_addressed_rows_alone(member_factory, login, db, settings):
    author = await member_factory(name="Reading Writer")
    me = await login(author)
    rid = await write(me, title="Night float", body="The pager went off every hour.", visibility="anonymous")
    reader = await login(await member_factory())
    reply = await reader.post_form(f"/reflections/{rid}/replies", {"body": "That sounds exhausting. I am here."})
    assert reply.status_code == 303
    async with db.transaction() as session:
        await notifications.notify(session, user_id=author.id, kind="reply", text="Someone replied to your post.")
    page = await me.get("/notifications")
    assert "Someone replied to your anonymous reflection" in page.text and "Someone replied to your post." in page.text
    assert 'aria-label="2 unread"' in page.text
    async with db.transaction() as session:
        tagged = (await session.scalars(select(Notification).where(Notification.recipient_tag.isnot(None)))).one()
    assert "replied" not in tagged.text  # sealed in the table

    assert (await me.post_form("/notifications/read", {})).status_code == 303
    async with db.transaction() as session:
        rows = {n.id: n for n in await session.scalars(select(Notification))}
        xmins = dict((await session.execute(text("SELECT id, xmin::text FROM notifications"))).all())
        upto = await session.scalar(select(User.anon_read_upto).where(User.id == author.id))
    mine = [n for n in rows.values() if n.user_id == author.id]
    assert mine and all(n.read_at is not None for n in mine)
    assert rows[tagged.id].read_at is None and xmins[tagged.id] not in {xmins[n.id] for n in mine}
    assert upto >= tagged.id
    page = await me.get("/notifications")
    assert "Unread:" not in page.text and "unread\"" not in page.text

    # A new one is unread; opening it marks it read to the day only.
    second = await reader.post_form(f"/reflections/{rid}/replies", {"body": "Thinking of you after nights."})
    assert second.status_code == 303
    async with db.transaction() as session:
        newest = (await session.scalars(select(Notification).where(Notification.recipient_tag.isnot(None))
                                        .order_by(Notification.id.desc()))).first()
    assert 'aria-label="1 unread"' in (await me.get("/notifications")).text
    assert (await me.get(f"/notifications/{newest.id}")).status_code in (302, 303, 307)
    async with db.transaction() as session:
        opened = await session.get(Notification, newest.id)
    assert opened.read_at is not None and opened.read_at.astimezone(UTC).time() == time(0, 0)
    assert Anonymity(settings.anon_key).unseal(opened.text).startswith("Someone replied")


async def test_staff_see_that_an_anonymous_writer_is_restricted_and_can_lift_it(member_factory, login, make_client,
                                                                                db):
    author = await member_factory(name="Lifted Writer")
    me = await login(author)
    rid = await write(me, body="I said something I regret to a nurse today.", visibility="anonymous")
    mod = await login(await member_factory("moderator"))
    await _decide(mod, rid, {"action": "silence", "hours": "24", "reason": "A short pause."})
    page = await mod.get(f"/review/reflection/{rid}")
    assert "Its writer is restricted" in page.text and "paused from posting" in page.text
    assert "Lifted Writer" not in page.text and author.handle not in page.text
    await _decide(mod, rid, {"action": "lift", "reason": "That was too much; sorry."})
    assert "Its writer is restricted" not in (await mod.get(f"/review/reflection/{rid}")).text
    assert (await me.post_form("/reflections/new", {"title": "", "body": "Back again, gently.",
                                                    "visibility": "anonymous", "theme": ""})).status_code == 303
    nothing = await mod.post_form(f"/review/reflection/{rid}/decide", {"action": "lift", "reason": ""})
    assert nothing.status_code == 400 and "Nothing that followed from this piece" in nothing.text

    admin = await login(await member_factory("admin"))
    await _decide(admin, rid, {"action": "suspend", "days": "7", "reason": "Until we talk."})
    refused = await mod.post_form(f"/review/reflection/{rid}/decide", {"action": "lift", "reason": ""})
    assert refused.status_code == 403 and "Only an admin can lift a suspension" in refused.text
    await _decide(admin, rid, {"action": "lift", "reason": ""})
    assert (await _sign_in(make_client, author)).status_code == 303
    async with db.transaction() as session:
        assert list(await session.scalars(select(AnonRestriction))) == []
        lifted = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "moderation.lift")))
    assert len(lifted) == 2 and all(e.target_id == str(rid) and "member_id" not in e.details for e in lifted)
