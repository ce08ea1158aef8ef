"""Notification email: choices per kind, "at once" after a delay and only for what is still unread, digests
grouped by thread, unsubscribe without a session (one-click too), and nothing about anonymous writing that could
point at it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from community.platform.accounts import scopes
from community.platform.anonymity import Anonymity
from community.platform.mail import digests, preferences
from community.platform.mail.models import MailDigestState, OutboxMessage
from community.platform.mail.outbox import Outbox
from community.platform.review.models import Notification
from tests.discussions.conftest import reply_to, start_thread

pytestmark = pytest.mark.asyncio


async def run(db, settings, *, minutes: float = 6, days: float = 0):
    """A pass of the job as if `minutes` (and `days`) had gone by since the notifications were written."""
    now = datetime.now(UTC) + timedelta(minutes=minutes, days=days)
    async with db.transaction() as session:
        return await digests.run(session, Outbox(settings), Anonymity(settings.anon_key), settings, now)


async def mails(db, to: str | None = None) -> list[OutboxMessage]:
    async with db.transaction() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if to:
            query = query.where(OutboxMessage.to_addr == to)
        return list(await session.scalars(query))


async def note(db, *, user_id=None, tag=None, kind="mention", text="Sam mentioned you in “Night float”.",
               url="/p/1", read=False):
    async with db.transaction() as session:
        await session.execute(insert(Notification).values(
            user_id=user_id, recipient_tag=tag, kind=kind, text=text, url=url,
            read_at=datetime.now(UTC) if read else None))


async def start(db, settings):
    """The first pass only starts every member's cursors: nobody gets their history."""
    await run(db, settings)


async def test_at_once_waits_and_skips_what_was_read(db, settings, member_factory):
    ana = await member_factory(email="ana@example.org")
    await note(db, user_id=ana.id)  # an old, unread notification: never mailed
    await start(db, settings)
    await note(db, user_id=ana.id, text="Sam mentioned you in “Night float”.")
    await note(db, user_id=ana.id, text="Lee mentioned you in “Role models”.", read=True)  # seen in the app
    assert (await run(db, settings, minutes=1))["immediate"] == 0  # too fresh: the member may still see it
    assert (await run(db, settings, minutes=6))["immediate"] == 1
    [mail] = await mails(db, "ana@example.org")
    assert mail.template == "notify_immediate" and mail.subject == "Sam mentioned you in “Night float”."
    assert "Role models" not in mail.text_body and "http://testserver/p/1" in mail.text_body
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (await run(db, settings, minutes=7))["immediate"] == 0  # never twice


async def test_the_daily_digest_groups_by_thread_and_respects_choices(db, settings, member_factory):
    ben = await member_factory(email="ben@example.org")
    await start(db, settings)
    async with db.transaction() as session:
        await preferences.save(session, ben.id, {"mentions": "weekly", "outcomes": "off"})
    for n in range(12):
        await note(db, user_id=ben.id, kind="reply", text=f"Someone {n} replied in “Scripted empathy”.", url=f"/p/{n}")
    await note(db, user_id=ben.id, kind="mention", text="Dana mentioned you in “Time”.")
    await note(db, user_id=ben.id, kind="moderation", text="Your flag was upheld.")
    assert (await run(db, settings, minutes=6))["daily"] == 0  # the first digest is a day after the start
    counts = await run(db, settings, days=1.01)
    assert counts["daily"] == 1 and counts["weekly"] == 0
    [digest] = await mails(db, "ben@example.org")
    assert digest.subject == "Your daily digest from Compassionate Practice"  # no count: see mail.digests
    # Without thread targets each reply is its own line here; grouping by thread is checked below.
    assert "Dana mentioned you" not in digest.text_body and "Your flag was upheld" not in digest.text_body
    weekly = await run(db, settings, days=7.1)
    assert weekly["weekly"] == 1
    assert "Dana mentioned you in “Time”." in (await mails(db, "ben@example.org"))[-1].text_body


async def test_replies_in_one_thread_are_one_digest_line(db, settings, member_factory, login):
    author = await member_factory(email="author@example.org")
    replier = await member_factory(name="Sam Okafor")
    thread_id, _ = await start_thread(await login(author), title="Sitting with a family",
                                      body="What helped you stay present?")
    await start(db, settings)
    other = await login(replier)
    for n in range(3):
        await reply_to(other, thread_id, body=f"Reply number {n}, with care.")
    await run(db, settings, days=1.01)
    [digest] = await mails(db, "author@example.org")
    # The three replies are one grouped notification (issue 16), one line naming who replied and how many.
    assert "Sam Okafor replied in “Sitting with a family” (3 new)" in digest.text_body
    assert "What helped you" not in digest.text_body and "with care" not in digest.text_body  # titles only


