"""Mentorship helpers: a listed mentor with weekly office hours, through the real pages, and the next open slot."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from community.mentorship import office_hours
from community.mentorship.models import OfficeHours


async def make_mentor(client, *, specialties: str = "Internal medicine", interests: str = "Burnout",
                      days_ahead: int = 2) -> None:
    """Opts the signed-in attending into the directory and publishes a window `days_ahead` days from now,
    10:00-11:00 UTC (their time zone), in 20-minute slots."""
    response = await client.post_form("/mentors/me", {"listed": "1", "specialties": specialties,
                                                      "interests": interests, "help_with": "Intern year.",
                                                      "takes_conversations": "1"})
    assert response.status_code == 303, response.text[:2000]
    weekday = (datetime.now(UTC) + timedelta(days=days_ahead)).weekday()
    response = await client.post_form("/mentors/me/hours", {"weekday": str(weekday), "start": "10:00",
                                                            "end": "11:00", "slot_minutes": "20",
                                                            "retention": "24"})
    assert response.status_code == 303, response.text[:2000]


async def first_slot(db, mentor_id: int) -> str:
    """The form value of the mentor's first open slot."""
    async with db.transaction() as session:
        slots = await office_hours.free_slots(session, mentor_id)
        assert slots, await session.scalars(select(OfficeHours))
    return f"{slots[0].hours_id}|{slots[0].key}"


def booking_id_of(response) -> int:
    match = re.search(r"/mentorship/bookings/(\d+)$", response.headers["location"])
    assert match, response.headers.get("location")
    return int(match.group(1))
