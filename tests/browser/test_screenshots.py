"""Screenshots of the main pages for docs/screenshots/ (light and dark, desktop and phone).

Runs only with SCREENSHOTS=1:  SCREENSHOTS=1 .venv/bin/pytest tests/browser/test_screenshots.py -p no:cacheprovider
"""

import os
import re

import pytest
from playwright.async_api import expect

from community.settings import ROOT
from tests.browser.conftest import DEVICES, admin_page, member_page
from tests.browser.flows import enter_room, say_in_room, schedule_room, start_thread

pytestmark = pytest.mark.skipif(os.environ.get("SCREENSHOTS") != "1", reason="set SCREENSHOTS=1 to refresh them")

OUT = ROOT / "docs" / "screenshots"


async def test_screenshots(server, new_page):
    OUT.mkdir(parents=True, exist_ok=True)
    admin = await admin_page(new_page, server)
    resident = await member_page(new_page, server, "resident", "Sam Okafor")
    attending = await member_page(new_page, server, "attending", "Dr Helen Marsh")

    thread_url = await start_thread(
        resident, server, "The family meeting I keep replaying",
        "Last week I sat in on a family meeting where the attending said almost nothing for the first minutes. "
        "She just let the silence be. I have been trying to work out why it felt so much kinder than what I "
        "usually do, which is fill every gap with information.\n\nHas anyone else learned this from watching "
        "someone?")
    await attending.goto(thread_url)
    await attending.get_by_role("link", name="Quote").first.click()
    body = attending.get_by_label("Your reply")
    await body.fill(await body.input_value() + "\n\nYes. Silence is an intervention. It took me years to trust it, "
                    "and I still count to ten.")
    await attending.get_by_role("button", name="Post reply").click()
    await expect(attending.locator(".flash")).to_have_text("Your reply is posted.")
    await attending.get_by_role("button", name="Thank you").first.click()

    # a flag, so the review queue has an item
    flagger = await member_page(new_page, server, "resident", "Jo Park")
    await flagger.goto(thread_url)
    await flagger.locator("article.post").last.get_by_role("link", name="Flag").click()
    await flagger.get_by_label("Off-topic").check()
    await flagger.get_by_label("Anything the moderators should know").fill("Maybe better in Role models?")
    await flagger.get_by_role("button", name="Send to moderators").click()

    # an anonymous reflection on the wall
    await resident.goto(server.url + "/reflections/new")
    await resident.get_by_label("Title").fill("Three minutes in the stairwell")
    await resident.get_by_label("Your reflection").fill(
        "After the code I went to the stairwell and breathed. Nobody taught me that; I watched a nurse do it "
        "once. I think compassion for patients starts with a little of it for ourselves.")
    await resident.get_by_label("Shared anonymously on the reflection wall").check()
    await resident.get_by_role("button", name="Save reflection").click()
    await resident.wait_for_url(re.compile(r"/reflections/\d+"))

    # a live room with a few messages
    room_url = await schedule_room(attending, server, "Thursday debrief")
    await enter_room(attending, room_url)
    await enter_room(resident, room_url, pseudonym=True)
    await say_in_room(attending, "Welcome. No agenda tonight: what stayed with you this week?")
    await say_in_room(resident, "The patient's daughter thanked me for sitting with her. I almost didn't.")
    await say_in_room(attending, "That almost is worth talking about. What made you stay?")
    await expect(resident.locator("#room-log li.msg")).to_have_count(3)

    state = await admin.context.storage_state()
    pages = {"home": "/", "categories": "/c", "category": "/c/empathy-vs-compassion", "thread": thread_url,
             "reflection-wall": "/reflections", "reflection-composer": "/reflections/new", "journal": "/journal",
             "prompts": "/prompts", "rooms": "/rooms", "live-room": room_url, "review-queue": "/review",
             "admin": "/admin"}
    journal_state = await resident.context.storage_state()  # the resident has a journal worth showing
    for scheme in ("light", "dark"):
        page = await new_page(color_scheme=scheme, storage_state=state)
        own = await new_page(color_scheme=scheme, storage_state=journal_state)
        for name, path in pages.items():
            who = own if name in ("journal", "live-room") else page
            await who.goto(path if path.startswith("http") else server.url + path)
            if name == "live-room":
                await expect(who.locator("#room-connection")).to_have_attribute("data-state", "live")
            await who.screenshot(path=str(OUT / f"{name}-{scheme}.png"), full_page=name != "live-room")
    for scheme in ("light", "dark"):
        phone = await new_page(color_scheme=scheme, storage_state=journal_state, **DEVICES["phone"])
        for name, path in (("home", "/"), ("thread", thread_url), ("live-room", room_url)):
            await phone.goto(path if path.startswith("http") else server.url + path)
            await phone.screenshot(path=str(OUT / f"phone-{name}-{scheme}.png"), full_page=name != "live-room")
