"""Reading a moment in time from user input: the one place that guards against values PostgreSQL cannot store.

`datetime.fromisoformat` accepts year 1 and year 9999 with any offset; converting those to UTC overflows in
Python, or later in asyncpg ("date value out of range"). Every date a member or a URL gives goes through here.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


def parse_moment(value: str, zone: tzinfo | None = None) -> datetime | None:
    """An aware UTC datetime from ISO 8601 text, or None when it is not one we can store.

    A value without an offset is read in `zone`; without a zone, it is refused.
    """
    value = value.strip()
    if not value or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            if zone is None:
                return None
            moment = moment.replace(tzinfo=zone)
        if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            return None
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def day_of(value: datetime) -> datetime:
    """Midnight UTC of the day `value` falls on: the only time kept about when anonymous writing was edited."""
    return value.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
