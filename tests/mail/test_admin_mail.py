"""/admin/mail: the outbox for admins (no bodies), dead letters sent again, a test message, the caught mail; and
the catcher itself, through real SMTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from community.platform import housekeeping
from community.platform.mail.catcher import Catcher, caught
from community.platform.mail.models import OutboxMessage
from community.platform.mail.outbox import Mail, Outbox
from community.platform.mail.sender import SmtpTarget, build_message
from community.settings import Settings, SettingsError
from tests.conftest import free_port

pytestmark = pytest.mark.asyncio


async def test_admins_see_the_outbox_without_bodies_and_dead_letters(db, settings, member_factory, login):
    admin = await member_factory("admin")
    async with db.transaction() as session:
        outbox = Outbox(settings)
        await outbox.enqueue(session, to="reset@example.org", template="password_reset",
                             context={"name": "Ana", "reset_url": "http://testserver/link/SECRET-TOKEN"})
        dead = await outbox.enqueue(session, to="gone@example.org", template="test",
                                    context={"sender": "A", "note": ""})
        await session.execute(update(OutboxMessage).where(OutboxMessage.id == dead)
                              .values(status="dead", attempts=8, last_error="SMTPRecipientsRefused: 550 no such user"))
    client = await login(admin)
    page = await client.get("/admin/mail")
    assert page.status_code == 200
    assert "reset@example.org" in page.text and "Reset your Compassionate Practice password" in page.text
    assert "SECRET-TOKEN" not in page.text  # bodies can hold one-time links: never shown
    assert "550 no such user" in page.text and f"/admin/mail/{dead}/retry" in page.text
    response = await client.post_form(f"/admin/mail/{dead}/retry")
    assert response.status_code == 303
    async with db.transaction() as session:
        row = await session.get(OutboxMessage, dead)
        assert (row.status, row.attempts) == ("queued", 0)
    again = await client.post_form(f"/admin/mail/{dead}/retry", follow_redirects=True)
    assert "not a dead letter" in again.text


async def test_only_admins_read_the_mail_page(member_factory, login):
    moderator = await member_factory("moderator")
    client = await login(moderator)
    assert (await client.get("/admin/mail")).status_code == 403
    assert (await client.post_form("/admin/mail/test", {"note": "x"})).status_code == 403


async def test_a_test_message_goes_to_the_admin(db, member_factory, login):
    admin = await member_factory("admin", email="chief@example.org")
    client = await login(admin)
    response = await client.post_form("/admin/mail/test", {"note": "Bonjour ✓"})
    assert response.status_code == 303
    async with db.transaction() as session:
        row = (await session.scalars(select(OutboxMessage).where(OutboxMessage.to_addr == "chief@example.org"))).one()
    assert row.template == "test" and "Bonjour ✓" in row.text_body


async def test_the_catcher_keeps_real_smtp_mail_and_admins_read_it(settings, tmp_path, member_factory, login, db):
    directory = Path(settings.var_dir) / "mail"
    catcher = Catcher(directory, free_port())
    catcher.start()
    try:
        row = Outbox(settings).render(Mail(
            "new@example.org", "invitation", {"inviter": "Dr. Lee", "role_phrase": "a resident", "cohort": "",
                                              "expires": "1 May", "join_url": "http://testserver/join/abc"}))
        row["created_at"] = datetime.now(UTC)
        target = SmtpTarget.parse(catcher.url)
        async with target.client(10) as smtp:
            await smtp.send_message(build_message(row, settings.mail_from))
    finally:
        catcher.stop()
    [mail] = caught(directory)
    assert mail.subject == "You are invited to Compassionate Practice" and "http://testserver/join/abc" in mail.links
    client = await login(await member_factory("admin"))
    page = await client.get("/admin/mail")
    assert f"/admin/mail/caught/{mail.name}" in page.text
    one = await client.get(f"/admin/mail/caught/{mail.name}")
    assert one.status_code == 200 and 'href="http://testserver/join/abc"' in one.text
    assert (await client.get("/admin/mail/caught/..%2Fsecret_key")).status_code == 404
    assert (await client.get("/admin/mail/caught/1-deadbeef.eml")).status_code == 404


async def test_a_busy_catcher_port_is_a_clear_error(tmp_path):
    port = free_port()
    first = Catcher(tmp_path, port)
    first.start()
    try:
        with pytest.raises((OSError, RuntimeError)):
            Catcher(tmp_path, port).start()
    finally:
        first.stop()
    await asyncio.sleep(0)


@pytest.mark.parametrize("value", ["http://mail.example.org", "mail.example.org:25", "smtp://", "smtps://:465"])
async def test_an_smtp_url_that_cannot_be_used_stops_start_up(value):
    with pytest.raises(SettingsError, match="SMTP_URL"):
        Settings.from_env({"SMTP_URL": value}, dotenv=Path("/nonexistent"))


async def test_production_refuses_to_start_without_a_mail_server():
    env = {"PRODUCTION": "1", "SECRET_KEY": "k" * 40, "ANON_KEY": "a" * 40, "DATABASE_URL": "postgresql://x@h/x"}
    with pytest.raises(SettingsError, match="SMTP_URL"):
        Settings.from_env(env, dotenv=Path("/nonexistent"))
    with pytest.raises(SettingsError, match="MAIL_FROM"):
        Settings.from_env({**env, "SMTP_URL": "smtp://relay:25"}, dotenv=Path("/nonexistent"))
    ok = Settings.from_env({**env, "SMTP_URL": "smtps://u%40x:p%3Aw@smtp.example.org", "MAIL_FROM": "C <c@x.org>"},
                           dotenv=Path("/nonexistent"))
    assert not ok.mail_catcher and ok.smtp_target == "smtps://u%40x:p%3Aw@smtp.example.org"
    target = SmtpTarget.parse(ok.smtp_target)
    assert (target.host, target.port, target.use_tls, target.start_tls, target.username, target.password) == (
        "smtp.example.org", 465, True, False, "u@x", "p:w")
    dev = Settings.from_env({"MAIL_CATCHER_PORT": "2525", "VAR_DIR": "/tmp"}, dotenv=Path("/nonexistent"))
    assert dev.mail_catcher and dev.smtp_target == "smtp://127.0.0.1:2525"
    assert SmtpTarget.parse("smtp+starttls://relay.example.org").port == 587


async def test_housekeeping_keeps_sent_mail_30_days_and_dead_letters_90(db, settings):
    outbox = Outbox(settings)
    async with db.transaction() as session:
        ids = [await outbox.enqueue(session, to=f"m{n}@example.org", template="test",
                                    context={"sender": "A", "note": ""}) for n in range(4)]
        ages = {ids[0]: ("sent", 31), ids[1]: ("sent", 29), ids[2]: ("dead", 91), ids[3]: ("dead", 31)}
        for outbox_id, (status, days) in ages.items():
            await session.execute(update(OutboxMessage).where(OutboxMessage.id == outbox_id).values(
                status=status, created_at=datetime.now(UTC) - timedelta(days=days)))
        counts = await housekeeping.run(session, [])
        left = set(await session.scalars(select(OutboxMessage.id)))
    assert counts["old mail"] == 2 and left == {ids[1], ids[3]}
