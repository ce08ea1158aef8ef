"""Issue 18, second factors in Chromium: a member enrols an authenticator app and a passkey (through the DevTools
virtual authenticator) and signs in with each, and with a recovery code; two admins each step up before asking
for and approving an unmasking. TOTP codes are computed for a chosen time (the step after the last one used).

The server is at http://localhost:<port>: browsers refuse passkeys for an IP address."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from playwright.async_api import expect
from sqlalchemy import select, update

from community.platform.accounts.models import Session, User
from community.platform.db import Database
from tests.browser.conftest import PASSWORD, admin_setup_link, enrol_authenticator, invite_link, join
from tests.conftest import PASSWORD as MEMBER_PASSWORD
from tests.conftest import Client, LiveServer, clone_database, create_member, free_port
from tests.reflections.conftest import write


@pytest.fixture(scope="module")
async def server(database_urls, tmp_path_factory):
    port = free_port()
    url = await clone_database(database_urls, f"{database_urls['main'].rsplit('/', 1)[-1].split('?')[0][:-5]}"
                                              f"_2fa{port}")
    srv = LiveServer(url, port, tmp_path_factory.mktemp("factors"),
                     extra_env={"BASE_URL": f"http://localhost:{port}", "TWO_ADMIN_MIN_DAYS": "0"})
    await asyncio.get_running_loop().run_in_executor(None, srv.wait_ready)
    srv.site = f"http://localhost:{port}"
    yield srv
    srv.stop()


def local(link: str, server) -> str:
    return link.replace(server.url, server.site)


async def virtual_authenticator(page) -> None:
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable")
    await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "internal", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True}})


def next_step(after: float) -> float:
    """A time in the TOTP step after the one `after` falls in (the server accepts one step either side)."""
    return (int(after // 30) + 1) * 30 + 1


async def sign_in(page, server, email: str) -> None:
    await page.goto(server.site + "/signin")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(re.compile(r"/signin/factor"))
    await expect(page.get_by_role("heading", name="One more step")).to_be_visible()


async def sign_out(page) -> None:
    await page.get_by_role("button", name="Sign out").first.click()
    await page.wait_for_url(re.compile(r"/signin"))


async def test_enrol_totp_and_a_passkey_then_sign_in_with_each_and_a_recovery_code(server, new_page):
    page = await new_page()
    await virtual_authenticator(page)
    email = f"quinn{free_port()}@example.org"
    await join(page, local(await invite_link(server, "resident"), server), "Quinn Factor", email)

    # An authenticator app: the QR code and key, then its first code; the recovery codes are shown once.
    enrolled_at = time.time()
    await page.goto(server.site + "/account/security")
    await page.get_by_role("link", name="Set up an authenticator app").click()
    await expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    secret = (await page.locator("[data-totp-secret]").inner_text()).strip()
    await page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).at(enrolled_at))
    await page.get_by_role("button", name="Turn on").click()
    await expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = [c.strip() for c in await page.locator("[data-recovery-codes] code").all_inner_texts()]
    assert len(codes) == 10
    await page.get_by_role("link", name="I have kept them").click()

    # A passkey, made by the virtual authenticator.
    await page.get_by_role("link", name="Add a passkey or security key").click()
    await page.get_by_label("A name for it").fill("Test laptop")
    await page.get_by_role("button", name="Create a passkey").click()
    await page.wait_for_url(server.site + "/account/security")
    await expect(page.get_by_text("Your passkey is added.")).to_be_visible()
    await expect(page.get_by_text("Test laptop", exact=True)).to_be_visible()

    # Sign in with the passkey.
    await sign_out(page)
    await sign_in(page, server, email)
    await page.get_by_role("button", name="Use a passkey or security key").click()
    await page.wait_for_url(server.site + "/")
    await expect(page.get_by_role("status")).to_have_text("Welcome back, Quinn Factor.")

    # Sign in with the app (the next step's code: the first one was used at enrolment).
    await sign_out(page)
    await sign_in(page, server, email)
    await page.get_by_label("Code from your authenticator app, or a recovery code").fill(
        pyotp.TOTP(secret).at(next_step(enrolled_at)))
    await page.get_by_role("button", name="Confirm").click()
    await page.wait_for_url(server.site + "/")

    # The same code again is refused, and the holder is told.
    await sign_out(page)
    await sign_in(page, server, email)
    await page.get_by_label("Code from your authenticator app, or a recovery code").fill(
        pyotp.TOTP(secret).at(next_step(enrolled_at)))
    await page.get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("alert")).to_contain_text("already used")

    # A recovery code signs in, once.
    await page.get_by_label("Code from your authenticator app, or a recovery code").fill(codes[0])
    await page.get_by_role("button", name="Confirm").click()
    await page.wait_for_url(server.site + "/")
    await page.goto(server.site + "/notifications")
    await expect(page.get_by_role("link", name=re.compile("entered a second time and refused"))).to_be_visible()
    await page.goto(server.site + "/account/security")
    await expect(page.get_by_text("Recovery codes left: 9")).to_be_visible()


async def new_admin(new_page, server):
    """(page, totp secret, time of enrolment): an admin made by the CLI, who sets up an app on first sign-in."""
    page = await new_page()
    await page.goto(local(await admin_setup_link(server), server))
    await page.get_by_label("New password", exact=True).fill(PASSWORD)
    await page.get_by_label("Repeat the new password").fill(PASSWORD)
    await page.get_by_role("button", name="Save and sign in").click()
    await page.wait_for_url(re.compile(r"/account/security"))
    await expect(page.get_by_text("Moderators and admins need a second factor")).to_be_visible()
    at = time.time()
    return page, await enrol_authenticator(page, at), at


async def stale_admins(server) -> None:
    """Every admin session last checked its factor 11 minutes ago: past the step-up window."""
    db = Database(server.database_url, pool_size=1)
    try:
        async with db.transaction() as session:
            admins = select(User.id).where(User.role == "admin").scalar_subquery()
            await session.execute(update(Session).where(Session.user_id.in_(admins)).values(
                factor_at=datetime.now(UTC) - timedelta(minutes=11)))
    finally:
        await db.dispose()


async def anonymous_reflection(server) -> int:
    db = Database(server.database_url, pool_size=1)
    try:
        writer = await create_member(db, "resident", name="Hidden Writer")
    finally:
        await db.dispose()
    async with Client(base_url=server.site, timeout=20) as client:
        await client.get("/signin")
        signed = await client.post_form("/signin", {"email": writer.email, "password": MEMBER_PASSWORD})
        assert signed.status_code == 303
        return await write(client, body="Something I could only say without my name.", visibility="anonymous")


async def confirm(page, code: str) -> None:
    await expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    await page.get_by_label("Code from your authenticator app, or a recovery code").fill(code)
    await page.get_by_role("button", name="Confirm").click()


async def test_two_admins_step_up_before_asking_for_and_approving_an_unmasking(server, new_page):
    first, first_secret, first_at = await new_admin(new_page, server)
    second, second_secret, second_at = await new_admin(new_page, server)
    rid = await anonymous_reflection(server)
    await stale_admins(server)

    reason = "A credible threat to a patient was reported and must be followed up today."
    await first.goto(f"{server.site}/reflections/unmask/reflection/{rid}")
    await first.get_by_label("Why must the writer be identified?").fill(reason)
    await first.get_by_role("button", name="Request identification").click()
    await confirm(first, pyotp.TOTP(first_secret).at(next_step(first_at)))
    await first.wait_for_url(server.site + "/admin/unmask")
    await expect(first.get_by_text("Your request is recorded")).to_be_visible()

    await second.goto(server.site + "/admin/unmask")
    request = second.locator("article", has_text=reason)
    await request.get_by_label("Note").fill("Confirmed with the program director.")
    await request.get_by_role("button", name="Approve").click()
    await confirm(second, pyotp.TOTP(second_secret).at(next_step(second_at)))
    await second.wait_for_url(re.compile(r"/admin/unmask/\d+$"))
    await expect(second.get_by_text("Your decision is recorded")).to_be_visible()
    await expect(second.get_by_text("Hidden Writer")).to_be_visible()
