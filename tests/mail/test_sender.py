"""The sender over real SMTP (aiosmtpd): delivery, UTF-8, an outage, retries, dead letters, one sender at a
time, and no duplicate after a sender is killed mid-send."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys

import pytest
from sqlalchemy import select, update

from community.platform.accounts.actions import to_viewer
from community.platform.mail import status
from community.platform.mail.models import OutboxMessage
from community.platform.mail.outbox import Mail, Outbox
from community.platform.mail.sender import Sender, backoff_seconds
from community.settings import ROOT
from tests.conftest import create_member
from tests.mail.conftest import SmtpServer, wait_for

pytestmark = pytest.mark.asyncio


def mail_settings(settings, smtp_url: str, **overrides):
    values = {"smtp_url": smtp_url, "mail_retry_seconds": 0.05, "mail_max_attempts": 4,
              "mail_from": "Compassionate Practice <community@example.test>", **overrides}
    return settings.with_(**values)


@contextlib.asynccontextmanager
async def running(sender: Sender):
    task = asyncio.create_task(sender.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def enqueue(db, settings, mails: list[Mail]) -> list[int]:
    async with db.transaction() as session:
        return await Outbox(settings).enqueue_many(session, mails)


async def rows(db) -> list[OutboxMessage]:
    async with db.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def note(n: int, to: str = "") -> Mail:
    return Mail(to or f"member{n}@example.org", "test", {"sender": "Admin", "note": f"number {n}"})


async def test_utf8_subject_and_body_arrive_intact_as_multipart(committed_db, settings, smtp_server):
    settings = mail_settings(settings, smtp_server.url)
    text = "Réflexion du jour — 思いやり ✓ « merci »"
    [outbox_id] = await enqueue(committed_db, settings, [Mail("zoë@example.org", "test",
                                                              {"sender": "Dr. Ñúñez", "note": text})])
    async with running(Sender(settings, committed_db.url, standby_seconds=0.1)):
        await wait_for(lambda: smtp_server.recorder.messages)
        [row] = await wait_for(lambda: _sent(committed_db))
    [message] = smtp_server.recorder.messages
    assert str(message["Subject"]) == f"A test message from Compassionate Practice: {text}"
    assert message.get_content_type() == "multipart/alternative"
    assert text in message.get_body(("plain",)).get_content()
    assert text in message.get_body(("html",)).get_content()
    assert "Dr. Ñúñez" in message.get_body(("plain",)).get_content()
    assert "988" in message.get_body(("plain",)).get_content()  # the crisis resources' footer
    assert str(message["Message-ID"]) == row.message_id and row.id == outbox_id
    assert str(message["To"]) == "zoë@example.org"
    # Once sent, the row keeps who, what and when, not the bodies (which may hold one-time links).
    assert (row.status, row.attempts, row.text_body, row.html_body) == ("sent", 1, "", "")


async def _sent(db):
    found = [r for r in await rows(db) if r.status == "sent"]
    return found or None


async def test_an_outage_then_back_delivers_everything_once(committed_db, settings, smtp_port):
    settings = mail_settings(settings, f"smtp://127.0.0.1:{smtp_port}", mail_max_attempts=50)
    await enqueue(committed_db, settings, [note(n) for n in range(5)])
    sender = Sender(settings, committed_db.url, standby_seconds=0.1, smtp_timeout=2)
    async with running(sender):
        await wait_for(lambda: _tried(committed_db))  # the server is down: tries fail and are recorded
        before = await rows(committed_db)
        assert all(r.status == "queued" for r in before)
        assert any(r.attempts >= 1 and "Error" in (r.last_error or "") for r in before)
        server = SmtpServer(smtp_port)
        server.start()
        try:
            await wait_for(lambda: len(server.recorder.messages) >= 5, within=30)
            await wait_for(lambda: _all_sent(committed_db, 5), within=10)
            await asyncio.sleep(0.3)  # nothing more arrives
        finally:
            server.stop()
    assert sorted(server.recorder.ids()) == sorted(r.message_id for r in await rows(committed_db))
    assert len(server.recorder.messages) == 5


async def _tried(db):
    return any(r.attempts >= 1 for r in await rows(db))


async def _all_sent(db, count):
    found = await rows(db)
    return len(found) == count and all(r.status == "sent" for r in found)


async def test_a_refused_recipient_is_a_dead_letter_and_others_still_go(committed_db, settings, smtp_server):
    settings = mail_settings(settings, smtp_server.url)
    smtp_server.recorder.refuse["gone@example.org"] = "550 5.1.1 No such user"
    smtp_server.recorder.refuse["busy@example.org"] = "451 4.3.0 Try again later"
    await enqueue(committed_db, settings, [note(1, "gone@example.org"), note(2, "busy@example.org"), note(3)])
    async with running(Sender(settings, committed_db.url, standby_seconds=0.1)):
        await wait_for(lambda: _settled(committed_db), within=20)
    gone, busy, fine = await rows(committed_db)
    assert (gone.status, gone.attempts) == ("dead", 1)  # a permanent refusal is not retried
    assert "550" in gone.last_error and gone.text_body  # kept, to be sent again once fixed
    assert (busy.status, busy.attempts) == ("dead", 4)  # a temporary one, until MAIL_MAX_ATTEMPTS
    assert fine.status == "sent"
    assert smtp_server.recorder.ids() == [fine.message_id]


async def _settled(db):
    return all(r.status != "queued" for r in await rows(db))


async def test_backoff_doubles_up_to_six_hours():
    assert [backoff_seconds(n, 30) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff_seconds(40, 30) == 6 * 3600


async def test_one_sender_at_a_time(committed_db, settings, smtp_server):
    settings = mail_settings(settings, smtp_server.url)
    first, second = (Sender(settings, committed_db.url, standby_seconds=0.1) for _ in range(2))
    async with running(first):
        await wait_for(lambda: first.active)
        async with running(second):
            await asyncio.sleep(0.5)
            assert first.active and not second.active
            await enqueue(committed_db, settings, [note(n) for n in range(20)])
            await wait_for(lambda: len(smtp_server.recorder.messages) == 20)
            await asyncio.sleep(0.3)
            assert (first.sent, second.sent) == (20, 0)
    assert len(set(smtp_server.recorder.ids())) == 20


async def test_the_standby_takes_over_when_the_sender_goes(committed_db, settings, smtp_server):
    settings = mail_settings(settings, smtp_server.url)
    first, second = (Sender(settings, committed_db.url, standby_seconds=0.1) for _ in range(2))
    first_task = asyncio.create_task(first.run())
    await wait_for(lambda: first.active)
    async with running(second):
        await asyncio.sleep(0.3)
        assert not second.active
        first_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await first_task
        await wait_for(lambda: second.active, within=5)
        await enqueue(committed_db, settings, [note(n) for n in range(3)])
        await wait_for(lambda: second.sent == 3)
    assert len(smtp_server.recorder.messages) == 3 and first.sent == 0


def _mailer(database_url: str, smtp_url: str, tmp_path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "SMTP_URL": smtp_url, "VAR_DIR": str(tmp_path),
           "SECRET_KEY": "mail-secret-key-" + "s" * 40, "ANON_KEY": "mail-anon-key-" + "a" * 40,
           "MAIL_RETRY_SECONDS": "0.1", "LOG_JSON": "0"}
    return subprocess.Popen([sys.executable, "-m", "community.cli", "mailer"], env=env, cwd=str(ROOT),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def test_a_sender_killed_mid_send_loses_nothing_and_sends_nothing_twice(committed_db, settings,
                                                                                smtp_server, tmp_path):
    """`community mailer` is killed (SIGKILL) while the server holds its seventh message; a new one finishes."""
    settings = mail_settings(settings, smtp_server.url)
    await enqueue(committed_db, settings, [note(n) for n in range(15)])
    smtp_server.recorder.hold_after = 6
    first = _mailer(committed_db.url, smtp_server.url, tmp_path)
    try:
        await wait_for(smtp_server.recorder.held.is_set, within=30)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    smtp_server.recorder.release.set()
    assert len(smtp_server.recorder.messages) == 6
    second = _mailer(committed_db.url, smtp_server.url, tmp_path)
    try:
        await wait_for(lambda: _all_sent(committed_db, 15), within=30)
        await asyncio.sleep(0.3)
    finally:
        second.terminate()
        second.wait(10)
    ids = smtp_server.recorder.ids()
    assert len(ids) == 15 and len(set(ids)) == 15
    assert set(ids) == {r.message_id for r in await rows(committed_db)}


async def test_a_dead_letter_sent_again_by_an_admin(committed_db, settings, smtp_server):
    settings = mail_settings(settings, smtp_server.url)
    [outbox_id] = await enqueue(committed_db, settings, [note(1)])
    async with committed_db.transaction() as session:
        await session.execute(update(OutboxMessage).values(status="dead", attempts=4, last_error="earlier"))
    async with running(Sender(settings, committed_db.url, standby_seconds=0.1, poll_seconds=0.2)):
        await asyncio.sleep(0.4)
        assert smtp_server.recorder.messages == []
        admin = await create_member(committed_db, "admin")
        async with committed_db.transaction() as session:
            await status.retry_dead(session, to_viewer(admin), outbox_id)
        await wait_for(lambda: _all_sent(committed_db, 1), within=5)
    [row] = await rows(committed_db)
    assert row.attempts == 1 and len(smtp_server.recorder.messages) == 1