async def test_anonymous_writing_is_never_mailed_at_once_and_never_named(db, settings, member_factory):
    writer = await member_factory(email="writer@example.org")
    anonymity = Anonymity(settings.anon_key)
    tag = anonymity.tag(writer.id, "reflection:77")  # the scope of one anonymous piece, in the writer's keyring
    async with db.transaction() as session:
        await scopes.enrol(session, anonymity, writer.id, tag)
    await start(db, settings)
    async with db.transaction() as session:
        await preferences.save(session, writer.id, {"replies": "immediately", "outcomes": "immediately"})
    await note(db, tag=tag, kind="reflection_reply", url="/reflections/77#reply-5",
               text="Someone replied to your anonymous reflection “The 3 a.m. code”.")
    await note(db, tag=tag, kind="moderation", url="/reflections/77",
               text="A moderator hid your reflection “The 3 a.m. code”.")
    assert (await run(db, settings, minutes=6))["immediate"] == 0
    assert await run(db, settings, days=1.01) == {"immediate": 0, "daily": 1, "weekly": 0}
    [digest] = await mails(db, "writer@example.org")
    for part in (digest.subject, digest.text_body, digest.html_body):
        assert "3 a.m." not in part and "/reflections/77" not in part
    assert "A new reply to your reflection" in digest.text_body
    assert "An update about your anonymous writing" in digest.text_body
    assert "http://testserver/notifications" in digest.text_body


async def test_unsubscribe_without_a_session_changes_only_that_kind(db, settings, member_factory, client):
    cara = await member_factory(email="cara@example.org")
    token = preferences.unsubscribe_token(settings.secret_key, cara.id, "mentions")
    page = await client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200 and "Stop it" in page.text
    # RFC 8058 one-click: the provider posts this body, with no cookie, no CSRF token and no Origin.
    async with type(client)(transport=client._transport, base_url="http://testserver") as provider:
        done = await provider.post(f"/unsubscribe/{token}", content=b"List-Unsubscribe=One-Click",
                                   headers={"content-type": "application/x-www-form-urlencoded"})
    assert done.status_code == 200 and "mentions of me" in done.text
    async with db.transaction() as session:
        chosen = await preferences.for_member(session, cara.id)
    assert chosen == preferences.DEFAULTS | {"mentions": "off"}
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert (await client.post(f"/unsubscribe/{forged}")).status_code == 404
    other_paths = await client.post("/account/email", data={"kind_mentions": "immediately"})
    assert other_paths.status_code == 403  # the exemption is for unsubscribe links only


async def test_a_digest_link_turns_off_what_it_carries(db, settings, member_factory, client):
    dan = await member_factory(email="dan@example.org")
    async with db.transaction() as session:
        await preferences.save(session, dan.id, {"mentions": "daily"})
    token = preferences.unsubscribe_token(settings.secret_key, dan.id, "daily")
    await client.post_form(f"/unsubscribe/{token}")
    async with db.transaction() as session:
        chosen = await preferences.for_member(session, dan.id)
    assert chosen["replies"] == chosen["mentions"] == "off" and chosen["outcomes"] == "immediately"


async def test_members_choose_per_kind(db, member_factory, login):
    eve = await member_factory()
    client = await login(eve)
    page = await client.get("/account/email")
    assert page.status_code == 200 and 'name="kind_replies" value="daily" checked' in page.text
    saved = await client.post_form("/account/email", {"kind_replies": "weekly", "kind_mentions": "off"})
    assert saved.status_code == 303
    bad = await client.post_form("/account/email", {"kind_replies": "hourly"})
    assert bad.status_code == 400 and "Choose immediately, daily, weekly or off" in bad.text
    async with db.transaction() as session:
        chosen = await preferences.for_member(session, eve.id)
    assert (chosen["replies"], chosen["mentions"], chosen["outcomes"]) == ("weekly", "off", "immediately")


async def test_cursors_start_at_the_newest_notification(db, settings, member_factory):
    fay = await member_factory(email="fay@example.org")
    for _ in range(3):
        await note(db, user_id=fay.id)
    await start(db, settings)
    async with db.transaction() as session:
        state = await session.get(MailDigestState, fay.id)
        top = await session.scalar(select(Notification.id).order_by(Notification.id.desc()).limit(1))
    assert state.immediate_through == state.daily_through == top
    assert await mails(db, "fay@example.org") == []
