"""Journey 5: an attending hosts a live session; a resident joins from another browser. Messages appear in both;
the resident drops offline and comes back, and what was said meanwhile appears exactly once; the host mutes the
resident, who is told. While messages arrive, the resident's page does not shift (CLS ~ 0)."""

import re

import asyncpg
from playwright.async_api import expect

from community.platform.db import asyncpg_args
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

    # The resident drops offline; the host keeps talking; the resident's own message is kept, shown as sending.
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
    await expect(resident.locator("#room-log li.msg-pending")).to_contain_text("Sorry, my signal is bad down here.")
    await expect(resident.get_by_label("Your message")).to_have_value("")  # nothing to retype
    for text in missed:
        await expect(room_message(resident, text)).to_have_count(0)

    # Back online: the missed messages arrive, each exactly once, in order; the kept message is sent by itself,
    # once.
    await resident.context.set_offline(False)
    await expect(resident.locator("#room-connection")).to_have_attribute("data-state", "live", timeout=30_000)
    for text in missed:
        await expect(room_message(resident, text)).to_have_count(1)
    bodies = await resident.locator("#room-log li.msg .msg-body").all_inner_texts()
    assert [b for b in bodies if b.startswith("While you were away")] == missed
    await expect(room_message(host, "my signal is bad")).to_have_count(1)
    await expect(room_message(resident, "my signal is bad")).to_have_count(1)
    await expect(resident.locator("#room-log li.msg-pending")).to_have_count(0)
    # Read once the kept message is acknowledged: until its ack arrives it is shown without a sequence number.
    seqs = await resident.locator("#room-log li.msg").evaluate_all("els => els.map((e) => e.dataset.seq)")
    assert len(seqs) == len(set(seqs)) and seqs == sorted(seqs, key=int)

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


async def test_room_follows_the_browsers_offline_and_online_events(server, new_page):
    """A real network loss leaves the socket looking open (nothing arrives, nothing errors): `offline` shows it at
    once, and `online` drops the stale socket and resumes after the last seq seen, without waiting for the old
    socket to time out. Live times use the member's zone and a 24-hour clock, like the server's."""
    host, _ = await new_member(new_page, server, "attending", "Ines", **DEVICES["desktop"])
    room_url = await schedule_room(host, server, f"Night shift {unique('room')}")
    await enter_room(host, room_url)
    # A browser in another zone with a 12-hour locale: the member's zone (UTC by default) and %H:%M still win.
    resident, _ = await new_member(new_page, server, "resident", "Omar", **DEVICES["desktop"],
                                   locale="en-US", timezone_id="America/Los_Angeles")
    sockets = []      # (page side, server side, url)
    dead = {"on": False}   # the network is gone: frames vanish both ways, but nobody sees a close

    def through(ws):
        server_side = ws.connect_to_server()
        entry = {"page": ws, "server": server_side, "url": ws.url, "closed_by_page": False}

        def to_server(message):
            if not dead["on"]:
                server_side.send(message)

        def to_page(message):
            if not dead["on"]:
                ws.send(message)

        async def page_closed(code, reason):
            entry["closed_by_page"] = True
            await server_side.close(code=code, reason=reason)

        ws.on_message(to_server)
        server_side.on_message(to_page)
        ws.on_close(page_closed)
        sockets.append(entry)

    await resident.route_web_socket(re.compile(r"/rooms/\d+/ws"), through)
    await enter_room(resident, room_url)
    await say_in_room(host, "First, how is everyone sleeping?")
    first = room_message(resident, "how is everyone sleeping")
    await expect(first).to_have_count(1)
    seen = int(await first.get_attribute("data-seq"))

    # 24-hour time in the member's zone (UTC), the same as the server renders for this message.
    live_time = await first.locator("time.msg-time").inner_text()
    assert re.fullmatch(r"[0-2]\d:[0-5]\d", live_time), live_time
    html = await (await resident.request.get(room_url)).text()
    server_time = re.search(rf'id="m{seen}".*?<time class="msg-time"[^>]*>([^<]+)</time>', html, re.S).group(1)
    assert live_time == server_time

    # The network goes: the page says so at once, though its socket still looks open.
    dead["on"] = True
    await resident.context.set_offline(True)
    await expect(resident.locator("#room-connection")).to_have_attribute("data-state", "offline", timeout=2_000)
    assert len(sockets) == 1 and not sockets[0]["closed_by_page"]
    missed = [f"Meanwhile {n}: nights are hard for everyone." for n in range(1, 4)]
    for text in missed:
        await say_in_room(host, text)
    await expect(room_message(host, missed[-1])).to_have_count(1)
    await say_in_room(resident, "Typed while offline.")
    await expect(resident.locator("#room-panel")).to_contain_text("Not connected right now")
    await expect(resident.locator("#room-log li.msg-pending")).to_contain_text("Typed while offline.")
    await expect(resident.get_by_label("Your message")).to_have_value("")

    # Back: the stale socket is closed and a new one resumes after the last seq seen, at once (no backoff).
    dead["on"] = False
    await resident.context.set_offline(False)
    await expect(resident.locator("#room-connection")).to_have_attribute("data-state", "live", timeout=5_000)
    assert sockets[0]["closed_by_page"]
    assert len(sockets) == 2 and sockets[1]["url"].endswith(f"?after={seen}"), [s["url"] for s in sockets]
    for text in missed:
        await expect(room_message(resident, text)).to_have_count(1)
    # What was typed offline goes by itself once the catch-up is in, with its id: once, and nothing to retype.
    await expect(room_message(host, "Typed while offline.")).to_have_count(1)
    await expect(room_message(resident, "Typed while offline.")).to_have_count(1)
    await expect(resident.locator("#room-log li.msg-pending")).to_have_count(0)
    await say_in_room(host, "And after the break.")
    await expect(room_message(resident, "after the break")).to_have_count(1)
    bodies = await resident.locator("#room-log li.msg .msg-body").all_inner_texts()
    assert bodies[-6:] == ["First, how is everyone sleeping?", *missed, "Typed while offline.", "And after the break."]
    seqs = await resident.locator("#room-log li.msg").evaluate_all("els => els.map((e) => Number(e.dataset.seq))")
    assert len(seqs) == len(set(seqs)) and seqs == sorted(seqs)


