"""Journey 6: safety while writing (static/js/composer.js). A crisis sentence brings up the resources panel at
once; a likely patient identifier brings up the privacy warning; neither blocks writing. Private journal entries
get the resources but no identifier check; posting identifiers anyway asks for a confirmation."""

import re

from playwright.async_api import expect

from tests.browser.conftest import new_member, unique
from tests.browser.flows import CATEGORY

CRISIS = "I can't do this anymore, I want to disappear."
PATIENT = "Mr. Alvarez in bed 4 was scared all night and I could not stay with him."


async def test_composer_safety(server, new_page, device):
    page, _ = await new_member(new_page, server, "resident", "Iris", **device)

    # A new thread: shared writing, so both checks run.
    await page.goto(f"{server.url}/c/{CATEGORY}/new")
    body = page.get_by_label("Your post")
    live = page.locator("#f-body-safety")
    await body.press_sequentially(CRISIS, delay=5)
    panel = live.locator(".crisis-panel")
    await expect(panel).to_be_visible()
    await expect(panel).to_contain_text("You do not have to carry this alone")
    await expect(panel).to_contain_text("988 Suicide & Crisis Lifeline")
    await expect(panel.get_by_role("link", name="More resources")).to_have_attribute("href", "/resources")
    await expect(live).to_have_attribute("aria-live", "polite")
    await expect(body).to_be_editable()  # nothing blocks writing

    await body.fill(PATIENT)
    warning = live.locator(".phi-live")
    await expect(warning).to_be_visible()
    await expect(warning).to_contain_text("This may identify a patient")
    await expect(warning.locator("mark.phi").filter(has_text="Alvarez")).to_have_count(1)
    await expect(live.locator(".crisis-panel")).to_have_count(0)

    # Posting it anyway: the server catches it too, keeps the draft and asks.
    title = f"A long night {unique('w')}"
    await page.get_by_label("Title").fill(title)
    await page.get_by_role("button", name="Post thread").click()
    check = page.get_by_role("group", name="Please check for patient details")
    await expect(check).to_be_visible()
    await expect(check.locator("mark").first).to_be_visible()
    await expect(page.get_by_label("Your post")).to_have_value(PATIENT)
    await expect(page.get_by_label("Title")).to_have_value(title)
    await page.get_by_label("Your post").fill("A patient was scared all night and I could not stay with him.")
    await page.get_by_role("button", name="Post thread").click()
    await page.wait_for_url(re.compile(r"/t/\d+"))
    await expect(page.locator(".flash")).to_have_text("Your thread is posted.")

    # The reply box on the thread screens as well.
    reply = page.locator(".reply-box").get_by_label("Your reply")
    await reply.fill(CRISIS)
    await expect(page.locator(".reply-box .crisis-panel")).to_be_visible()

    # A private journal entry: resources, but no identifier check (it is only for the writer).
    await page.goto(server.url + "/reflections/new")
    entry = page.get_by_label("Your reflection")
    await expect(entry).to_have_attribute("data-screen", "private")
    await entry.fill(PATIENT + " " + CRISIS)
    await expect(page.locator("#f-body-safety .crisis-panel")).to_be_visible()
    await expect(page.locator("#f-body-safety .phi-live")).to_have_count(0)
    await entry.fill("A quiet shift. I ate lunch sitting down for once.")
    await expect(page.locator("#f-body-safety .crisis-panel")).to_have_count(0)


async def test_reflection_composer_follows_the_visibility_choice(server, new_page):
    """The identifier check follows "Who can read it" as it changes, without a reload: private = resources only,
    shared (anonymously or by name) = identifiers too."""
    page, _ = await new_member(new_page, server, "resident", "Vera")
    await page.goto(server.url + "/reflections/new")
    entry = page.get_by_label("Your reflection")
    live = page.locator("#f-body-safety")
    await expect(entry).to_have_attribute("data-screen", "private")
    await entry.fill(PATIENT)
    await page.wait_for_timeout(1200)  # the debounced check has answered: nothing for a private entry
    await expect(live.locator(".phi-live")).to_have_count(0)

    await page.get_by_label("Shared anonymously on the reflection wall").check()
    await expect(entry).to_have_attribute("data-screen", "shared")
    await expect(live.locator(".phi-live mark.phi").filter(has_text="Alvarez")).to_have_count(1)

    await page.get_by_label("Private: only you, ever").check()
    await expect(entry).to_have_attribute("data-screen", "private")
    await expect(live.locator(".phi-live")).to_have_count(0)

    await page.get_by_label("Shared under your name").check()
    await expect(live.locator(".phi-live")).to_be_visible()
    # Crisis words still bring up the resources in either mode.
    await page.get_by_label("Private: only you, ever").check()
    await entry.fill(CRISIS)
    await expect(live.locator(".crisis-panel")).to_be_visible()
    await expect(live.locator(".phi-live")).to_have_count(0)
