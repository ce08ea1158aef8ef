"""Mentor conversations and member cards through the real pages: a request the mentor accepts or declines (no
writing before that, nobody else reads it), the publishing pipeline on every message (identifier holds, crisis
items), a flag opening a review item; cards show each field only to whom the member chose."""

from __future__ import annotations

import re

from sqlalchemy import select

from community.mentorship.models import ConversationMessage
from community.platform.review.models import ReviewItem
from tests.mentorship.conftest import make_mentor

CRISIS = "I want to kill myself tonight. The night shift broke something."
IDENTIFIERS = "My patient John Smith, MRN 12345678, was seen on 03/14/2024 in room 12B."


def _conversation_id(response) -> int:
    match = re.search(r"/mentorship/conversations/(\d+)$", response.headers["location"])
    assert match, response.text[:2000]
    return int(match.group(1))


async def test_a_conversation_is_asked_for_accepted_and_private(member_factory, login, db):
    mentor = await member_factory("attending", name="Dr. Sana Iqbal")
    m = await login(mentor)
    await make_mentor(m)
    resident = await member_factory(name="Noor Haddad")
    r = await login(resident)
    cid = _conversation_id(await r.post_form(f"/mentors/{mentor.id}/ask",
                                             {"body": "Could we talk about my first death as an intern?"}))
    # Not open messaging: nothing more until the mentor accepts, and one request per pair.
    response = await r.post_form(f"/mentorship/conversations/{cid}/write", {"body": "Hello again"})
    assert response.status_code == 403
    assert (await r.post_form(f"/mentors/{mentor.id}/ask", {"body": "Another one"})).status_code == 409
    assert "asked you for a written conversation" in (await m.get("/notifications")).text
    assert (await r.post_form(f"/mentorship/conversations/{cid}/answer", {"do": "accept"})).status_code == 403
    assert (await m.post_form(f"/mentorship/conversations/{cid}/answer", {"do": "accept"})).status_code == 303
    assert (await r.post_form(f"/mentorship/conversations/{cid}/write",
                              {"body": "Thank you for saying yes."})).status_code == 303
    page = (await m.get(f"/mentorship/conversations/{cid}")).text
    assert "Thank you for saying yes." in page and "first death as an intern" in page
    for role in ("resident", "moderator", "admin"):
        other = await login(await member_factory(role))
        assert (await other.get(f"/mentorship/conversations/{cid}")).status_code == 404, role
        assert (await other.post_form(f"/mentorship/conversations/{cid}/write", {"body": "x"})).status_code == 404
    # Only listed mentors who take conversations can be asked.
    plain = await member_factory("attending")
    assert (await r.post_form(f"/mentors/{plain.id}/ask", {"body": "Hi"})).status_code == 404
    # A declined request is closed to writing.
    other_mentor = await member_factory("attending")
    om = await login(other_mentor)
    await make_mentor(om)
    cid2 = _conversation_id(await r.post_form(f"/mentors/{other_mentor.id}/ask", {"body": "A question on sleep."}))
    assert (await om.post_form(f"/mentorship/conversations/{cid2}/answer", {"do": "decline"})).status_code == 303
    assert "declined your request" in (await r.get("/notifications")).text
    assert (await r.post_form(f"/mentorship/conversations/{cid2}/write", {"body": "Why?"})).status_code == 403


async def test_messages_run_the_publishing_pipeline_and_flags_open_review_items(member_factory, login, db):
    mentor = await member_factory("attending")
    m = await login(mentor)
    await make_mentor(m)
    r = await login(await member_factory())
    response = await r.post_form(f"/mentors/{mentor.id}/ask", {"body": IDENTIFIERS})
    assert response.status_code == 400 and "Please check for patient details" in response.text
    assert "John Smith" in response.text  # the draft is kept
    cid = _conversation_id(await r.post_form(f"/mentors/{mentor.id}/ask", {"body": CRISIS}))
    assert (await m.post_form(f"/mentorship/conversations/{cid}/answer", {"do": "accept"})).status_code == 303
    for bad in ("", "   ", "x" * 4001):
        response = await m.post_form(f"/mentorship/conversations/{cid}/write", {"body": bad})
        assert response.status_code == 400, bad[:10]
    assert (await m.post_form(f"/mentorship/conversations/{cid}/write",
                              {"body": "Let us talk on Tuesday about your rotations."})).status_code == 303
    async with db.transaction() as session:
        first = (await session.scalars(select(ConversationMessage).order_by(ConversationMessage.id))).first()
        reply = (await session.scalars(select(ConversationMessage).order_by(ConversationMessage.id.desc()))).first()
        crisis = (await session.scalars(select(ReviewItem).where(ReviewItem.target_kind == "mentor_message",
                                                                 ReviewItem.target_id == first.id))).one()
        assert "crisis" in crisis.reasons
    response = await r.post_form(f"/flag/mentor_message/{reply.id}", {"reason": "harassment"})
    assert response.status_code == 303, response.text[:2000]
    async with db.transaction() as session:
        item = (await session.scalars(select(ReviewItem).where(ReviewItem.target_kind == "mentor_message",
                                                               ReviewItem.target_id == reply.id))).one()
        assert "harassment" in item.reasons and item.source == "flag"
    moderator = await login(await member_factory("moderator"))
    review = await moderator.get(f"/review/mentor_message/{reply.id}")
    assert review.status_code == 200 and "about your rotations" in review.text
    outsider = await login(await member_factory())
    assert (await outsider.post_form(f"/flag/mentor_message/{reply.id}", {"reason": "spam"})).status_code in (403, 404)


async def test_a_card_shows_each_field_to_whom_the_member_chose(member_factory, login):
    owner = await member_factory(name="Maya Chen", specialty="Psychiatry", training_year="PGY-2",
                                 pronouns="she/her")
    o = await login(owner)
    resident = await login(await member_factory())
    card = (await resident.get(f"/members/{owner.handle}")).text
    assert "Maya Chen" in card and "Psychiatry" in card and "she/her" in card and "PGY-2" not in card
    moderator = await login(await member_factory("moderator"))
    assert "PGY-2" in (await moderator.get(f"/members/{owner.handle}")).text
    choices = {"role": "nobody", "specialty": "staff", "training_year": "members", "pronouns": "members",
               "handle": "nobody"}
    assert (await o.post_form("/account/card", choices)).status_code == 303
    card = (await resident.get(f"/members/{owner.handle}")).text
    assert "PGY-2" in card and "Psychiatry" not in card and f"@{owner.handle}" not in card
    assert "Psychiatry" in (await moderator.get(f"/members/{owner.handle}")).text
    response = await o.post_form("/account/card", {**choices, "role": "everyone-on-earth"})
    assert response.status_code == 400 and "Choose who sees this." in response.text
    assert (await resident.get("/members/nobody-has-this-handle")).status_code == 404
