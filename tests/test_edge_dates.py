"""Dates that parse but cannot be stored (year 1, year 9999, far offsets) get a clear answer, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from community.platform.times import parse_moment

EXTREMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1000-01-01T00:00:00+00:00",
            "3000-01-01T00:00:00+00:00"]


@pytest.mark.parametrize("value", EXTREMES + ["", "yesterday", "2030-13-01T00:00", "x" * 100])
def test_parse_moment_refuses_what_cannot_be_stored(value):
    assert parse_moment(value, UTC) is None


def test_parse_moment_reads_offsets_and_local_times():
    assert parse_moment("2030-05-17T19:30:00+02:00") == datetime(2030, 5, 17, 17, 30, tzinfo=UTC)
    assert parse_moment("2030-05-17T19:30") is None  # no zone given: refused
    assert parse_moment("2030-05-17T19:30", timezone(timedelta(hours=-5))) == datetime(2030, 5, 18, 0, 30,
                                                                                       tzinfo=UTC)


@pytest.mark.parametrize("value", EXTREMES)
async def test_category_cursor_and_audit_filter_at_the_edges_of_time(member_factory, login, value):
    member = await login(await member_factory())
    page = await member.get("/c/introductions", params={"after": f"{value}~1"})
    assert page.status_code == 200  # a cursor that cannot be used is ignored: the first page
    admin = await login(await member_factory("admin"))
    audit = await admin.get("/admin/audit", params={"since": value})
    assert audit.status_code == 200


@pytest.mark.parametrize("value", EXTREMES)
async def test_scheduling_a_room_at_the_edges_of_time_is_a_field_error(member_factory, login, value):
    attending = await login(await member_factory("attending"))
    end = (datetime.now() + timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M")
    form = {"title": "Edge of time", "description": "", "theme_prompt": "", "starts_at": value, "ends_at": end,
            "capacity": "8", "ground_rules": "Speak from your own experience.", "retention": "24"}
    response = await attending.post_form("/rooms/new", form)
    assert response.status_code == 400
    assert "Use a date and time like" in response.text and "Edge of time" in response.text  # the draft is kept
