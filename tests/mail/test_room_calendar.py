"""Following scheduled sessions: a reminder by mail with an .ics before each (through real SMTP too), and a
private calendar feed that cannot be guessed and stops working when revoked."""

from __future__ import annotations

import asyncio
import contextlib
import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
from sqlalchemy import select, update

from community.platform.accounts.actions import to_viewer
from community.platform.anonymity import Anonymity
from community.platform.mail import digests, preferences
from community.platform.mail.models import MailDigestState, OutboxMessage
from community.platform.mail.outbox import Outbox
from community.platform.mail.sender import Sender
from community.platform.review.models import Notification
from community.rooms import calendar
from community.rooms.models import Room
from tests.conftest import create_member
from tests.mail.conftest import wait_for

pytestmark = pytest.mark.asyncio


async def scheduled(db, *, minutes: int = 30, title: str = "Balint group: the hardest conversation") -> Room:
    async with db.transaction() as session:
        room = Room(kind="scheduled", title=title, ground_rules="Be kind.", state="scheduled",
                    starts_at=datetime.now(UTC) + timedelta(minutes=minutes))
        session.add(room)
        await session.flush()
        return room


async def reminders(db, settings):
    async with db.transaction() as session:
        return await calendar.send_reminders(session, Outbox(settings), settings)


async def test_a_follower_is_reminded_once_with_an_ics(db, settings, member_factory, login):
    soon = await scheduled(db, minutes=30)
    later = await scheduled(db, minutes=180, title="Later session")
    member = await member_factory(email="follower@example.org", timezone="America/Chicago")
    client = await login(member)
    page = await client.get("/rooms/calendar")
    assert page.status_code == 200 and soon.title in page.text
    for room in (soon, later):
        assert (await client.post_form(f"/rooms/{room.id}/follow", {"on": "1"})).status_code == 303
    assert await reminders(db, settings) == {"room reminders": 1}  # only the one within the hour
    assert await reminders(db, settings) == {"room reminders": 0}  # once
    async with db.transaction() as session:
        [mail] = list(await session.scalars(select(OutboxMessage)))
    assert mail.to_addr == "follower@example.org" and mail.subject == f"Soon: {soon.title}"
    assert "(America/Chicago)" in mail.text_body and mail.headers["List-Unsubscribe-Post"]
    [attached] = mail.attachments
    assert (attached["filename"], attached["content_type"]) == ("session.ics", "text/calendar")
    [event] = icalendar.Calendar.from_ical(attached["content"]).walk("VEVENT")
    assert str(event["summary"]) == soon.title
    assert event.decoded("dtstart") == soon.starts_at.replace(microsecond=0)  # iCalendar keeps whole seconds
    assert str(event["url"]).endswith(f"/rooms/{soon.id}")


async def test_reminders_off_means_no_mail(db, settings, member_factory, login):
    room = await scheduled(db)
    member = await member_factory()
    async with db.transaction() as session:
        await preferences.save(session, member.id, {"room_reminders": "off"})
    client = await login(member)
    await client.post_form(f"/rooms/{room.id}/follow", {"on": "1"})
    assert await reminders(db, settings) == {"room reminders": 0}


async def test_only_sessions_to_come_can_be_followed_and_unfollowing_works(db, settings, member_factory, login):
    room = await scheduled(db)
    client = await login(await member_factory())
    async with db.transaction() as session:
        standing = (await session.scalars(select(Room).where(Room.kind == "standing"))).first()
    refused = await client.post_form(f"/rooms/{standing.id}/follow", {"on": "1"}, follow_redirects=True)
    assert "Only a session that has not started yet can be followed" in refused.text
    await client.post_form(f"/rooms/{room.id}/follow", {"on": "1"})
    await client.post_form(f"/rooms/{room.id}/follow", {"on": "0"})
    assert await reminders(db, settings) == {"room reminders": 0}


