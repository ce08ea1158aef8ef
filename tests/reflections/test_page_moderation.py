"""Moderating from a reflection's own page is the review queue's decision, taken directly: one code path."""

from __future__ import annotations

from sqlalchemy import select

from community.platform.accounts import restrictions
from community.platform.accounts.models import User
from community.platform.anonymity import Anonymity, author_tag
from community.platform.review.models import AuditEntry, Notification, ReviewItem, Sanction
from community.reflections.models import Reflection
from tests.reflections.conftest import write


async def _flagged_anonymous(member_factory, login, reason: str = "concern") -> tuple:
    author, reader = await member_factory(name="Hidden Writer"), await member_factory()
    rid = await write(await login(author), title="Night", body="A long night; I keep thinking about it.",
                      visibility="anonymous")
    flag = await (await login(reader)).post_form(f"/flag/reflection/{rid}", {"reason": reason, "note": "Worried."})
    assert flag.status_code == 303, flag.text[:500]
    return author, rid


async def _items(db, rid: int) -> list[ReviewItem]:
    async with db.transaction() as session:
        return list(await session.scalars(select(ReviewItem).where(ReviewItem.target_kind == "reflection",
                                                                   ReviewItem.target_id == rid)))


async def test_check_in_from_the_page_reaches_the_writer_is_not_a_sanction_and_closes_the_item(
        member_factory, login, db, settings):
    author, rid = await _flagged_anonymous(member_factory, login)
    assert [i.resolved_at for i in await _items(db, rid)] == [None]
    mod = await login(await member_factory("moderator"))
    response = await mod.post_form(f"/reflections/moderate/reflection/{rid}/check-in",
                                   {"message": "Thinking of you tonight."})
    assert response.status_code == 303, response.text[:1000]
    items = await _items(db, rid)
    assert items[0].resolved_at is not None and items[0].decision == "check_in"
    async with db.transaction() as session:
        notes = list(await session.scalars(select(Notification).where(Notification.kind == "check_in")))
        sanctions = list(await session.scalars(select(Sanction).where(Sanction.user_id == author.id)))
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "moderation.check_in")))
        reflection = await session.get(Reflection, rid)
    assert [n.recipient_tag for n in notes] == [author_tag(settings.anon_key, author.id, f"reflection:{rid}")]
    sealed = Anonymity(settings.anon_key)
    assert all(n.user_id is None and "Thinking of you tonight." not in n.text for n in notes)  # sealed
    assert all("Thinking of you tonight." in sealed.unseal(n.text) for n in notes)
    assert sanctions == []
    assert len(entries) == 1 and "Thinking of you" not in (entries[0].reason or "")  # sealed for anonymous work
    assert reflection.state == "visible"


async def test_hide_from_the_page_resolves_open_flags_and_tells_the_flagger(member_factory, login, db):
    _, rid = await _flagged_anonymous(member_factory, login, reason="off_topic")
    mod = await login(await member_factory("moderator"))
    missing = await mod.post_form(f"/reflections/moderate/reflection/{rid}/decide", {"decision": "hide"})
    assert missing.status_code == 400 and "reason" in missing.text.lower()
    response = await mod.post_form(f"/reflections/moderate/reflection/{rid}/decide",
                                   {"decision": "hide", "reason": "Off topic for the wall."})
    assert response.status_code == 303, response.text[:1000]
    items = await _items(db, rid)
    assert items[0].resolved_at is not None and items[0].decision == "hide"
    async with db.transaction() as session:
        thanked = list(await session.scalars(select(Notification.text).where(Notification.text.contains(
            "Thank you for your flag"))))
        actions = set(await session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "reflection")))
    assert thanked and "moderation.hide" in actions


async def test_silence_from_the_page_is_counted_in_days(member_factory, login, db, settings):
    author, rid = await _flagged_anonymous(member_factory, login)
    mod = await login(await member_factory("moderator"))
    no_days = await mod.post_form(f"/reflections/moderate/reflection/{rid}/sanction",
                                  {"sanction": "silence", "reason": "Cooling off."})
    assert no_days.status_code == 400 and "number of days" in no_days.text
    response = await mod.post_form(f"/reflections/moderate/reflection/{rid}/sanction",
                                   {"sanction": "silence", "days": "3", "reason": "Cooling off."})
    assert response.status_code == 303, response.text[:1000]
    async with db.transaction() as session:
        sanctions = list(await session.scalars(select(Sanction).where(Sanction.user_id == author.id)))
        assert (await session.get(User, author.id)).silenced_until is None  # not on the member's row
        silenced = (await restrictions.in_force(session, Anonymity(settings.anon_key), author.id)).silenced_until
    assert sanctions == []  # not on the member's record: see tests/anonymity
    assert silenced is not None and silenced.hour == 0 and silenced.minute == 0  # whole days
