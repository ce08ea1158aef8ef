"""axe-core on every main page, signed out and signed in: no serious or critical violations."""

import re

import pytest
from axe_playwright_python.async_playwright import Axe

from tests.browser.conftest import PASSWORD, admin_setup_link, invite_link

SIGNED_OUT = ["/", "/signin", "/guidelines", "/resources", "/no-such-page"]
SIGNED_IN_MEMBER = ["/", "/account", "/account/password", "/c", "/reflections", "/journal", "/prompts", "/rooms",
                    "/notifications", "/reflections/new", "/account/data"]
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
    await admin.wait_for_url(re.compile(r"/$"))
    problems = await audit(admin, server, SIGNED_IN_MEMBER + SIGNED_IN_ADMIN)
    # the sign-up page of a fresh invitation, and a form with errors
    await admin.goto(await invite_link(server, "resident"))
    problems += await serious_violations(admin)
    await admin.get_by_role("button", name="Create my account").click()
    problems += await serious_violations(admin)
    assert problems == []
