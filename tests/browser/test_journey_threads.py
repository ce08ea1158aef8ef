"""Journey 3: a member starts a thread in a category; an attending replies quoting it; another member reacts;
search finds the thread; the starter is told about the reply."""

import re

from playwright.async_api import expect

from tests.browser.conftest import nav_link, new_member, unique
from tests.browser.flows import CATEGORY, post_by


async def test_thread_quote_reaction_search(server, new_page, device):
    starter, s = await new_member(new_page, server, "resident", "Ines", **device)
    word = unique("lantern")
    title = f"Kindness on a {word} night shift"
    body = (f"Around 3 a.m. the charge nurse brought me tea and said nothing. I think about that {word} moment "
            "when I wonder what kind of attending I want to be.")

    # Threads → the category → Start a thread.
    await (await nav_link(starter, "Threads")).click()
    await starter.wait_for_url(server.url + "/c")
    await starter.get_by_role("link", name="Empathy and compassion").click()
    await starter.wait_for_url(f"{server.url}/c/{CATEGORY}")
    await starter.get_by_role("link", name="Start a thread").click()
    await starter.get_by_label("Title").fill(title)
    await starter.get_by_label("Your post").fill(body)
    await starter.get_by_role("button", name="Post thread").click()
    await starter.wait_for_url(re.compile(r"/t/\d+"))
    await expect(starter.locator(".flash")).to_have_text("Your thread is posted.")
    thread_url = starter.url.split("?")[0].split("#")[0]

    # An attending finds it in the category and replies with a quote.
    attending, a = await new_member(new_page, server, "attending", "Marta", **device)
    await attending.goto(f"{server.url}/c/{CATEGORY}")
    await attending.get_by_role("link", name=title).click()
    await attending.wait_for_url(thread_url)
    await post_by(attending, s["name"]).get_by_role("link", name="Quote").click()
    await attending.wait_for_url(re.compile(r"/reply\?quote=\d+"))
    await expect(attending.locator(".in-reply")).to_contain_text("the charge nurse brought me tea")
    composer = attending.get_by_label("Your reply")
    quoted = await composer.input_value()
    assert quoted.startswith(f"> **{s['name']} wrote:**") and "> Around 3 a.m." in quoted
    answer = "Those small wordless kindnesses are the curriculum that matters. You are already learning it."
    await composer.fill(quoted + answer)
    await attending.get_by_role("button", name="Post reply").click()
    await expect(attending.locator(".flash")).to_have_text("Your reply is posted.")
    reply = post_by(attending, a["name"])
    await expect(reply.locator("blockquote")).to_contain_text("the charge nurse brought me tea")
    await expect(reply.locator(".post-body > p").last).to_have_text(answer)
    await expect(reply).to_contain_text("in reply to post 1")
    await expect(reply.locator(".role-tag")).to_have_text("attending")

    # A third member reacts to both posts; a second click takes a reaction back.
    reader, _ = await new_member(new_page, server, "resident", "Theo", **device)
    await reader.goto(thread_url)
    first = post_by(reader, s["name"])
    await first.get_by_role("button", name="Thank you").click()
    await expect(reader.locator(".flash")).to_have_text("You said “Thank you”.")
    thanks = post_by(reader, s["name"]).get_by_role("button", name=re.compile("^Thank you"))
    await expect(thanks).to_have_attribute("aria-pressed", "true")
    await expect(thanks.locator(".count")).to_have_text("1")
    await post_by(reader, a["name"]).get_by_role("button", name="This helped").click()
    await expect(reader.locator(".flash")).to_have_text("You said “This helped”.")
    await post_by(reader, a["name"]).get_by_role("button", name=re.compile("^This helped")).click()
    await expect(reader.locator(".flash")).to_have_text("You took back “This helped”.")
    await expect(post_by(reader, a["name"]).get_by_role("button", name=re.compile("^This helped")))\
        .to_have_attribute("aria-pressed", "false")

    # Search finds it, by a word of the title and the post.
    await reader.goto(server.url + "/c")
    await reader.get_by_role("searchbox", name="Search threads").fill(word)
    await reader.get_by_role("button", name="Search").click()
    await reader.wait_for_url(re.compile(r"/search\?q="))
    await expect(reader.get_by_role("heading", name=f"Results for “{word}”")).to_be_visible()
    hit = reader.locator(".search-results li").filter(has_text=title).first
    await expect(hit.locator("mark").first).to_be_visible()
    await hit.get_by_role("link").first.click()
    await reader.wait_for_url(re.compile(r"/t/\d+"))
    assert reader.url.split("?")[0].split("#")[0] == thread_url

    # The starter hears about the reply.
    await starter.goto(server.url + "/notifications")
    await expect(starter.locator(".notification.unread").first).to_contain_text(a["name"])
