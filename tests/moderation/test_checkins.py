"""Check-ins are private two-way conversations: the writer answers and can close; nobody else reads them; an
anonymous writer takes part under the piece's pseudonym and is never unmasked on any page."""

from __future__ import annotations

import re

from sqlalchemy import select, text

from community.platform.review.models import Checkin, CheckinMessage, Notification
from tests.conftest import PASSWORD
from tests.discussions.conftest import post_ids, start_thread
from tests.reflections.conftest import write

NAME, EMAIL = "Zephyrine Quillfeather", "zq.writer@example.org"
CONVERSATION = re.compile(r'href="/notifications/(\d+)"')


async def _open_from_notifications(client) -> str:
    """The writer's way in: the newest notification's link, followed."""
    page = await client.get("/notifications")
    note_id = CONVERSATION.search(page.text).group(1)
    location = (await client.get(f"/notifications/{note_id}")).headers["location"]
    assert location.startswith("/checkins/"), location
    return location


async def test_a_named_writer_answers_a_check_in_and_closes_it(member_factory, moderator, login, db):
    author = await member_factory(name="Named Writer")
    writer = await login(author)
    thread_id, _ = await start_thread(writer, "Nights", "Three nights in a row; I am running on empty.")
    post_id = (await post_ids(db, thread_id))[0]
    mod = await login(moderator)
    decided = await mod.post_form(f"/review/post/{post_id}/decide",
                                  {"action": "check_in", "reason": "How are you holding up after those nights?"})
    assert decided.status_code == 303
    url = await _open_from_notifications(writer)
    page = await writer.get(url)
    assert "How are you holding up after those nights?" in page.text and "Only you and the moderator" in page.text
    sent = await writer.post_form(f"{url}/reply", {"body": "Tired, but better after sleeping. Thank you."})
    assert sent.status_code == 303
    seen = await mod.get(url)
    assert "Tired, but better after sleeping." in seen.text and "Named Writer" in seen.text
    async with db.transaction() as session:
        told = list(await session.scalars(select(Notification.text).where(Notification.user_id == moderator.id,
                                                                          Notification.kind == "conversation")))
    assert told == ["Named Writer replied in your conversation about Thread “Nights”."]
    for outsider in (await member_factory("resident"), await member_factory("moderator"), await member_factory("admin")):
        assert (await (await login(outsider)).get(url)).status_code == 404
    assert (await writer.post_form(f"{url}/close")).status_code == 303
    late = await writer.post_form(f"{url}/reply", {"body": "One more thing."})
    assert late.status_code == 400 and "closed" in late.text and "One more thing." in late.text
    assert "closed by you" in (await writer.get(url)).text
    assert "closed by Named Writer" in (await mod.get(url)).text


async def test_an_anonymous_writer_answers_under_their_pseudonym_and_is_never_named(member_factory, moderator, login,
                                                                                   db):
    author = await member_factory(name=NAME, email=EMAIL)
    writer = await login(author)
    rid = await write(writer, title="Stairwell", body="I cried in the stairwell after the code.",
                      visibility="anonymous")
    mod = await login(moderator)
    opened = await mod.post_form(f"/reflections/moderate/reflection/{rid}/check-in",
                                 {"message": "Thinking of you. How are you today?"})
    assert opened.status_code == 303
    url = await _open_from_notifications(writer)
    mine = await writer.get(url)
    assert "Thinking of you." in mine.text and "the moderator does not know who you are" in mine.text
    assert (await writer.post_form(f"{url}/reply", {"body": "Better today, thank you for asking."})).status_code == 303
    seen = await mod.get(url)
    assert "Better today, thank you for asking." in seen.text and "Anonymous" in seen.text
    async with db.transaction() as session:
        checkin = (await session.scalars(select(Checkin))).one()
        messages = list(await session.scalars(select(CheckinMessage).order_by(CheckinMessage.id)))
        notes = list(await session.scalars(select(Notification.text).where(Notification.user_id == moderator.id)))
        tags = set(await session.scalars(text("SELECT author_tag FROM reflections WHERE author_tag IS NOT NULL")))
    assert checkin.writer_id is None and checkin.writer_tag not in tags  # a tag of its own: links no other piece
    reply_time = messages[-1].created_at
    assert (reply_time.hour, reply_time.minute, reply_time.second) == (0, 0, 0)  # the day only
    pages = [seen.text] + [(await mod.get(path)).text for path in ("/review", "/notifications", f"/reflections/{rid}")]
    for shown in [*pages, *notes]:
        for secret in (NAME, EMAIL, author.handle, f"/u/{author.handle}"):
            assert secret not in shown
    assert (await writer.post_form(f"{url}/close")).status_code == 303
    assert "closed by Anonymous" in (await mod.get(url)).text