async def test_the_calendar_feed_is_private_and_revocable(db, member_factory, login, make_client):
    room = await scheduled(db, minutes=600, title="Evening debrief")
    client = await login(await member_factory())
    await client.post_form(f"/rooms/{room.id}/follow", {"on": "1"})
    made = await client.post_form("/rooms/calendar/feed")
    url = re.search(r'id="feed-url">http://testserver(/calendar/[^<]+\.ics)<', made.text).group(1)
    stranger = make_client()  # no session: the token is enough
    feed = await stranger.get(url)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(feed.text).walk("VEVENT")
    assert [str(e["summary"]) for e in events] == ["Evening debrief"]
    guessed = url[:-8] + ("A" if url[-8] != "A" else "B") + url[-7:]
    assert (await stranger.get(guessed)).status_code == 404
    assert (await stranger.get("/calendar/1.ics")).status_code == 404
    # Reissuing replaces the address; revoking ends it.
    again = await client.post_form("/rooms/calendar/feed")
    new_url = re.search(r'id="feed-url">http://testserver(/calendar/[^<]+\.ics)<', again.text).group(1)
    assert (await stranger.get(url)).status_code == 404 and (await stranger.get(new_url)).status_code == 200
    await client.post_form("/rooms/calendar/feed/revoke")
    assert (await stranger.get(new_url)).status_code == 404


async def test_a_reminder_arrives_over_smtp_with_its_invitation(committed_db, settings, smtp_server):
    settings = settings.with_(smtp_url=smtp_server.url, mail_retry_seconds=0.05)
    room = await scheduled(committed_db, minutes=20, title="Night-float check-in ✓")
    member = await create_member(committed_db, email="nurse.night@example.org")
    async with committed_db.transaction() as session:
        await calendar.follow(session, to_viewer(member), room.id, on=True)
    assert await reminders(committed_db, settings) == {"room reminders": 1}
    task = asyncio.create_task(Sender(settings, committed_db.url, standby_seconds=0.1).run())
    try:
        [message] = await wait_for(lambda: smtp_server.recorder.messages)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert message.get_content_type() == "multipart/mixed"
    assert "Night-float check-in ✓" in str(message["Subject"])
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert part.get_filename() == "session.ics"
    [event] = icalendar.Calendar.from_ical(part.get_content()).walk("VEVENT")
    assert str(event["summary"]) == "Night-float check-in ✓"
    assert "Night-float" in message.get_body(("plain",)).get_content()


async def test_a_hosts_new_session_is_announced_to_followers_once(db, settings, member_factory, login):
    host = await member_factory("attending", name="Dr. Amara Obi")
    follower = await member_factory(email="fan@example.org")
    bystander = await member_factory()
    first = await scheduled(db, minutes=900, title="First circle")
    async with db.transaction() as session:
        await session.execute(update(Room).where(Room.id == first.id).values(host_id=host.id))
    client = await login(follower)
    page = await client.get("/rooms/calendar")
    assert "Dr. Amara Obi" in page.text and f"/rooms/hosts/{host.id}/follow" in page.text
    assert (await client.post_form(f"/rooms/hosts/{host.id}/follow", {"on": "1"})).status_code == 303
    async with db.transaction() as session:
        assert await calendar.announce_new_sessions(session, Outbox(settings), settings) == {
            "new sessions announced": 1}
        assert await calendar.announce_new_sessions(session, Outbox(settings), settings) == {
            "new sessions announced": 0}
        notes = list(await session.scalars(select(Notification).where(Notification.kind == "room_session")))
    assert [(n.user_id, n.url) for n in notes] == [(follower.id, f"/rooms/{first.id}")]
    assert "Dr. Amara Obi scheduled a session: “First circle”" in notes[0].text
    assert bystander.id not in {n.user_id for n in notes}
    # Notification email delivers it by the room-reminder choice (at once by default).
    async with db.transaction() as session:
        anonymity = Anonymity(settings.anon_key)
        await digests.run(session, Outbox(settings), anonymity, settings, datetime.now(UTC))  # cursors start
    async with db.transaction() as session:
        await session.execute(update(MailDigestState).values(immediate_through=0))
        counts = await digests.run(session, Outbox(settings), anonymity, settings,
                                   datetime.now(UTC) + timedelta(minutes=6))
        assert counts["immediate"] == 1
        [mail] = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.to_addr == "fan@example.org")))
    assert "First circle" in mail.subject
    refused = await (await login(host)).post_form(f"/rooms/hosts/{host.id}/follow", {"on": "1"}, follow_redirects=True)
    assert "You host these sessions yourself" in refused.text
