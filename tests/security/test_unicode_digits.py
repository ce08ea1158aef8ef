"""F4: Unicode digits ("²", "٣", "１") in the category cursor and in a thread move's category answer a 4xx or
are ignored, never a 500 (both go through community.platform.numbers.parse_int).

The audit found these two parsers outside the safe one; the pillar layout (116819f) already routed them through
it, so these tests keep them there."""

from __future__ import annotations

import pytest

from tests.discussions.conftest import CATEGORY, post_ids, start_thread

ODD_DIGITS = ("²", "٣", "１", "2²", "9" * 40)


@pytest.mark.parametrize("digits", ODD_DIGITS)
async def test_the_category_cursor_ignores_unicode_digits(resident, login, digits):
    client = await login(resident)
    for cursor in (f"2030-01-01T00:00:00+00:00~{digits}", f"２０３０-01-01T00:00:00+00:00~{digits}", digits):
        page = await client.get(f"/c/{CATEGORY}", params={"after": cursor})
        assert page.status_code == 200, cursor


@pytest.mark.parametrize("digits", ODD_DIGITS)
async def test_moving_a_thread_to_a_unicode_digit_category_is_a_field_message(resident, moderator, login, db,
                                                                               digits):
    thread_id, _ = await start_thread(await login(resident), "Move me", "An opening post.")
    post_id = (await post_ids(db, thread_id))[0]
    response = await (await login(moderator)).post_form(f"/review/post/{post_id}/decide",
                                                        {"action": "move", "category_id": digits})
    assert response.status_code == 400 and "Choose the category" in response.text
