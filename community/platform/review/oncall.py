"""A moderator's on-call hours: read and replaced from their settings page, one span per weekday.

Times are in the moderator's own time zone (their account setting). "22:00 to 07:00" runs past midnight into
the next morning; "00:00 to 00:00" is the whole day. Whether someone is on call at a moment: urgent.covers.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts.actions import require_staff
from community.platform.errors import Invalid
from community.platform.review import audit
from community.platform.review.models import OnCallHours
from community.platform.review.urgent import WEEKDAYS
from community.platform.viewer import Viewer

_TIME = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


def minute_text(minute: int) -> str:
    return f"{minute // 60 % 24:02d}:{minute % 60:02d}"


async def hours_of(session: AsyncSession, user_id: int) -> dict[int, tuple[int, int]]:
    """weekday -> (start minute, end minute)."""
    rows = await session.scalars(select(OnCallHours).where(OnCallHours.user_id == user_id))
    return {row.weekday: (row.start_minute, row.end_minute) for row in rows}


def form_of(hours: dict[int, tuple[int, int]]) -> dict[str, str]:
    """The settings form's fields for the stored hours."""
    form = {}
    for day, (start, end) in hours.items():
        form[f"start-{day}"] = minute_text(start)
        form[f"end-{day}"] = minute_text(end)
    return form


def _minute(value: str) -> int | None:
    match = _TIME.fullmatch(value.strip())
    return int(match.group(1)) * 60 + int(match.group(2)) if match else None


def parse_hours(form: dict[str, str]) -> dict[int, tuple[int, int]]:
    """Each weekday: both times, or neither. Messages name the day and keep what was typed."""
    hours: dict[int, tuple[int, int]] = {}
    errors: dict[str, str] = {}
    for day, name in enumerate(WEEKDAYS):
        raw_start, raw_end = form.get(f"start-{day}", "").strip(), form.get(f"end-{day}", "").strip()
        if not raw_start and not raw_end:
            continue
        start, end = _minute(raw_start), _minute(raw_end)
        if start is None:
            errors[f"start-{day}"] = f"{name}: give the start as HH:MM (24-hour), or leave both times empty."
        if end is None:
            errors[f"end-{day}"] = f"{name}: give the end as HH:MM (24-hour), or leave both times empty."
        if start is not None and end is not None:
            hours[day] = (start, 1440 if end == start == 0 else end)
            if end == start and start != 0:
                errors[f"end-{day}"] = f"{name}: the end is the same as the start. Use 00:00 to 00:00 for the whole day."
    if errors:
        raise Invalid("Some on-call hours could not be read; they are marked below.", fields=errors)
    return hours


async def set_hours(session: AsyncSession, viewer: Viewer, form: dict[str, str]) -> dict[int, tuple[int, int]]:
    """Replaces the viewer's on-call hours with what the form says (recorded in the audit log)."""
    require_staff(viewer)
    hours = parse_hours(form)
    await session.execute(delete(OnCallHours).where(OnCallHours.user_id == viewer.id))
    for day, (start, end) in sorted(hours.items()):
        session.add(OnCallHours(user_id=viewer.id, weekday=day, start_minute=start, end_minute=end))
    await audit.record(session, viewer, "oncall.hours", target_type="member", target_id=viewer.id,
                       target_label=viewer.display_name,
                       details={WEEKDAYS[d]: f"{minute_text(s)}-{minute_text(e)}" for d, (s, e) in hours.items()})
    return hours
