"""Journey 7 (the other journeys run at a phone size too): on a phone the main navigation still works. Behind the
Menu button of the compact bar (tests/browser/test_phone.py checks the bar itself), every link is on screen (no
sideways scrolling), big enough to tap, and takes you where it says; no page is wider than the screen."""

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DEVICES, admin_page, new_member

PAGES = ["/", "/c", "/c/empathy-vs-compassion", "/reflections", "/reflections/new", "/journal", "/prompts",
         "/rooms", "/notifications", "/account", "/review", "/admin", "/admin/audit", "/admin/members"]


async def open_menu(page, touch: bool) -> None:
    """On a phone the links are folded behind the Menu button: open it (nothing to do on a desktop)."""
    menu = page.get_by_role("navigation", name="Main").get_by_role("button", name="Menu")
    if await menu.is_visible() and await menu.get_attribute("aria-expanded") != "true":
        await (menu.tap() if touch else menu.click())
        await expect(menu).to_have_attribute("aria-expanded", "true")


async def check_nav(page, server, touch: bool):
    nav = page.get_by_role("navigation", name="Main")
    await open_menu(page, touch)
    links = nav.get_by_role("link")
    hrefs = [await link.get_attribute("href") for link in await links.all()]
    assert "/resources" in hrefs
    width = page.viewport_size["width"]
    for href in hrefs:
        await page.goto(server.url + "/")
        await open_menu(page, touch)
        link = nav.locator(f'a[href="{href}"]')
        await expect(link).to_be_visible()
        box = await link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{href} is off screen: {box}"
        assert box["height"] >= 44 and box["width"] >= 44, f"{href} is too small to tap: {box}"
        await (link.tap() if touch else link.click())
        await page.wait_for_url(server.url + href)
        if href != "/resources":
            await expect(nav.locator(f'a[href="{href}"]')).to_have_attribute("aria-current", "page")
    await open_menu(page, touch)
    button = nav.get_by_role("button", name="Sign out")
    box = await button.bounding_box()
    assert box["x"] + box["width"] <= width and box["height"] >= 44
    return hrefs


async def no_sideways_scroll(page, server, paths):
    wide = []
    for path in paths:
        await page.goto(server.url + path)
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            wide.append(f"{path} is {overflow}px wider than the screen")
    return wide


@pytest.mark.parametrize("device_name", ["phone", "desktop"])
async def test_member_navigation(server, new_page, device_name):
    page, me = await new_member(new_page, server, "resident", "Pia", **DEVICES[device_name])
    hrefs = await check_nav(page, server, touch=device_name == "phone")
    assert hrefs == ["/c", "/reflections", "/journal", "/prompts", "/rooms", "/notifications", "/account",
                     "/resources"]
    # Header height on a phone stays reasonable: the content starts on the first screen.
    main_top = (await page.locator("main").bounding_box())["y"]
    assert main_top < page.viewport_size["height"] / 3, main_top
    await open_menu(page, device_name == "phone")
    await page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    await page.wait_for_url(server.url + "/signin")


async def test_staff_navigation_on_a_phone(server, new_page):
    page = await admin_page(new_page, server, **DEVICES["phone"])
    hrefs = await check_nav(page, server, touch=True)
    assert "/review" in hrefs and "/admin" in hrefs
    assert await no_sideways_scroll(page, server, PAGES) == []


async def test_signed_out_navigation_on_a_phone(server, new_page):
    page = await new_page(**DEVICES["phone"])
    await page.goto(server.url + "/")
    nav = page.get_by_role("navigation", name="Main")
    for name, href in (("Guidelines", "/guidelines"), ("Sign in", "/signin"), ("Need help now?", "/resources")):
        await page.goto(server.url + "/")
        await open_menu(page, True)
        await nav.get_by_role("link", name=name).tap()
        await page.wait_for_url(server.url + href)
    assert await no_sideways_scroll(page, server, ["/", "/signin", "/guidelines", "/resources"]) == []


async def test_staff_header_fits_on_one_row_at_1280(server, new_page):
    """An admin has the most links; at 1280 px they all sit on one row (nothing wraps alone onto a further row),
    and every link is still a comfortable target."""
    page = await admin_page(new_page, server, **DEVICES["desktop"])
    assert page.viewport_size["width"] == 1280
    for path in ("/", "/review", "/admin"):
        await page.goto(server.url + path)
        nav = page.get_by_role("navigation", name="Main")
        items = await nav.locator("ul > li").evaluate_all(
            "els => els.map((e) => { const r = e.getBoundingClientRect();"
            " return {text: e.innerText.trim(), top: r.top, bottom: r.bottom, right: r.right}; })")
        assert [i["text"] for i in items][-1] == "Need help now?"
        assert len({round(i["top"]) for i in items}) == 1, items
        assert max(i["right"] for i in items) <= 1280
        for link in await nav.get_by_role("link").all():
            box = await link.bounding_box()
            assert box["height"] >= 44 and box["width"] >= 44, box
        assert await page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
