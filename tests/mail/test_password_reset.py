"""Password reset by mail: the same answer for any address, a one-time link valid an hour, rate limits per
address and per client, other sessions end; and end to end through `community serve` and its mail catcher."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from community.platform.accounts.models import OneTimeLink, Session
from community.platform.db import Database
from community.platform.mail.catcher import caught
from community.platform.mail.models import OutboxMessage
from tests.conftest import PASSWORD, Client, create_member
from tests.mail.conftest import wait_for

pytestmark = pytest.mark.asyncio
NEW_PASSWORD = "a brand new and long password"


async def outbox(db) -> list[OutboxMessage]:
    async with db.transaction() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def answer(html: str) -> str:
    return re.search(r'<div class="alert alert-success" role="status"><p>(.*?)</p>', html, re.S).group(1)


async def test_the_answer_is_the_same_whether_or_not_the_address_is_a_member(db, client, member_factory):
    await member_factory(email="Sam.Okafor@example.org", name="Sam Okafor")
    known = await client.post_form("/forgot", {"email": "sam.okafor@EXAMPLE.org"})
    unknown = await client.post_form("/forgot", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert answer(known.text) == answer(unknown.text) and "one hour" in answer(known.text)
    [mail] = await outbox(db)
    assert mail.to_addr == "Sam.Okafor@example.org" and mail.template == "password_reset"
    assert "Hello Sam Okafor" in mail.text_body and "988" in mail.text_body


async def test_the_mailed_link_works_once_for_an_hour_and_ends_other_sessions(db, client, member_factory, login):
    member = await member_factory(email="ana@example.org")
    elsewhere = await login(member)  # signed in on another device
    assert (await elsewhere.get("/account")).status_code == 200
    await client.post_form("/forgot", {"email": "ana@example.org"})
    [mail] = await outbox(db)
    url = re.search(r"http://testserver(/link/\S+)", mail.text_body).group(1)
    async with db.transaction() as session:
        link = (await session.scalars(select(OneTimeLink).where(OneTimeLink.user_id == member.id))).one()
        lifetime = link.expires_at - datetime.now(UTC)
        assert timedelta(minutes=59) < lifetime <= timedelta(hours=1) and link.purpose == "reset"
    assert (await client.get(url)).status_code == 200
    done = await client.post_form(url, {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 303
    assert (await elsewhere.get("/account")).status_code == 303  # signed out there
    async with db.transaction() as session:
        sessions = list(await session.scalars(select(Session).where(Session.user_id == member.id)))
    assert len(sessions) == 1  # only the browser that reset
    again = await client.get(url)
    assert again.status_code == 400 and "no longer valid" in again.text


async def test_an_expired_link_is_refused(db, client, member_factory):
    await member_factory(email="late@example.org")
    await client.post_form("/forgot", {"email": "late@example.org"})
    [mail] = await outbox(db)
    url = re.search(r"http://testserver(/link/\S+)", mail.text_body).group(1)
    async with db.transaction() as session:
        await session.execute(update(OneTimeLink).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    refused = await client.post_form(url, {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert refused.status_code == 400 and "Forgot your password?" in refused.text


async def test_rate_limited_per_address_the_same_for_members_and_strangers(db, make_client, member_factory):
    await member_factory(email="busy@example.org")
    for address in ("busy@example.org", "stranger@example.org"):
        for _ in range(3):
            assert (await make_client().post_form("/forgot", {"email": address})).status_code == 200
        refused = await make_client().post_form("/forgot", {"email": address})
        assert refused.status_code == 429 and "try again in" in refused.text
        assert "Retry-After" in refused.headers
    assert len(await outbox(db)) == 3  # only the member's three


async def test_rate_limited_per_client(client):
    for n in range(12):  # 4x the per-address limit, from one client
        assert (await client.post_form("/forgot", {"email": f"someone{n}@example.org"})).status_code == 200
    refused = await client.post_form("/forgot", {"email": "one-more@example.org"})
    assert refused.status_code == 429


async def test_a_malformed_address_keeps_the_draft(client):
    response = await client.post_form("/forgot", {"email": "not an address"})
    assert response.status_code == 400
    assert "does not look like an email address" in response.text and 'value="not an address"' in response.text


async def test_sign_in_offers_the_reset(client):
    page = await client.get("/signin")
    assert 'href="/forgot"' in page.text


@pytest.mark.live
async def test_end_to_end_through_serve_and_its_catcher(live_database, live_server_factory, tmp_path):
    """`community serve` without SMTP_URL: the reset mail reaches its local catcher; the link in it works."""
    member_db = Database(live_database, pool_size=1)
    try:
        await create_member(member_db, email="night.shift@example.org", name="Night Shift")
    finally:
        await member_db.dispose()
    server = await asyncio.to_thread(live_server_factory, live_database)
    async with Client(base_url=server.url) as browser:
        assert (await browser.post_form("/forgot", {"email": "night.shift@example.org"})).status_code == 200
        [mail] = await wait_for(lambda: caught(tmp_path / "mail"), within=20)
        assert mail.to == "night.shift@example.org" and "password" in mail.subject
        [link] = [u for u in mail.links if "/link/" in u]
        assert (await browser.post_form(link, {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})).status_code == 303
    async with Client(base_url=server.url) as other:
        old = await other.post_form("/signin", {"email": "night.shift@example.org", "password": PASSWORD})
        assert old.status_code == 400
        new = await other.post_form("/signin", {"email": "night.shift@example.org", "password": NEW_PASSWORD})
        assert new.status_code == 303
