"""Journey 1: an admin invites a resident; the resident signs up, signs in and edits the profile."""

import re

from tests.browser.conftest import PASSWORD, admin_page


async def test_admin_invites_resident_who_joins(server, new_page):
    admin = await admin_page(new_page, server)  # the CLI's link, a password, then an authenticator app
    await admin.get_by_role("link", name="Admin", exact=True).click()
    await admin.get_by_role("link", name="Invitations").first.click()
    await admin.get_by_label("Role").select_option("resident")
    await admin.get_by_label("Cohort or program").fill("Internal medicine 2027")
    await admin.get_by_role("button", name="Create invitation").click()
    link = (await admin.locator("#new-invite").inner_text()).strip()
    assert "/join/" in link

    resident = await new_page()
    await resident.goto(link)
    await resident.get_by_label("Display name").fill("Riley Resident")
    await resident.get_by_label("Email").fill("riley@example.org")
    await resident.get_by_label("Password", exact=True).fill("short")
    await resident.get_by_role("button", name="Create my account").click()
    # Server-side validation: the draft is kept, and the errors are explained.
    assert await resident.get_by_label("Display name").input_value() == "Riley Resident"
    assert await resident.get_by_text("Use at least 12 characters.").first.is_visible()
    await resident.get_by_label("Password", exact=True).fill(PASSWORD)
    await resident.get_by_label("I have read and accept").check()
    await resident.get_by_role("button", name="Create my account").click()
    await resident.wait_for_url(re.compile(r"/account"))

    await resident.get_by_role("button", name="Sign out").click()
    await resident.wait_for_url(re.compile(r"/signin"))
    await resident.get_by_label("Email").fill("riley@example.org")
    await resident.get_by_label("Password", exact=True).fill(PASSWORD)
    await resident.get_by_role("button", name="Sign in").click()
    await resident.wait_for_url(server.url + "/")

    await resident.get_by_role("link", name="Riley Resident").click()
    await resident.get_by_label("Specialty").fill("Internal medicine")
    await resident.get_by_label("Training year").select_option("PGY-2")
    await resident.get_by_label("Pronouns").fill("she/her")
    await resident.get_by_role("button", name="Save profile").click()
    await resident.wait_for_url(re.compile(r"/account"))
    assert await resident.get_by_label("Specialty").input_value() == "Internal medicine"
    assert await resident.get_by_role("status").first.inner_text() == "Your profile is saved."

    # The invitation is now listed as accepted.
    await admin.reload()
    assert await admin.get_by_text("accepted", exact=True).count() >= 1
