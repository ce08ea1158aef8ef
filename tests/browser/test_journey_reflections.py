"""Journey 2: a resident writes to the prompt of the week; the draft survives a reload (server autosave, then the
newer copy kept in localStorage while the server could not be reached); it is shared anonymously; another member
replies; the author is notified. Nothing the other member's browser received names the author."""

import json
import re

from playwright.async_api import expect

from tests.browser.conftest import new_member, unique

FIRST = "The resident's face when I told her the scan was clear stayed with me all evening."
SECOND = " I realised I had been bracing for bad news so long that good news felt like a kind of grief too."


class Witness:
    """Everything a browser received as a page or a fetch response (HTML and JSON), plus each rendered DOM."""

    def __init__(self, page):
        self.page = page
        self.bodies: list[tuple[str, str]] = []
        page.on("response", self._on_response)

    async def _on_response(self, response):
        kind = response.request.resource_type
        if kind in ("document", "fetch", "xhr") and response.status < 300:
            try:
                self.bodies.append((response.url, await response.text()))
            except Exception:  # a body that is gone (navigated away) was also captured as a DOM snapshot
                pass

    async def snap(self):
        self.bodies.append((self.page.url + " (DOM)", await self.page.content()))

    def leaks(self, identity: dict) -> list[str]:
        found = []
        for url, body in self.bodies:
            for what, value in identity.items():
                if value.lower() in body.lower():
                    found.append(f"{url} shows the author's {what} ({value})")
        return found


async def test_prompt_of_the_week_shared_anonymously(server, new_page, device):
    author, me = await new_member(new_page, server, "resident", "Wren", **device)
    title = f"Good news as grief {unique('n')}"

    # The prompt of the week, from the reflection wall.
    await author.goto(server.url + "/reflections")
    weekly = author.locator("section.weekly")
    prompt_title = (await weekly.get_by_role("heading").inner_text()).strip()
    await weekly.get_by_role("link", name="Write to this prompt").click()
    await author.wait_for_url(re.compile(r"/reflections/new\?prompt=\d+"))
    await expect(author.locator(".prompt-card h2")).to_have_text(prompt_title)
    slot = await author.locator("form[data-slot]").get_attribute("data-slot")
    assert slot.startswith("prompt:")

    # Write the first half: the autosave reaches the server.
    await author.get_by_label("Title").fill(title)
    await author.get_by_label("Your reflection").fill(FIRST)
    await expect(author.locator("[data-draft-status]")).to_contain_text("Draft saved", timeout=20_000)

    # The server becomes unreachable; the second half is kept in this browser only. Then the page reloads.
    await author.route("**/reflections/drafts", lambda route: route.abort())
    await author.get_by_label("Your reflection").fill(FIRST + SECOND)
    local = json.loads(await author.evaluate("slot => localStorage.getItem('reflection-draft:' + slot)", slot))
    assert local["body"] == FIRST + SECOND and local["title"] == title
    await author.reload()
    # The server had the first half (restored from the database); the browser's newer copy wins, and says so.
    await expect(author.get_by_text("is restored below")).to_be_visible()
    await expect(author.get_by_text("We restored the newer copy of your draft")).to_be_visible()
    await expect(author.get_by_label("Your reflection")).to_have_value(FIRST + SECOND)
    await expect(author.get_by_label("Title")).to_have_value(title)
    await author.unroute("**/reflections/drafts")

    # Share it anonymously.
    await author.get_by_label("Shared anonymously on the reflection wall").check()
    await author.get_by_role("button", name="Save reflection").click()
    await author.wait_for_url(re.compile(r"/reflections/\d+"))
    await expect(author.locator(".flash")).to_have_text("Shared anonymously on the reflection wall.")
    await expect(author.locator(".byline")).to_have_text("Anonymous")
    reflection_url = author.url.split("?")[0]
    # The local copy has done its job.
    assert await author.evaluate("slot => localStorage.getItem('reflection-draft:' + slot)", slot) is None

    # Another member finds it on the wall and replies.
    reader, reader_me = await new_member(new_page, server, "attending", "Oren", **device)
    seen = Witness(reader)
    await reader.goto(server.url + "/reflections")
    await seen.snap()
    card = reader.locator("article.reflection-card").filter(has_text=title)
    await expect(card.locator(".byline")).to_have_text("Anonymous")
    await card.get_by_role("link", name=title).click()
    await reader.wait_for_url(reflection_url)
    await expect(reader.locator(".byline")).to_have_text("Anonymous")
    await expect(reader.locator(".reflection-body")).to_contain_text("good news felt like a kind of grief")
    await expect(reader.get_by_role("link", name=f"“{prompt_title}”")).to_be_visible()
    await seen.snap()
    reply_text = "Thank you for putting this into words. Relief can arrive looking a lot like sadness."
    await reader.get_by_label("Your reply").fill(reply_text)
    await reader.get_by_role("button", name="Send reply").click()
    await expect(reader.locator(".flash")).to_have_text("Thank you for your reply.")
    await expect(reader.locator("article.reply").filter(has_text=reply_text)).to_be_visible()
    await seen.snap()
    # ... and looks around the places where the piece is listed.
    await reader.get_by_role("link", name=f"“{prompt_title}”").click()
    await expect(reader.locator("article.reflection-card").filter(has_text=title)).to_be_visible()
    await seen.snap()
    await reader.goto(f"{server.url}/reflections?q={title.split()[0]}+{title.split()[-1]}")
    await expect(reader.locator("article.reflection-card").filter(has_text=title)).to_be_visible()
    await seen.snap()
    await reader.goto(server.url + "/notifications")
    await seen.snap()
    assert seen.leaks(me) == []
    assert seen.leaks(reader_me), "the check itself works: the reader's own name is in their header"
    assert len(seen.bodies) >= 10

    # The author is told, without anyone learning who they are.
    await author.goto(server.url + "/")
    nav = author.get_by_role("navigation", name="Main")
    await expect(nav.get_by_label("1 unread")).to_be_visible()
    await author.goto(server.url + "/notifications")
    note = author.get_by_role("link", name=f"Someone replied to your anonymous reflection “{title}”.")
    await note.click()
    await author.wait_for_url(re.compile(r"/reflections/\d+#reply-\d+"))
    await expect(author.locator("article.reply").filter(has_text=reply_text)).to_be_visible()
    await expect(author.get_by_text("You wrote this; others see “Anonymous”")).to_be_visible()
