"""Journey 5: an attending hosts a live session; a resident joins from another browser. Messages appear in both;
the resident drops offline and comes back, and what was said meanwhile appears exactly once; the host mutes the
resident, who is told. While messages arrive, the resident's page does not shift (CLS ~ 0)."""

import re

from playwright.async_api import expect

from tests.browser.conftest import DEVICES, new_member, unique
from tests.browser.flows import enter_room, room_message, say_in_room, schedule_room

# Sums layout shifts not caused by input; reset with `window.__cls = 0` before the window being measured.
LAYOUT_SHIFT_OBSERVER = """
window.__cls = 0;
window.__shifts = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.hadRecentInput) continue;
    window.__cls += entry.value;
    window.__shifts.push({value: entry.value, nodes: (entry.sources || []).map(
      (s) => s.node ? (s.node.id || s.node.className || s.node.nodeName) : "?")});
  }
}).observe({type: "layout-shift", buffered: true});
"""


async def test_live_room_reconnect_and_mute(server, new_page, device):
    host, h = await new_member(new_page, server, "attending", "Grace", **DEVICES["desktop"])
    room_url = await schedule_room(host, server, f"Debrief {unique('room')}")
    await enter_room(host, room_url)
    await expect(host.locator("#room-state")).to_have_text("Open")

    resident, r = await new_member(new_page, server, "resident", "Luca", **device)
    await resident.add_init_script(LAYOUT_SHIFT_OBSERVER)
    # Going offline in Chromium blocks new connections but leaves an open WebSocket alone, where a real network
    # loss would break it: the socket goes through Playwright so the test can drop it at that moment.
    sockets = []

    def through(ws):
        sockets.append((ws, ws.connect_to_server()))

    await resident.route_web_socket(re.compile(r"/rooms/\d+/ws"), through)
    await enter_room(resident, room_url)
    await expect(resident.locator("#room-people")).to_contain_text(h["name"])
    await expect(host.locator("#room-people")).to_contain_text(r["name"])

    # Messages appear in both browsers, once.
    await say_in_room(host, "Welcome, both. What stayed with you this week?")
    await expect(room_message(resident, "What stayed with you this week?")).to_have_count(1)
    await say_in_room(resident, "A family meeting that went better than I feared.")
    await expect(room_message(host, "went better than I feared")).to_have_count(1)
    await expect(room_message(resident, "went better than I feared")).to_have_count(1)
    await expect(resident.get_by_label("Your message")).to_have_value("")

    # No layout shift while live messages arrive.
    await resident.wait_for_timeout(300)  # let the last message's scroll settle before measuring
    await resident.evaluate("window.__cls = 0; window.__shifts = []")
    for n in range(1, 7):
        await say_in_room(host, f"Arriving message {n}: take your time, there is no hurry here.")
    await expect(room_message(resident, "Arriving message 6")).to_have_count(1)
    await resident.wait_for_timeout(300)
    cls, shifts = await resident.evaluate("[window.__cls, window.__shifts]")
    assert cls < 0.01, shifts

    # The resident drops offline; the host keeps talking; the resident's own message waits in the box.
    await resident.context.set_offline(True)
    page_side, server_side = sockets[-1]
    await server_side.close(code=1001, reason="network lost")
    await page_side.close(code=1001, reason="network lost")
    await expect(resident.locator("#room-connection")).not_to_have_attribute("data-state", "live",
                                                                              timeout=30_000)
    missed = [f"While you were away {n}: we talked about sleep." for n in range(1, 4)]
    for text in missed:
        await say_in_room(host, text)
    await expect(room_message(host, missed[-1])).to_have_count(1)
    await say_in_room(resident, "Sorry, my signal is bad down here.")
    await expect(resident.locator("#room-panel")).to_contain_text("Not connected right now")
    await expect(resident.get_by_label("Your message")).to_have_value("Sorry, my signal is bad down here.")
    for text in missed:
        await expect(room_message(resident, text)).to_have_count(0)

    # Back online: the missed messages arrive, each exactly once, in order; the kept message can be sent.
    await resident.context.set_offline(False)
    await expect(resident.locator("#room-connection")).to_have_attribute("data-state", "live", timeout=30_000)
    for text in missed:
        await expect(room_message(resident, text)).to_have_count(1)
    bodies = await resident.locator("#room-log li.msg .msg-body").all_inner_texts()
    assert [b for b in bodies if b.startswith("While you were away")] == missed
    seqs = await resident.locator("#room-log li.msg").evaluate_all("els => els.map((e) => e.dataset.seq)")
    assert len(seqs) == len(set(seqs)) and seqs == sorted(seqs, key=int)
    await resident.get_by_role("button", name="Send", exact=True).click()
    await expect(room_message(host, "my signal is bad")).to_have_count(1)
    await expect(room_message(resident, "my signal is bad")).to_have_count(1)

    # The host mutes the resident, who sees it, and cannot post until the mute ends.
    person = host.locator("#room-people li").filter(has_text=r["name"])
    await person.get_by_role("button", name="Mute 10 min").click()
    await expect(resident.locator("#room-panel")).to_have_text(
        "The host muted you for 10 minutes. You can keep reading.")
    await say_in_room(resident, "Can anyone hear me?")
    await expect(resident.locator("#room-panel")).to_contain_text(re.compile("You are muted in this room until"))
    await expect(room_message(host, "Can anyone hear me?")).to_have_count(0)
    await say_in_room(host, "Let us pause here for a moment.")
    await expect(room_message(resident, "Let us pause here")).to_have_count(1)
