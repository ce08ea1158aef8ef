"""Keyboard-only use of the composers and of a live room: from the skip link, Tab reaches the fields and the
submit button in a sensible order, every stop shows a visible focus indicator, and the job gets done without a
mouse."""

import re

import pytest
from playwright.async_api import expect

from tests.browser.conftest import DEVICES, new_member, unique
from tests.browser.flows import CATEGORY, enter_room, room_message, schedule_room

# What the focused element is, and whether :focus-visible draws something (an outline or a box-shadow).
FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0;
  const shadow = style.boxShadow && style.boxShadow !== "none";
  return {
    key: el.id ? "#" + el.id : (el.getAttribute("value") || el.textContent || el.tagName).trim().slice(0, 40),
    tag: el.tagName, focusVisible: el.matches(":focus-visible"), indicator: outline || shadow,
  };
}"""


async def tab_until(page, last: str, limit: int = 40, from_skip_link: bool = True) -> list[dict]:
    """Starts at the skip link (first Tab on a fresh page), follows it, then Tabs until `last` has focus."""
    if from_skip_link:
        await page.keyboard.press("Tab")
        first = await page.evaluate(FOCUSED)
        assert first["key"] == "Skip to main content", first
        assert first["indicator"], "the skip link shows focus"
        await page.keyboard.press("Enter")
        await expect(page.locator("#main")).to_be_focused()
    stops = []
    for _ in range(limit):
        await page.keyboard.press("Tab")
        stop = await page.evaluate(FOCUSED)
        stops.append(stop)
        if stop["key"] == last:
            return stops
    raise AssertionError(f"{last} not reached in {limit} Tabs: {[s['key'] for s in stops]}")


def keys(stops: list[dict]) -> list[str]:
    return [s["key"] for s in stops]


def in_order(stops: list[dict], *wanted: str) -> None:
    order = keys(stops)
    positions = [order.index(w) for w in wanted]
    assert positions == sorted(positions), order
    missing = [s["key"] for s in stops if not (s["focusVisible"] and s["indicator"])]
    assert missing == [], f"no visible focus indicator on {missing}"


@pytest.mark.parametrize("device_name", ["desktop", "phone"])
async def test_thread_composer_by_keyboard(server, new_page, device_name):
    page, _ = await new_member(new_page, server, "resident", "Kai", **DEVICES[device_name])
    await page.goto(f"{server.url}/c/{CATEGORY}/new")
    stops = await tab_until(page, "Post thread")
    in_order(stops, "#f-title", "#f-body", "Post thread")
    assert keys(stops).index("#f-body") == keys(stops).index("#f-title") + 1, keys(stops)

    # Write and post without the mouse.
    title = f"Written by keyboard {unique('k')}"
    await page.keyboard.press("Shift+Tab")
    await expect(page.locator("#f-body")).to_be_focused()
    await page.keyboard.type("Every word of this was typed; the mouse stayed in the drawer.")
    await page.keyboard.press("Shift+Tab")
    await expect(page.locator("#f-title")).to_be_focused()
    await page.keyboard.type(title)
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Post thread")).to_be_focused()
    await page.keyboard.press("Enter")
    await page.wait_for_url(re.compile(r"/t/\d+"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)


async def test_reflection_composer_by_keyboard(server, new_page):
    page, _ = await new_member(new_page, server, "resident", "Mina")
    await page.goto(server.url + "/reflections/new")
    stops = await tab_until(page, "draft")
    in_order(stops, "#f-title", "#f-body", "#f-prompt_id", "#f-theme", "private", "publish", "draft")


async def test_live_room_by_keyboard(server, new_page):
    host, _ = await new_member(new_page, server, "attending", "Sol")
    room_url = await schedule_room(host, server, f"Quiet hour {unique('q')}")
    await enter_room(host, room_url)

    page, _ = await new_member(new_page, server, "resident", "Ravi")
    await page.goto(room_url)
    # The ground rules, acknowledged from the keyboard.
    await page.get_by_label("I have read the ground rules").focus()
    await page.keyboard.press("Space")
    await expect(page.get_by_label("I have read the ground rules")).to_be_checked()
    await page.get_by_role("button", name="Enter the room").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#room-connection")).to_have_attribute("data-state", "live", timeout=20_000)

    stops = await tab_until(page, "#room-send")
    in_order(stops, "← All rooms", "#room-log", "#room-text", "#room-send")
    await page.keyboard.press("Shift+Tab")
    await expect(page.get_by_label("Your message")).to_be_focused()
    await page.keyboard.type("Typed and sent with Enter.")
    await page.keyboard.press("Enter")
    await expect(room_message(host, "Typed and sent with Enter.")).to_have_count(1)
    await expect(page.get_by_label("Your message")).to_be_focused()

    # The rest of the room is reachable too: the ground rules open from the keyboard.
    stops = await tab_until(page, "Ground rules", from_skip_link=False)
    assert stops[-1]["focusVisible"] and stops[-1]["indicator"]
    await page.keyboard.press("Enter")
    await expect(page.locator(".room-rules-box")).to_have_attribute("open", "")