async def test_a_message_committed_after_the_reconnect_is_neither_returned_nor_doubled(server, new_page):
    """The old socket's send commits after the new socket read its history (a slow commit holds the room row for
    2 s). The page must not say "not sent" or put the text back in the box: it resends the same client_id, the
    server answers with the original seq, and the message shows once, in both browsers."""
    host, _ = await new_member(new_page, server, "attending", "Noor", **DEVICES["desktop"])
    room_url = await schedule_room(host, server, f"Handover {unique('room')}")
    await enter_room(host, room_url)
    resident, _ = await new_member(new_page, server, "resident", "Teo", **DEVICES["desktop"])
    sockets = []

    def through(ws):
        sockets.append((ws, ws.connect_to_server()))

    await resident.route_web_socket(re.compile(r"/rooms/\d+/ws"), through)
    await enter_room(resident, room_url)
    await say_in_room(host, "Before the slow commit.")
    await expect(room_message(resident, "Before the slow commit.")).to_have_count(1)
    room_id = int(room_url.rstrip("/").rsplit("/", 1)[1])
    blocker = await asyncpg.connect(**asyncpg_args(server.database_url))
    try:
        tx = blocker.transaction()
        await tx.start()
        await blocker.execute("SELECT 1 FROM rooms WHERE id = $1 FOR NO KEY UPDATE", room_id)
        await say_in_room(resident, "Sent just as the line dropped.")
        await resident.wait_for_timeout(300)  # the send is in the server, waiting for the room row
        page_side, server_side = sockets[-1]
        await page_side.close(code=1001, reason="network lost")  # the page's socket dies, the server's lives on
        await expect(resident.locator("#room-connection")).to_have_attribute("data-state", "live", timeout=15_000)
        assert len(sockets) == 2
        await resident.wait_for_timeout(1_500)
        await tx.rollback()
    finally:
        await blocker.close()
    await expect(room_message(host, "Sent just as the line dropped.")).to_have_count(1)
    await expect(room_message(resident, "Sent just as the line dropped.")).to_have_count(1)
    await expect(resident.locator("#room-log li.msg-pending")).to_have_count(0)
    await expect(resident.get_by_label("Your message")).to_have_value("")
    await expect(resident.locator("#room-panel")).not_to_contain_text("not sent")
    await resident.wait_for_timeout(500)
    await expect(room_message(resident, "Sent just as the line dropped.")).to_have_count(1)
    stored = await _count(server.database_url, room_id, "Sent just as the line dropped.")
    assert stored == 1


async def _count(url: str, room_id: int, text: str) -> int:
    conn = await asyncpg.connect(**asyncpg_args(url))
    try:
        return await conn.fetchval("SELECT count(*) FROM room_messages WHERE room_id = $1 AND body_text = $2",
                                   room_id, text)
    finally:
        await conn.close()
