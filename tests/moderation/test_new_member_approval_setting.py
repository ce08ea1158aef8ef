"""New-member approval as an admin setting (review.approval): set on /admin/settings (with a reason, audited),
it holds a new member's shared pieces on every surface that can wait (thread posts, reflections shared on the
wall, anonymous ones included, replies to reflections) until they have shared N under their name. Bad input is a 400 that keeps the form."""

from __future__ import annotations

from sqlalchemy import select

from community.discussions.models import Thread
from community.platform.review.models import AuditEntry, MemberStanding, ReviewItem
from community.reflections.models import Reflection, ReflectionReply
from tests.discussions.conftest import start_thread
from tests.reflections.conftest import write


async def _set(client, posts, reason="Spring intake"):
    return await client.post_form("/admin/settings", {"posts": posts, "reason": reason})


async def test_the_setting_is_validated_and_audited(admin, login, db):
    adm = await login(admin)
    page = await adm.get("/admin/settings")
    assert page.status_code == 200 and "New-member approval" in page.text
    for bad in ("", "-1", "51", "٣", "two", "1" * 40):
        response = await _set(adm, bad)
        assert response.status_code == 400 and "whole number" in response.text, bad
    no_reason = await _set(adm, "2", reason="")
    assert no_reason.status_code == 400 and "reason" in no_reason.text.lower()
    assert (await _set(adm, "2")).status_code == 303
    assert 'value="2"' in (await adm.get("/admin/settings")).text
    async with db.transaction() as session:
        entry = (await session.scalars(select(AuditEntry).where(
            AuditEntry.action == "settings.new_member_approval").order_by(AuditEntry.id.desc()))).first()
    assert entry.details == {"posts": 2} and entry.reason == "Spring intake"


async def test_it_holds_a_new_members_pieces_on_every_shared_surface(admin, member_factory, login, db):
    adm = await login(admin)
    newcomer_user = await member_factory("resident")
    newcomer = await login(newcomer_user)
    reader = await login(await member_factory("attending"))
    shared = await write(reader, body="A reader's piece to reply to.", visibility="named")  # before the rule
    assert (await _set(adm, "3")).status_code == 303

    thread_id, _ = await start_thread(newcomer, "A first thread", "Hello, I am new here.")
    anonymous = await write(newcomer, body="An anonymous first piece for the wall.", visibility="anonymous")
    replied = await newcomer.post_form(f"/reflections/{shared}/replies", {"body": "A first reply, held."})
    assert replied.status_code == 303
    async with db.transaction() as session:
        assert await session.scalar(select(Thread.state).where(Thread.id == thread_id)) == "pending"
        assert (await session.get(Reflection, anonymous)).state == "hidden"
        reply = (await session.scalars(select(ReflectionReply).where(
            ReflectionReply.body == "A first reply, held."))).one()
        assert reply.state == "hidden"
        items = {(i.target_kind, i.source) for i in await session.scalars(select(ReviewItem).where(
            ReviewItem.resolved_at.is_(None), ReviewItem.target_id.in_([anonymous, reply.id]),
            ReviewItem.target_kind.in_(["reflection", "reflection_reply"])))}
    assert ("reflection", "approval") in items and ("reflection_reply", "approval") in items
    assert "An anonymous first piece" not in (await reader.get("/reflections")).text

    # Anonymous pieces are not counted (a count by member would say who writes anonymously): the member stays new
    # until three signed pieces, and then their writing, anonymous pieces included, is published at once.
    still_new = await write(newcomer, body="Still new: waits.", visibility="anonymous")
    await start_thread(newcomer, "A second thread", "Signed, and held.")
    async with db.transaction() as session:
        assert (await session.get(Reflection, still_new)).state == "hidden"
        standing = await session.scalar(select(MemberStanding.shared).where(MemberStanding.user_id == newcomer_user.id))
    assert standing == 3  # the thread, the reply, the second thread: signed only
    fourth = await write(newcomer, body="A piece, published at once.", visibility="anonymous")
    signed, _ = await start_thread(newcomer, "A fourth signed piece", "Published at once.")
    async with db.transaction() as session:
        assert (await session.get(Reflection, fourth)).state == "visible"
        assert await session.scalar(select(Thread.state).where(Thread.id == signed)) == "visible"
    # Private writing never counts and never waits.
    private = await write(newcomer, body="Only for me.", visibility="private")
    async with db.transaction() as session:
        assert (await session.get(Reflection, private)).state == "visible"


async def test_off_by_default_and_after_an_admin_turns_it_off(admin, member_factory, login, db):
    adm = await login(admin)
    newcomer = await login(await member_factory("resident"))
    thread_id, _ = await start_thread(newcomer, "Straight through", "Nothing waits by default.")
    assert (await _set(adm, "5")).status_code == 303
    assert (await _set(adm, "0")).status_code == 303
    later = await write(newcomer, body="Off again: published.", visibility="anonymous")
    async with db.transaction() as session:
        assert await session.scalar(select(Thread.state).where(Thread.id == thread_id)) == "visible"
        assert (await session.get(Reflection, later)).state == "visible"
