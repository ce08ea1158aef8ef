"""axe-core on every main page, signed out and signed in: no serious or critical violations."""

import re

import pytest
from axe_playwright_python.async_playwright import Axe

from tests.browser.conftest import PASSWORD, admin_setup_link, enrol_authenticator, invite_link

SIGNED_OUT = ["/", "/signin", "/guidelines", "/resources", "/no-such-page"]
SIGNED_IN_MEMBER = ["/", "/account", "/account/password", "/c", "/reflections", "/journal", "/prompts", "/rooms",
                    "/notifications", "/reflections/new", "/account/data", "/account/security",
                    "/account/security/passkey", "/signin/factor"]
SIGNED_IN_ADMIN = ["/admin", "/admin/members", "/admin/invitations", "/admin/audit", "/review"]

axe = Axe()


async def serious_violations(page) -> list[str]:
    results = await axe.run(page)
    problems = []
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [node["target"] for node in violation["nodes"]][:3]
            problems.append(f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']} {targets}")
    return problems


async def audit(page, server, paths) -> list[str]:
    problems = []
    for path in paths:
        response = await page.goto(server.url + path)
        if response.status == 404 and path != "/no-such-page":
            continue  # a pillar not built yet: nothing to audit
        problems += await serious_violations(page)
    return problems


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_signed_out_pages(server, new_page, scheme):
    page = await new_page(color_scheme=scheme)
    assert await audit(page, server, SIGNED_OUT) == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
async def test_signed_in_pages(server, new_page, scheme):
    admin = await new_page(color_scheme=scheme)
    await admin.goto(await admin_setup_link(server))
    await admin.get_by_label("New password", exact=True).fill(PASSWORD)
    await admin.get_by_label("Repeat the new password").fill(PASSWORD)
    await admin.get_by_role("button", name="Save and sign in").click()
    # A fresh admin first sets up a second factor: that page, the app's set-up page, and then everything else.
    await admin.wait_for_url(re.compile(r"/account/security"))
    problems = await serious_violations(admin)
    await admin.goto(server.url + "/account/security/totp")
    problems += await serious_violations(admin)
    await enrol_authenticator(admin)
    problems += await audit(admin, server, SIGNED_IN_MEMBER + SIGNED_IN_ADMIN)
    # the sign-up page of a fresh invitation, and a form with errors
    await admin.goto(await invite_link(server, "resident"))
    problems += await serious_violations(admin)
    await admin.get_by_role("button", name="Create my account").click()
    problems += await serious_violations(admin)
    assert problems == []


async def test_pages_with_content(server, new_page):
    """The pages that only exist with content: a category, a thread, the composers, a single reflection, a live
    room, the flag form, the review queue with an item, a review page, and the audit log with entries."""
    from tests.browser.conftest import admin_page, new_member, unique
    from tests.browser.flows import CATEGORY, enter_room, reply_in_thread, say_in_room, start_thread

    admin = await admin_page(new_page, server)
    member, _ = await new_member(new_page, server, "resident", "Axel")
    thread_url = await start_thread(member, server, f"Checking in {unique('a')}",
                                    "How is everyone doing this week? Mine was long but kind.")
    await reply_in_thread(member, thread_url, "Adding a second thought: the night team was wonderful.")
    await member.goto(server.url + "/reflections/new")
    await member.get_by_label("Your reflection").fill("A short reflection about a long, kind week on the wards.")
    await member.get_by_label("Shared anonymously on the reflection wall").check()
    await member.get_by_role("button", name="Save reflection").click()
    await member.wait_for_url(re.compile(r"/reflections/\d+$"))
    reflection_url = member.url
    # A reply of one's own: its edit page, and the journal's list of replies.
    await member.get_by_label("Your reply").fill("Thank you all for reading this one.")
    await member.get_by_role("button", name="Send reply").click()
    await member.get_by_role("link", name="Edit your reply").click()
    await member.wait_for_url(re.compile(r"/reflections/replies/\d+/edit$"))
    reply_edit_url = member.url
    await member.goto(server.url + "/rooms")
    await member.get_by_role("link", name="Night-float lounge").click()
    room_url = member.url
    await enter_room(member, room_url)
    await say_in_room(member, "Evening, everyone. Quiet night so far.")

    await admin.goto(thread_url)
    await admin.get_by_role("button", name="Pin thread").click()  # an audit entry
    await admin.locator("article.post").last.get_by_role("link", name="Flag").click()
    flag_url = admin.url
    await admin.get_by_label("Off-topic").check()
    await admin.get_by_role("button", name="Send to moderators").click()  # a queue item
    await admin.goto(server.url + "/review")
    await admin.locator("li.queue-item").first.get_by_role("link", name="Review and decide").click()
    review_url = admin.url

    member_state = await member.context.storage_state()
    admin_state = await admin.context.storage_state()
    problems = []
    for scheme in ("light", "dark"):
        page = await new_page(color_scheme=scheme, storage_state=member_state)
        problems += await audit(page, server, [f"/c/{CATEGORY}", thread_url.removeprefix(server.url),
                                               f"/c/{CATEGORY}/new", reflection_url.removeprefix(server.url),
                                               reply_edit_url.removeprefix(server.url), "/journal"])
        await page.goto(thread_url)
        await page.locator("article.post").first.get_by_role("link", name="Quote").click()
        problems += await serious_violations(page)  # the reply composer, with a quote
        await page.get_by_label("Your reply").fill("Mr. Alvarez in bed 4 asked after you.")
        await page.get_by_role("button", name="Post reply").click()
        await page.get_by_role("group", name="Please check for patient details").wait_for()
        problems += await serious_violations(page)  # the identifier check, with highlights
        await page.goto(room_url)
        await page.locator("#room-connection[data-state=live]").wait_for()
        await page.locator("#room-log li.msg").first.wait_for()
        problems += await serious_violations(page)
        staff = await new_page(color_scheme=scheme, storage_state=admin_state)
        for url in (server.url + "/review", review_url, server.url + "/admin/audit", thread_url):
            await staff.goto(url)
            problems += await serious_violations(staff)
        await staff.goto(server.url + "/admin/audit")
        assert await staff.locator("tbody tr").count() >= 2
        await staff.goto(server.url + "/review")
        assert await staff.locator("li.queue-item").count() >= 1
        other, _ = await new_member(new_page, server, "resident", "Bea", color_scheme=scheme)
        await other.goto(flag_url)
        problems += await serious_violations(other)
    assert problems == []
