"""Journey 4: a member flags a reply; a moderator works the review queue and hides it; the writer is told the
outcome (and why), the flagger is thanked, and the reply is hidden from everyone else."""

import re

from playwright.async_api import expect

from tests.browser.conftest import nav_link, new_member, unique
from tests.browser.flows import post_by, reply_in_thread, start_thread


async def test_flag_review_hide_notify(server, new_page, device):
    starter, _ = await new_member(new_page, server, "resident", "Ada", **device)
    word = unique("pager")
    title = f"When the {word} will not stop"
    thread_url = await start_thread(starter, server, title,
                                    "How do you stay kind at 4 a.m. when the pager will not stop?")
    writer, w = await new_member(new_page, server, "resident", "Bram", **device)
    harsh = "Honestly, if you cannot handle nights you should not be in medicine. Toughen up."
    await reply_in_thread(writer, thread_url, harsh)

    # The starter flags the reply.
    await starter.goto(thread_url)
    await post_by(starter, w["name"]).get_by_role("link", name="Flag").click()
    await starter.wait_for_url(re.compile(r"/flag/post/\d+"))
    await expect(starter.locator(".flag-preview")).to_contain_text("Toughen up")
    await starter.get_by_role("button", name="Send to moderators").click()  # no reason chosen yet
    await expect(starter.get_by_role("alert")).to_contain_text("Please choose what is wrong.")
    await starter.get_by_label("Disrespect or harassment").check()
    await starter.get_by_label("Anything the moderators should know").fill("Dismissive of someone asking for help.")
    await starter.get_by_role("button", name="Send to moderators").click()
    await starter.wait_for_url(re.compile(r"/t/\d+"))
    await expect(starter.locator(".flash")).to_have_text("Thank you. A moderator will review it.")

    # A moderator works the queue.
    moderator, _ = await new_member(new_page, server, "moderator", "Noor", **device)
    await (await nav_link(moderator, "Review queue")).click()
    await moderator.wait_for_url(server.url + "/review")
    # The flagged reply's item (the thread's title is on every item about the thread; the crisis detector may
    # also queue its opening post: issue 15's false positives).
    flagged = moderator.locator("li.queue-item").filter(has_text=title).filter(has_text="Toughen up")
    item = flagged
    await expect(item).to_have_count(1)
    await expect(item.locator(".target-body")).to_contain_text("Toughen up")
    await expect(item.locator(".flag-list")).to_contain_text("Disrespect or harassment")
    await expect(item.locator(".flag-note")).to_have_text("Dismissive of someone asking for help.")
    await item.get_by_role("button", name="Claim").click()
    await expect(moderator.locator(".flash")).to_contain_text("Claimed")
    item = flagged
    await expect(item).to_contain_text("claimed by Noor")
    await item.get_by_role("link", name="Review and decide").click()
    await moderator.wait_for_url(re.compile(r"/review/post/\d+"))
    await moderator.get_by_label("Hide", exact=True).check()
    await moderator.get_by_role("button", name="Apply decision").click()  # a reason is required to hide
    await expect(moderator.locator(".alert-error")).to_be_visible()
    await expect(moderator.get_by_label("Hide", exact=True)).to_be_checked()
    reason = "Please speak to colleagues with the care you would want at 4 a.m."
    await moderator.get_by_role("region", name="Decide").get_by_label("Reason").fill(reason)
    await moderator.get_by_role("button", name="Apply decision").click()
    await moderator.wait_for_url(server.url + "/review")
    await expect(moderator.locator(".flash")).to_have_text("Done: hide.")
    await expect(flagged).to_have_count(0)

    # The writer sees the outcome and the reason.
    await writer.goto(server.url + "/notifications")
    note = writer.locator(".notification").filter(has_text="A moderator hid your writing")
    await expect(note).to_contain_text(reason)
    await expect(note).to_contain_text("from the moderators")
    await note.get_by_role("link").click()
    await writer.wait_for_url(re.compile(r"/t/\d+"))
    await expect(post_by(writer, w["name"]).locator(".state-note")).to_contain_text("Hidden from others")

    # Others no longer see it; the flagger is thanked.
    await starter.goto(thread_url)
    await expect(starter.get_by_text("Toughen up")).to_have_count(0)
    await starter.goto(server.url + "/notifications")
    await expect(starter.locator(".notification").filter(has_text="Thank you for your flag")).to_contain_text(
        "A moderator hid it.")
