"""Journey: a coordinator pastes three addresses; the invitation mail reaches the server's mail catcher; a resident
joins from it, forgets the password, and resets it from the mail that follows. All through `community serve`
(its sender and its catcher, no SMTP_URL) in Chromium."""

import asyncio
import re
import time

from community.platform.mail.catcher import CaughtMail, caught
from tests.browser.conftest import PASSWORD, admin_page

NEW_PASSWORD = "another long and calm password"


async def mail_to(server, address: str, subject_part: str, within: float = 30) -> CaughtMail:
    directory = server.log_path.parent / "mail"  # the catcher keeps mail under the server's VAR_DIR
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = [m for m in caught(directory) if m.to == address and subject_part in m.subject]
        if found:
            return found[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no mail to {address} about {subject_part!r}")


async def test_invited_by_mail_joins_then_resets_the_password_by_mail(server, new_page):
    stamp = int(time.time() * 1000)
    addresses = [f"cohort{stamp}.{n}@example.org" for n in range(3)]
    admin = await admin_page(new_page, server)  # the CLI's link, a password, then an authenticator app
    await admin.goto(server.url + "/admin/invitations")
    await admin.get_by_role("link", name="Invite by email").click()
    await admin.get_by_label("Addresses").fill("\n".join(addresses))
    await admin.get_by_label("Cohort or program").fill("IM 2027")
    await admin.get_by_role("button", name="Send invitations").click()
    assert "3 invitations queued" in await admin.locator("#report").inner_text()

    invitation = await mail_to(server, addresses[1], "invited")
    [join_link] = [link for link in invitation.links if "/join/" in link]
    resident = await new_page()
    await resident.goto(join_link)
    assert await resident.get_by_label("Email").input_value() == addresses[1]
    await resident.get_by_label("Display name").fill("Rowan Resident")
    await resident.get_by_label("Password", exact=True).fill(PASSWORD)
    await resident.get_by_label("I have read and accept").check()
    await resident.get_by_role("button", name="Create my account").click()
    await resident.wait_for_url(re.compile(r"/account"))
    await resident.get_by_role("button", name="Sign out").click()
    await resident.wait_for_url(re.compile(r"/signin"))

    await resident.get_by_role("link", name="Forgot your password?").click()
    await resident.get_by_label("Email").fill(addresses[1])
    await resident.get_by_role("button", name="Send me a link").click()
    assert "one hour" in await resident.get_by_role("status").first.inner_text()
    reset = await mail_to(server, addresses[1], "password")
    [reset_link] = [link for link in reset.links if "/link/" in link]
    await resident.goto(reset_link)
    await resident.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    await resident.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    await resident.get_by_role("button", name="Save and sign in").click()
    await resident.wait_for_url(server.url + "/")
    await resident.get_by_role("button", name="Sign out").click()
    await resident.wait_for_url(re.compile(r"/signin"))
    await resident.get_by_label("Email").fill(addresses[1])
    await resident.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    await resident.get_by_role("button", name="Sign in").click()
    await resident.wait_for_url(server.url + "/")

    # The coordinator sees the accepted invitation, and the caught mail on /admin/mail.
    await admin.goto(server.url + "/admin/invitations")
    assert await admin.get_by_text("accepted", exact=True).count() == 1
    await admin.goto(server.url + "/admin/mail")
    assert await admin.get_by_role("link", name="You are invited to Compassionate Practice").count() >= 3
