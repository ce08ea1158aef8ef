"""Drafts in every composer survive a closed page: new thread, reply, edit, reflection reply and room message.
Each is typed, the page is closed (no submit), a new page opens the composer again and the text is there. A failed
submit keeps its draft too; a published piece never comes back as a draft; "My drafts" lists and deletes them."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.browser.conftest import member_page, unique
from tests.browser.flows import CATEGORY, enter_room, schedule_room, start_thread

pytestmark = pytest.mark.browser


async def _type_and_close(page, box, text: str) -> None:
    """Types into the composer, waits for the server to have it, then closes the tab."""
    await box.fill(text)
    form = box.locator("xpath=ancestor::form")
    await expect(form.locator("[data-draft-status]")).to_contain_text("Draft saved", timeout=15_000)
    await page.close()


async def test_drafts_survive_a_closed_page_in_every_composer(new_page, server):
    writer = await member_page(new_page, server, "attending", "Dana Drafts")
    context = writer.context
    thread_url = await start_thread(writer, server, unique("Drafted"), "A thread to reply to and edit.")

    # A new thread: title and body come back.
    title = unique("Unsent")
    await writer.goto(f"{server.url}/c/{CATEGORY}/new")
    await writer.get_by_label("Title").fill(title)
    await _type_and_close(writer, writer.get_by_label("Your post"), "The opening I have not posted yet.")
    page = await context.new_page()
    await page.goto(f"{server.url}/c/{CATEGORY}/new")
    await expect(page.get_by_label("Your post")).to_have_value("The opening I have not posted yet.")
    await expect(page.get_by_label("Title")).to_have_value(title)
    await expect(page.locator("[data-draft-status]")).to_contain_text("is back in the box")

    # A reply, in the thread page's own composer.
    await page.goto(thread_url)
    await _type_and_close(page, page.locator(".reply-box").get_by_label("Your reply"), "A reply, half written.")
    page = await context.new_page()
    await page.goto(thread_url)
    reply_box = page.locator(".reply-box").get_by_label("Your reply")
    await expect(reply_box).to_have_value("A reply, half written.")
    # Published: it never comes back as a draft.
    await page.locator(".reply-box").get_by_role("button", name="Post reply").click()
    await expect(page.locator(".flash")).to_have_text("Your reply is posted.")
    await page.close()
    page = await context.new_page()
    await page.goto(thread_url)
    await page.wait_for_load_state("networkidle")
    await expect(page.locator(".reply-box").get_by_label("Your reply")).to_have_value("")

    # An edit of one's own post.
    await page.get_by_role("link", name="Edit").first.click()
    await page.wait_for_url(re.compile(r"/p/\d+/edit"))
    edit_url = page.url
    await _type_and_close(page, page.get_by_label("Your post"), "A better opening, not saved yet.")
    page = await context.new_page()
    await page.goto(edit_url)
    await expect(page.get_by_label("Your post")).to_have_value("A better opening, not saved yet.")

    # A reply to a shared reflection.
    await page.goto(server.url + "/reflections/new")
    await page.get_by_label("Your reflection").fill("A shared reflection to reply to.")
    await page.get_by_label("Shared under your name").check()
    await page.get_by_role("button", name="Save reflection").click()
    await page.wait_for_url(re.compile(r"/reflections/\d+"))
    reflection_url = page.url.split("?")[0]
    await _type_and_close(page, page.get_by_label("Your reply"), "Thank you for writing this.")
    page = await context.new_page()
    await page.goto(reflection_url)
    await expect(page.get_by_label("Your reply")).to_have_value("Thank you for writing this.")

    # A room message.
    room_url = await schedule_room(page, server, unique("Drafting room"))
    await enter_room(page, room_url)
    await _type_and_close(page, page.get_by_label("Your message"), "A message I did not send.")
    page = await context.new_page()
    await enter_room(page, room_url)
    box = page.get_by_label("Your message")
    await expect(box).to_have_value("A message I did not send.")
    await page.get_by_role("button", name="Send", exact=True).click()
    await expect(page.locator("#room-log li.msg").filter(has_text="A message I did not send.")).to_be_visible()
    await expect(box).to_have_value("")
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(2500)  # the emptied box's save (1.5 s after the send) deletes the draft
    await page.close()
    page = await context.new_page()
    await enter_room(page, room_url)
    await page.wait_for_load_state("networkidle")
    await expect(page.get_by_label("Your message")).to_have_value("")

    # My drafts lists what is left (thread, edit, reflection reply), and each can be deleted.
    await page.goto(server.url + "/drafts")
    items = page.locator(".draft-item")
    await expect(items).to_have_count(3)
    await expect(page.get_by_text("The opening I have not posted yet.")).to_be_visible()
    await items.filter(has_text="Thank you for writing this.").get_by_role("button", name=re.compile("^Delete")).click()
    await expect(page.locator(".flash")).to_have_text("The draft is deleted.")
    await expect(page.locator(".draft-item")).to_have_count(2)


async def test_a_failed_submit_keeps_the_draft_after_the_page_closes(new_page, server):
    writer = await member_page(new_page, server, "resident", "Fay Failed")
    context = writer.context
    await writer.goto(f"{server.url}/c/{CATEGORY}/new")
    # No title: the server refuses, and keeps the draft even though no autosave ran.
    await writer.get_by_label("Your post").evaluate("(el, text) => { el.value = text; }", "Kept after a refusal.")
    await writer.get_by_role("button", name="Post thread").click()
    await expect(writer.locator(".alert-error")).to_be_visible()
    await writer.close()
    page = await context.new_page()
    await page.goto(f"{server.url}/c/{CATEGORY}/new")
    await expect(page.get_by_label("Your post")).to_have_value("Kept after a refusal.")


async def test_a_stored_draft_never_replaces_what_the_member_typed_after_the_page_loaded(new_page, server):
    """The stored draft arrives after the member has started typing (its answer held back here): their text stays."""
    page = await member_page(new_page, server, "resident", "Quick Typer")
    await page.goto(f"{server.url}/c/{CATEGORY}/new")
    box = page.get_by_label("Your post")
    await _type_and_close(page, box, "An older draft that was saved.")
    page = await page.context.new_page()
    release = []

    async def hold(route):
        while not release:
            await page.wait_for_timeout(50)
        await route.continue_()

    await page.route("**/drafts/one*", hold)
    await page.goto(f"{server.url}/c/{CATEGORY}/new")
    box = page.get_by_label("Your post")
    await box.fill("What I am writing now.")
    release.append(True)
    await page.wait_for_load_state("networkidle")
    await expect(box).to_have_value("What I am writing now.")
    await expect(page.locator("[data-draft-status]")).not_to_contain_text("is back in the box")
