"""Journey: an urgent item reaches a person. A resident writes a crisis sentence in a reply and sees the resources
(and what happens next); the on-call moderator, on another page, sees the alert and the count arrive without a
reload, claims the item, and opens a check-in; the resident answers it in the private conversation."""

import re

from playwright.async_api import expect

from tests.browser.conftest import DEVICES, new_member, unique
from tests.browser.flows import reply_in_thread, start_thread

CRISIS = "honestly there is nothing left for me to stay for"  # the sentence: needs the new detector


async def _set_on_call_all_week(page, server) -> None:
    await page.goto(server.url + "/account")
    await page.get_by_role("link", name="Your on-call hours").click()
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        await page.get_by_label(f"{day}, from").fill("00:00")
        await page.get_by_label(f"{day}, to").fill("00:00")
    await page.get_by_role("button", name="Save on-call hours").click()
    await expect(page.locator(".flash")).to_have_text("Saved: on call on 7 days a week.")


async def test_an_urgent_reply_reaches_the_on_call_moderator_and_a_conversation_follows(server, new_page):
    moderator, _ = await new_member(new_page, server, "moderator", "Noor")
    await _set_on_call_all_week(moderator, server)
    await moderator.goto(server.url + "/c")  # somewhere else, loaded before anything is urgent
    badge = moderator.locator("[data-urgent-count]")
    await expect(badge).to_be_hidden()
    queue = await moderator.context.new_page()  # a second tab on the urgent queue, also loaded before
    await queue.goto(server.url + "/review?show=urgent")
    await expect(queue.locator("#queue-list")).to_contain_text("Nothing waiting")

    resident, who = await new_member(new_page, server, "resident", "Ren")
    thread = await start_thread(resident, server, f"After the night shift {unique('u')}", "A long night, again.")
    reply = resident.locator(".reply-box").get_by_label("Your reply")
    await reply.fill(CRISIS)
    await expect(resident.locator(".reply-box .crisis-panel")).to_be_visible()  # while typing
    await reply_in_thread(resident, thread, CRISIS)
    panel = resident.locator(".crisis-panel").first
    await expect(panel).to_contain_text("988")
    await expect(panel).to_contain_text("the moderator on call is told at once")

    # The moderator's pages learn of it by themselves (the poll): the count, an alert, the queue's list.
    await expect(badge).to_have_text("1", timeout=25_000)
    await expect(queue.locator("#queue-list .queue-item.urgent")).to_contain_text(CRISIS, timeout=25_000)
    await queue.close()
    alert = moderator.get_by_role("alert")
    await expect(alert).to_contain_text("A new urgent item is waiting")
    await moderator.get_by_role("link", name="Notifications").click()
    await moderator.get_by_role("link", name=re.compile(r"Urgent: crisis language.*You are on call")).click()
    await moderator.wait_for_url(re.compile(r"/review/post/\d+"))
    await moderator.get_by_role("button", name="Claim: I am taking this").click()
    await expect(moderator.locator(".flash")).to_contain_text("Claimed")
    await expect(moderator.get_by_role("heading", level=2).first).to_contain_text("claimed by Noor")
    await moderator.get_by_label("Check in with the writer privately (the writing stays)").check()
    await moderator.locator("#f-reason").fill("I read your reply. How are you doing right now?")
    await moderator.get_by_role("button", name="Apply decision").click()
    await moderator.wait_for_url(re.compile(r"/checkins/\d+"))
    conversation = moderator.url

    # The resident answers, from the notification.
    await resident.goto(server.url + "/notifications")
    await resident.get_by_role("link", name=re.compile("A moderator is checking in")).click()
    await resident.wait_for_url(conversation)
    await expect(resident.locator("#checkin-messages")).to_contain_text("How are you doing right now?")
    await resident.get_by_label("Your reply").fill("Still here. It helps that someone asked.")
    await resident.get_by_role("button", name="Send reply").click()
    await expect(resident.locator(".flash")).to_contain_text("Only the two of you can read this")

    await moderator.reload()
    messages = moderator.locator("#checkin-messages")
    await expect(messages).to_contain_text("Still here. It helps that someone asked.")
    await expect(messages).to_contain_text(who["name"])


async def test_on_a_phone_the_urgent_alert_covers_no_button(server, new_page):
    moderator, _ = await new_member(new_page, server, "moderator", "Oren", **DEVICES["phone"])
    await moderator.goto(server.url + "/account")
    resident, _ = await new_member(new_page, server, "resident", "Rhea")
    thread = await start_thread(resident, server, f"Night float {unique('p')}", "Another long one.")
    await reply_in_thread(resident, thread, CRISIS)
    alert = moderator.get_by_role("alert").filter(has_text="A new urgent item is waiting")
    await expect(alert).to_be_visible(timeout=25_000)
    # In the page's flow at the top of its content, not a fixed box over whatever is under it.
    assert await alert.evaluate("el => getComputedStyle(el).position") == "static"
    assert await alert.evaluate("el => el.parentElement.id") == "main"
    await moderator.get_by_role("link", name="Your on-call hours").click()  # what was under it still answers
    await moderator.wait_for_url(re.compile(r"/account/on-call"))
