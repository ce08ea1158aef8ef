"""The phone layout at 390×844 (issue 19): the main navigation folds into a compact bar with a real Menu button
(keyboard and touch, axe-clean), the live room's message box is on screen without scrolling, and admin tables
reflow into one card per row instead of overflowing. Each check saves its screenshot in artifacts/phone/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from community.settings import ROOT
from tests.browser.conftest import DEVICES, admin_page, member_page, unique
from tests.browser.flows import enter_room, say_in_room, schedule_room
from tests.browser.test_accessibility import serious_violations

pytestmark = pytest.mark.browser
PHONE = DEVICES["phone"]
SHOTS = ROOT / "artifacts" / "phone"


async def shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path


async def test_the_navigation_folds_into_a_menu_button(server, new_page):
    page = await member_page(new_page, server, "resident", "Nia Phone", **PHONE)
    await page.goto(server.url + "/")
    nav = page.get_by_role("navigation", name="Main")
    menu = nav.get_by_role("button", name="Menu")
    await expect(menu).to_be_visible()
    await expect(menu).to_have_attribute("aria-expanded", "false")
    # The compact bar: one row (brand, "Need help now?", Menu), the other links folded away.
    header = await page.locator(".site-header").bounding_box()
    assert header["height"] <= 80, header
    await expect(nav.get_by_role("link", name="Need help now?")).to_be_visible()
    await expect(nav.get_by_role("link", name="Threads")).to_be_hidden()
    box = await menu.bounding_box()
    assert box["height"] >= 44 and box["width"] >= 44 and box["x"] + box["width"] <= 390, box
    assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    await shot(page, "nav-closed")
    assert await serious_violations(page) == []

    # Touch: the menu opens below the bar, every link on screen and big enough to tap.
    await menu.tap()
    await expect(menu).to_have_attribute("aria-expanded", "true")
    for link in await nav.get_by_role("link").all():
        await expect(link).to_be_visible()
        box = await link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 44, box
    await shot(page, "nav-open")
    assert await serious_violations(page) == []
    await nav.get_by_role("link", name="Rooms").tap()
    await page.wait_for_url(server.url + "/rooms")
    await expect(nav.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")

    # Keyboard: from the skip link, Tab reaches Menu; Enter opens it, Tab goes into the links, Escape closes it
    # and puts focus back on the button.
    await page.keyboard.press("Tab")  # skip link
    await page.keyboard.press("Tab")  # brand
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.textContent.trim()")
    if focused != "Menu":  # "Need help now?" sits before Menu in the tab order on the bar? Then one more.
        await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent.trim()") == "Menu"
    await page.keyboard.press("Enter")
    await expect(menu).to_have_attribute("aria-expanded", "true")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.closest('#site-menu') !== null")
    await page.keyboard.press("Escape")
    await expect(menu).to_have_attribute("aria-expanded", "false")
    assert await page.evaluate("document.activeElement.textContent.trim()") == "Menu"
    await expect(nav.get_by_role("link", name="Threads")).to_be_hidden()


async def test_the_desktop_navigation_keeps_every_link_and_no_menu(server, new_page):
    page = await member_page(new_page, server, "resident", "Dee Desk", **DEVICES["desktop"])
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("button", name="Menu")).to_be_hidden()
    await expect(nav.get_by_role("link", name="Threads")).to_be_visible()


async def test_the_room_message_box_is_on_screen_without_scrolling(server, new_page):
    host = await member_page(new_page, server, "attending", "Hal Host", **PHONE)
    room_url = await schedule_room(host, server, unique("Phone room"))
    await enter_room(host, room_url)
    for n in range(12):  # enough messages to fill the log
        await say_in_room(host, f"Message number {n} in a room seen on a phone, long enough to wrap a line or two.")
    await expect(host.locator("#room-log li.msg")).to_have_count(12)
    await host.goto(room_url)
    await expect(host.locator("#room-connection")).to_have_attribute("data-state", "live", timeout=20_000)
    assert await host.evaluate("window.scrollY") == 0
    await shot(host, "live-room")
    for name in ("Your message",):
        box = await host.get_by_label(name).bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 844, box
    send = await host.get_by_role("button", name="Send", exact=True).bounding_box()
    assert send["y"] + send["height"] <= 844 and send["x"] + send["width"] <= 390, send
    # The latest message shows above the box.
    last = await host.locator("#room-log li.msg").last.bounding_box()
    log = await host.locator("#room-log").bounding_box()
    assert log["y"] >= 0 and last["y"] + last["height"] <= log["y"] + log["height"] + 1
    assert await host.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


@pytest.mark.parametrize("path", ["/admin/members", "/admin/audit", "/admin/invitations", "/admin/mail",
                                  "/admin/watched-words", "/admin/categories"])
async def test_admin_tables_reflow(server, new_page, path):
    page = await admin_page(new_page, server, **PHONE)
    await page.goto(server.url + path)
    assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    tables = page.locator("main table")
    count = await tables.count()
    assert count > 0, f"{path} has no table"
    for n in range(count):
        table = tables.nth(n)
        width = await table.evaluate("t => t.scrollWidth - t.parentElement.clientWidth")
        assert width <= 0, f"{path}: table {n} overflows by {width}px"
        cells = table.locator("tbody td[data-label]")
        if await cells.count():  # each cell names its column, now that the header row is out of sight
            label = await cells.first.evaluate("td => getComputedStyle(td, '::before').content")
            assert label not in ("none", "normal", '""'), label
    await shot(page, "admin-" + re.sub(r"[^a-z]+", "-", path).strip("-"))
