"""The outbox: messages rendered from their templates into a row in the caller's transaction."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError
from sqlalchemy import select

from community.platform.mail.models import OutboxMessage
from community.platform.mail.outbox import Mail, Outbox
from community.settings import Settings

pytestmark = pytest.mark.asyncio


async def test_a_message_is_a_row_in_the_same_transaction(db, settings):
    outbox = Outbox(settings)
    async with db.transaction() as session:
        first = await outbox.enqueue(session, to="ana@example.org", template="test",
                                     context={"sender": "Ana", "note": "hello"})
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await outbox.enqueue(session, to="ben@example.org", template="test", context={"sender": "Ben", "note": ""})
            raise RuntimeError("the event failed")
    async with db.transaction() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(r.id, r.to_addr, r.status, r.attempts) for r in rows] == [(first, "ana@example.org", "queued", 0)]
    assert rows[0].subject == "A test message from Compassionate Practice: hello"
    assert rows[0].message_id.startswith("<") and rows[0].message_id.endswith("@localhost>")


async def test_every_message_has_both_parts_and_crisis_resources_in_its_footer(settings):
    resources = (("Samaritans", "Call 116 123, any time.", "tel:116123"),)
    row = Outbox(settings.with_(crisis_resources=resources)).render(
        Mail("a@example.org", "invitation", {"inviter": "Dr. <b>Lee</b>", "role_phrase": "a resident",
                                             "cohort": "IM 2027", "expires": "1 May", "join_url": "http://x/join/t"}))
    for body in (row["text_body"], row["html_body"]):
        assert "Samaritans" in body and "Call 116 123, any time." in body and "http://x/join/t" in body
    assert 'href="tel:116123"' in row["html_body"]
    assert "Dr. &lt;b&gt;Lee&lt;/b&gt;" in row["html_body"]  # HTML is escaped; the text part is plain
    assert "Dr. <b>Lee</b>" in row["text_body"]
    assert row["headers"] == {}  # transactional mail: nothing to unsubscribe from


async def test_unsubscribe_headers_follow_rfc_8058(settings):
    row = Outbox(settings).render(Mail("a@example.org", "test", {"sender": "A", "note": ""},
                                       unsubscribe_url="http://testserver/unsubscribe/tok"))
    assert row["headers"] == {"List-Unsubscribe": "<http://testserver/unsubscribe/tok>",
                              "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    assert "http://testserver/unsubscribe/tok" in row["text_body"] and "Stop this kind of email" in row["html_body"]


async def test_a_missing_template_value_fails_loudly(settings):
    with pytest.raises(UndefinedError):
        Outbox(settings).render(Mail("a@example.org", "test", {"note": "no sender given"}))


async def test_message_ids_use_the_from_domain_and_never_repeat():
    outbox = Outbox(Settings(mail_from="Community <hello@mail.example.org>"))
    ids = {outbox.render(Mail("a@example.org", "test", {"sender": "A", "note": ""}))["message_id"]
           for _ in range(200)}
    assert len(ids) == 200 and all(i.endswith("@mail.example.org>") for i in ids)