async def test_a_silence_comes_with_a_conversation_the_writer_can_answer(member_factory, moderator, login, db):
    author = await member_factory(name="Silenced Writer")
    writer = await login(author)
    thread_id, _ = await start_thread(writer, "Heated", "A sharp post.")
    post_id = (await post_ids(db, thread_id))[0]
    mod = await login(moderator)
    decided = await mod.post_form(f"/review/post/{post_id}/decide",
                                  {"action": "silence", "hours": "24", "reason": "Let us cool off for a day."})
    assert decided.status_code == 303
    refused = await writer.post_form(f"/t/{thread_id}/reply", {"body": "But I disagree."})
    assert "answer the moderator" in refused.text and "private conversation you can reply to" in refused.text
    url = await _open_from_notifications(writer)
    answered = await writer.post_form(f"{url}/reply", {"body": "I think this was a misunderstanding."})
    assert answered.status_code == 303
    assert "I think this was a misunderstanding." in (await mod.get(url)).text


async def test_an_empty_or_too_long_reply_keeps_the_draft(member_factory, moderator, login, db):
    author = await member_factory()
    writer = await login(author)
    thread_id, _ = await start_thread(writer, "Drafts", "Opening.")
    post_id = (await post_ids(db, thread_id))[0]
    await (await login(moderator)).post_form(f"/review/post/{post_id}/decide",
                                             {"action": "check_in", "reason": "Checking in."})
    url = await _open_from_notifications(writer)
    empty = await writer.post_form(f"{url}/reply", {"body": "   "})
    assert empty.status_code == 400 and "Please write your message." in empty.text
    long = "word " * 1000
    too_long = await writer.post_form(f"{url}/reply", {"body": long})
    assert too_long.status_code == 400 and "at most 4,000 characters" in too_long.text and long.strip() in too_long.text


async def test_a_silence_over_anonymous_writing_opens_a_conversation_without_naming_them(member_factory, moderator,
                                                                                          login, db):
    author = await member_factory(name=NAME, email=EMAIL)
    writer = await login(author)
    rid = await write(writer, title="Angry", body="A sharp piece about the rota.", visibility="anonymous")
    mod = await login(moderator)
    decided = await mod.post_form(f"/reflections/moderate/reflection/{rid}/sanction",
                                  {"sanction": "silence", "days": "2", "reason": "A pause, then let us talk."})
    assert decided.status_code == 303
    thread_reply = await writer.post_form("/c/empathy-vs-compassion/new", {"title": "T", "body": "B"})
    assert "answer the moderator" in thread_reply.text
    url = await _open_from_notifications(writer)
    assert (await writer.post_form(f"{url}/reply", {"body": "Understood. It was a bad week."})).status_code == 303
    seen = (await mod.get(url)).text
    assert "Understood. It was a bad week." in seen and "A pause, then let us talk." in seen
    for secret in (NAME, EMAIL, author.handle):
        assert secret not in seen
    async with db.transaction() as session:
        checkin = (await session.scalars(select(Checkin))).one()
    assert checkin.reason == "silence" and checkin.writer_id is None and checkin.writer_tag


async def test_a_writers_conversations_are_in_their_download_and_go_with_their_account(member_factory, moderator,
                                                                                       login, db):
    author = await member_factory(name=NAME, email=EMAIL)
    writer = await login(author)
    rid = await write(writer, title="Stairwell", body="I cried in the stairwell.", visibility="anonymous")
    thread_id, _ = await start_thread(writer, "Nights", "Running on empty.")
    post_id = (await post_ids(db, thread_id))[0]
    mod = await login(moderator)
    await mod.post_form(f"/reflections/moderate/reflection/{rid}/check-in", {"message": "Thinking of you."})
    await mod.post_form(f"/review/post/{post_id}/decide", {"action": "check_in", "reason": "How are the nights?"})
    other = await login(await member_factory())
    other_thread, _ = await start_thread(other, "Elsewhere", "Someone else's post.")
    await mod.post_form(f"/review/post/{(await post_ids(db, other_thread))[0]}/decide",
                        {"action": "check_in", "reason": "Not for the writer above."})
    exported = (await writer.get("/account/data/export.json")).json()["conversations_with_moderators"]
    assert [[m["text"] for m in c["messages"]] for c in exported] == [["Thinking of you."], ["How are the nights?"]]
    done = await writer.post_form("/account/data/delete", {"choice": "remove", "password": PASSWORD})
    assert done.status_code == 303
    async with db.transaction() as session:
        left = [c.title for c in await session.scalars(select(Checkin))]
    assert left == ["Thread “Elsewhere”"]
