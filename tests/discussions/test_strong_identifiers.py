"""A thread post with a strong identifier (MRN, SSN, phone, email, full date of birth) is never published on the
writer's word: confirmed, it waits, pending, for a moderator; a weaker one is published once confirmed."""

from __future__ import annotations

from sqlalchemy import text

from tests.discussions.conftest import CATEGORY, start_thread


async def _state_and_reasons(db, thread_id: int) -> tuple[str, list[str]]:
    async with db.transaction() as session:
        state = await session.scalar(text("SELECT state FROM posts WHERE thread_id = :t"), {"t": thread_id})
        reasons = await session.scalar(text(
            "SELECT reasons FROM review_items WHERE target_kind = 'post' AND target_id = "
            "(SELECT id FROM posts WHERE thread_id = :t)"), {"t": thread_id})
    return state, list(reasons or [])


async def test_a_strong_identifier_waits_for_a_moderator(member_factory, login, db):
    client = await login(await member_factory())
    body = "Her MRN 00482913 kept showing up on the wrong wristband, and it rattled me."
    first = await client.post_form(f"/c/{CATEGORY}/new", {"title": "Wristbands", "body": body})
    assert first.status_code == 400
    assert "cannot be published on your word" in first.text and 'data-strong="1"' in first.text
    assert "These are not patient identifiers" not in first.text
    thread_id, _ = await start_thread(client, "Wristbands", body, confirm_phi="yes")
    state, reasons = await _state_and_reasons(db, thread_id)
    assert state == "pending" and {"approval", "privacy"} <= set(reasons)
    other = await login(await member_factory())
    assert "00482913" not in (await other.get(f"/t/{thread_id}")).text


async def test_a_weak_identifier_is_published_on_the_writers_word(member_factory, login, db):
    client = await login(await member_factory())
    body = "Mr. Alvarez in bed 4 was scared all night, and so was I."
    first = await client.post_form(f"/c/{CATEGORY}/new", {"title": "Bed 4", "body": body})
    assert first.status_code == 400 and "These are not patient identifiers" in first.text
    thread_id, _ = await start_thread(client, "Bed 4", body, confirm_phi="yes")
    state, reasons = await _state_and_reasons(db, thread_id)
    assert state == "visible" and "privacy" in reasons and "approval" not in reasons
