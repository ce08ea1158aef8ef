"""Steps the journeys share, done the way a member does them: through the pages, with the mouse or a finger."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.async_api import Page, expect

CATEGORY = "empathy-vs-compassion"  # a seeded, open category


async def start_thread(page: Page, server, title: str, body: str, category: str = CATEGORY) -> str:
    """Starts a thread from the category page; returns the thread's URL (without the query)."""
    await page.goto(f"{server.url}/c/{category}")
    await page.get_by_role("link", name="Start a thread").click()
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Your post").fill(body)
    await page.get_by_role("button", name="Post thread").click()
    await page.wait_for_url(re.compile(r"/t/\d+"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return page.url.split("?")[0].split("#")[0]


async def reply_in_thread(page: Page, thread_url: str, body: str) -> None:
    await page.goto(thread_url)
    await page.locator(".reply-box").get_by_label("Your reply").fill(body)
    await page.locator(".reply-box").get_by_role("button", name="Post reply").click()
    await expect(page.locator(".flash")).to_have_text("Your reply is posted.")


def post_by(page: Page, author: str):
    """The post (article) written by `author` on a thread page."""
    return page.locator("article.post").filter(has=page.get_by_role("heading", name=author))


async def schedule_room(page: Page, server, title: str) -> str:
    """An attending (or moderator) schedules a session starting now; returns the room's URL."""
    await page.goto(server.url + "/rooms")
    await page.get_by_role("link", name="Schedule a session").click()
    start = datetime.now(UTC).replace(second=0, microsecond=0)  # members' time zone defaults to UTC
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Starts").fill(start.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("Ends").fill((start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_role("button", name="Schedule").click()
    await page.wait_for_url(re.compile(r"/rooms/\d+$"))
    return page.url


async def enter_room(page: Page, room_url: str, pseudonym: bool = False) -> None:
    """Opens the room, acknowledges the ground rules (first time), and waits until live chat is connected."""
    await page.goto(room_url)
    if await page.get_by_role("button", name="Enter the room").count():
        await page.get_by_label("I have read the ground rules").check()
        if pseudonym:
            await page.get_by_label("Under a pseudonym").check()
        await page.get_by_role("button", name="Enter the room").click()
    await expect(page.locator("#room-connection")).to_have_attribute("data-state", "live", timeout=20_000)


async def say_in_room(page: Page, text: str) -> None:
    await page.get_by_label("Your message").fill(text)
    await page.get_by_role("button", name="Send", exact=True).click()


def room_message(page: Page, text: str):
    return page.locator("#room-log li.msg").filter(has_text=text)
