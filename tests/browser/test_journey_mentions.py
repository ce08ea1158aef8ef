"""Issue 16: a member mentions another from the reply composer with the keyboard: "@sa" opens the autocomplete,
the arrows choose, Enter inserts the handle; the posted reply links the member's card, and they are told."""

import re

from playwright.async_api import expect

from tests.browser.conftest import new_member, unique
from tests.browser.flows import start_thread
from tests.browser.test_accessibility import serious_violations


async def test_mention_with_the_keyboard_from_the_reply_composer(server, new_page):
    sam, s = await new_member(new_page, server, "resident", "Sam")
    starter, _ = await new_member(new_page, server, "resident", "Noor")
    thread_url = await start_thread(starter, server, f"Who taught you {unique('calm')}?", "Tell me about them.")

    await starter.goto(thread_url)
    composer = starter.locator(".reply-box").get_by_label("Your reply")
    await composer.click()
    await composer.press_sequentially("Thanks @sa")
    listbox = starter.get_by_role("listbox", name="Members to mention")
    await expect(listbox).to_be_visible()
    await expect(listbox.get_by_role("option").first).to_be_visible()
    assert await serious_violations(starter) == []  # axe, with the suggestions open
    # Narrow to Sam by typing more of the handle, then choose with the arrows and Enter.
    await composer.press_sequentially(s["handle"][2:])
    ours = listbox.get_by_role("option").filter(has_text=f"@{s['handle']}")
    await expect(ours).to_have_count(1)
    for _ in range(8):
        if await ours.get_attribute("aria-selected") == "true":
            break
        await composer.press("ArrowDown")
    await expect(ours).to_have_attribute("aria-selected", "true")
    active = await composer.get_attribute("aria-activedescendant")
    assert active == await ours.get_attribute("id")
    await composer.press("Enter")
    await expect(listbox).to_be_hidden()
    await expect(composer).to_have_value(f"Thanks @{s['handle']} ")
    await composer.press_sequentially("for showing me how to sit down.")
    await starter.locator(".reply-box").get_by_role("button", name="Post reply").click()
    await expect(starter.locator(".flash")).to_have_text("Your reply is posted.")
    link = starter.locator(".post-body a", has_text=f"@{s['handle']}")
    await expect(link).to_have_attribute("href", f"/members/{s['handle']}")

    # Sam is told, and the link opens Sam's card.
    await sam.goto(server.url + "/notifications")
    await expect(sam.locator(".notification-list")).to_contain_text("mentioned you in “Who taught you")
    await link.click()
    await starter.wait_for_url(re.compile(rf"/members/{s['handle']}$"))
    await expect(starter.get_by_role("heading", level=1)).to_have_text(s["name"])
