"""Journey: an attending opts into the mentor directory and publishes office hours starting in a few minutes; a
resident finds her by specialty and books a slot anonymously; at the slot both are in a private live room, and
the attending sees only the resident's pseudonym, on the booking and in the room."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.async_api import expect

from community.platform.accounts.web import COMMON_ZONES
from tests.browser.conftest import DEVICES, new_member, unique
from tests.browser.flows import post_by, room_message, say_in_room, start_thread


def _zone_and_start() -> tuple[str, datetime]:
    """A zone of the profile page's list where a window starting two minutes from now ends before midnight."""
    for name in COMMON_ZONES:
        local = (datetime.now(UTC) + timedelta(minutes=3)).astimezone(ZoneInfo(name)).replace(second=0,
                                                                                               microsecond=0)
        if 1 <= local.hour <= 22:
            return name, local
    raise AssertionError("no zone where it is daytime")


async def test_anonymous_office_hour_in_a_private_room(server, new_page, device):
    zone, start = _zone_and_start()
    specialty = unique("Geriatrics")
    attending, a = await new_member(new_page, server, "attending", "Helena", **DEVICES["desktop"])
    await attending.goto(server.url + "/account")
    await attending.get_by_label("Time zone").select_option(zone)
    await attending.get_by_role("button", name="Save profile").click()

    # She opts into the directory, then publishes office hours for today, 20-minute slots.
    await attending.goto(server.url + "/mentors/me")
    await attending.get_by_label("List me in the mentor directory").check()
    await attending.get_by_label("Specialties").fill(f"{specialty}, Internal medicine")
    await attending.get_by_label("Interests").fill("Burnout, Night float")
    await attending.get_by_label("What I can help with").fill("The first year out of training.")
    await attending.get_by_role("button", name="Save my entry").click()
    await expect(attending.locator(".flash")).to_contain_text("You are in the mentor directory")
    await attending.get_by_label("Day").select_option(str(start.weekday()))
    await attending.get_by_label("From").fill(start.strftime("%H:%M"))
    await attending.get_by_label("Until").fill((start + timedelta(minutes=40)).strftime("%H:%M"))
    await attending.get_by_label("Minutes per slot").fill("20")
    await attending.get_by_role("button", name="Publish office hours").click()
    await expect(attending.locator("#hours-list")).to_contain_text("20-minute slots")

    # A resident finds her by specialty and books the first slot anonymously.
    resident, r = await new_member(new_page, server, "resident", "Jonah", **device)
    await resident.goto(server.url + "/mentors")
    await resident.get_by_label("Specialty").select_option(specialty)
    await resident.get_by_role("button", name="Filter").click()
    await expect(resident.locator("#mentor-list > li")).to_have_count(1)
    await resident.get_by_role("link", name=a["name"]).click()
    await resident.get_by_role("radio").first.check()
    await resident.get_by_label("Anonymously: the mentor sees a pseudonym").check()
    await resident.get_by_role("button", name="Book this slot").click()
    await resident.wait_for_url(re.compile(r"/mentorship/bookings/\d+$"))
    booking_url = resident.url
    pseudonym = (await resident.locator("dd").filter(has_text="(pseudonym)").inner_text()).replace(
        "(pseudonym)", "").strip()
    assert pseudonym and r["name"] not in pseudonym

    # At the slot (the room opens five minutes early) both enter the private room.
    await resident.get_by_role("link", name="Enter the private room").click()
    await expect(resident.locator("#room-connection")).to_have_attribute("data-state", "live", timeout=20_000)
    await attending.goto(server.url + "/mentorship/bookings")
    await attending.get_by_role("link", name=re.compile(start.strftime("%H:%M"))).first.click()
    assert attending.url == booking_url
    await expect(attending.locator("#booking-with")).to_contain_text(pseudonym)
    await attending.get_by_role("link", name="Enter the private room").click()
    await expect(attending.locator("#room-connection")).to_have_attribute("data-state", "live", timeout=20_000)
    room_url = attending.url
    await expect(attending.locator("#room-people")).to_contain_text(pseudonym)
    await expect(resident.locator("#room-people")).to_contain_text(a["name"])

    await say_in_room(resident, "Thank you for making time. Nights are getting to me.")
    await expect(room_message(attending, "Nights are getting to me")).to_contain_text(pseudonym)
    await say_in_room(attending, "I am glad you came. Tell me about the last week.")
    await expect(room_message(resident, "Tell me about the last week")).to_have_count(1)

    # The attending sees the pseudonym and nothing else of the resident, on every page of the booking.
    for url in (room_url, booking_url, server.url + "/mentorship/bookings", server.url + "/notifications"):
        await attending.goto(url)
        html = await attending.content()
        for secret in (r["name"], r["email"], r["handle"], "Jonah"):
            assert secret not in html, (url, secret)

    # Nobody else can enter the room.
    other, _ = await new_member(new_page, server, "moderator", "Priya", **DEVICES["desktop"])
    assert (await other.goto(booking_url)).status == 404
    assert (await other.goto(room_url)).status == 403


async def test_a_name_on_a_signed_post_opens_the_member_card(server, new_page):
    writer, w = await new_member(new_page, server, "attending", "Marta", **DEVICES["desktop"])
    await writer.goto(server.url + "/account")
    await writer.get_by_label("Specialty").fill("Palliative care")
    await writer.get_by_label("Pronouns").fill("she/her")
    await writer.get_by_role("button", name="Save profile").click()
    await writer.goto(server.url + "/account/card")
    await writer.locator("fieldset").filter(has_text="Pronouns").get_by_label("Nobody").check()
    await writer.get_by_role("button", name="Save my card").click()
    thread_url = await start_thread(writer, server, f"Cards {unique('card')}", "Who else finds nights long?")

    reader, _ = await new_member(new_page, server, "resident", "Ravi", **DEVICES["phone"])
    await reader.goto(thread_url)
    await post_by(reader, w["name"]).get_by_role("link", name=w["name"]).click()
    card = reader.get_by_role("dialog", name="Member card")
    await expect(card).to_be_visible()
    await expect(card).to_contain_text("Palliative care")
    await expect(card).not_to_contain_text("she/her")
    assert reader.url == thread_url  # the card opened in place
    await card.get_by_role("button", name="Close").click()
    await expect(card).to_be_hidden()
