"""Reflection prompts: themes, browsing, staff editing, and the prompt of the week (rotating or pinned)."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts.actions import require_admin, require_staff
from community.platform.errors import Invalid, NotFound
from community.platform.review import audit
from community.platform.viewer import Viewer
from community.reflections.models import Prompt

# Theme slug -> label, in the order pages show them (drawn from the project's THEMES.md).
THEMES: dict[str, str] = {
    "empathy-compassion": "Empathy is not compassion",
    "empathic-distress": "Empathic distress and burnout",
    "scripted-empathy": "Scripted empathy and empathic dissonance",
    "hidden-curriculum": "The hidden curriculum",
    "role-models": "Role models and life experience",
    "self-care": "Self-care",
    "time": "Time",
    "beyond-training": "Life after training",
}
MINUTES = (2, 5, 15)


def theme_label(slug: str | None) -> str:
    return THEMES.get(slug or "", "")


def check_theme(value: str, *, required: bool = True, field: str = "theme") -> str | None:
    value = value.strip()
    if not value and not required:
        return None
    if value not in THEMES:
        raise Invalid(fields={field: "Choose one of the themes in the list."})
    return value


def _check_text(value: str, field: str, limit: int, label: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid(fields={field: f"Please enter the {label}."})
    if len(value) > limit:
        raise Invalid(fields={field: f"Use at most {limit:,} characters (this has {len(value):,})."})
    return value


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60] or "prompt"


def check_prompt(*, theme: str, title: str, text: str, minutes: str) -> dict[str, object]:
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    checks = {
        "theme": lambda: check_theme(theme),
        "title": lambda: _check_text(title, "title", 120, "title"),
        "text": lambda: _check_text(text, "text", 1000, "prompt text"),
    }
    for name, check in checks.items():
        try:
            values[name] = check()
        except Invalid as exc:
            errors.update(exc.fields)
    if minutes.strip() not in {str(m) for m in MINUTES}:
        errors["minutes"] = "Choose 2, 5 or 15 minutes."
    else:
        values["minutes"] = int(minutes.strip())
    if errors:
        raise Invalid(fields=errors)
    return values


async def list_prompts(session: AsyncSession, *, theme: str = "", include_inactive: bool = False) -> list[Prompt]:
    query = select(Prompt)
    if theme in THEMES:
        query = query.where(Prompt.theme == theme)
    if not include_inactive:
        query = query.where(Prompt.active.is_(True))
    return list(await session.scalars(query.order_by(Prompt.theme, Prompt.id)))


async def access_prompt(session: AsyncSession, prompt_id: int | None, *, active_only: bool = True) -> Prompt:
    prompt = await session.get(Prompt, prompt_id) if prompt_id else None
    if prompt is None or (active_only and not prompt.active):
        raise NotFound("That prompt does not exist, or it was retired.")
    return prompt


async def create_prompt(session: AsyncSession, actor: Viewer, *, theme: str, title: str, text: str,
                        minutes: str) -> Prompt:
    require_staff(actor)
    values = check_prompt(theme=theme, title=title, text=text, minutes=minutes)
    base = slugify(str(values["title"]))
    taken = set(await session.scalars(select(Prompt.slug).where(Prompt.slug.like(f"{base}%"))))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    prompt = Prompt(slug=slug, **values)
    session.add(prompt)
    await session.flush()
    await audit.record(session, actor, "prompt.create", target_type="prompt", target_id=prompt.id,
                       target_label=prompt.title)
    return prompt


async def update_prompt(session: AsyncSession, actor: Viewer, prompt_id: int, *, theme: str, title: str,
                        text: str, minutes: str, active: bool) -> Prompt:
    require_staff(actor)
    prompt = await access_prompt(session, prompt_id, active_only=False)
    values = check_prompt(theme=theme, title=title, text=text, minutes=minutes)
    for name, value in values.items():
        setattr(prompt, name, value)
    prompt.active = active
    if not active:
        prompt.pinned_at = None
    prompt.updated_at = datetime.now(UTC)
    await audit.record(session, actor, "prompt.edit", target_type="prompt", target_id=prompt.id,
                       target_label=prompt.title, details={"active": active})
    return prompt


async def pin_prompt(session: AsyncSession, actor: Viewer, prompt_id: int | None) -> None:
    """Pins a prompt as the prompt of the week (None unpins; the rotation takes over again)."""
    require_admin(actor)
    await session.execute(update(Prompt).where(Prompt.pinned_at.is_not(None)).values(pinned_at=None))
    if prompt_id is None:
        await audit.record(session, actor, "prompt.unpin", target_type="prompt")
        return
    prompt = await access_prompt(session, prompt_id)
    prompt.pinned_at = datetime.now(UTC)
    await audit.record(session, actor, "prompt.pin", target_type="prompt", target_id=prompt.id,
                       target_label=prompt.title)


def rotation_index(day: date, count: int) -> int:
    """Deterministic: the same ISO week gives the same prompt on every server, every year in turn."""
    return week_number(day) % count


async def prompt_of_week(session: AsyncSession, today: date | None = None) -> Prompt | None:
    pinned = (await session.scalars(select(Prompt).where(Prompt.pinned_at.is_not(None), Prompt.active.is_(True))
                                    .order_by(Prompt.pinned_at.desc()).limit(1))).first()
    if pinned is not None:
        return pinned
    prompts = list(await session.scalars(select(Prompt).where(Prompt.active.is_(True)).order_by(Prompt.id)))
    if not prompts:
        return None
    return prompts[rotation_index(today or datetime.now(UTC).date(), len(prompts))]


# The same choice in one statement, for the wall on a bare asyncpg connection (Database.raw): the newest pinned
# active prompt, else the active prompt at rotation_index() in id order. $1: iso_year * 53 + week.
def weekly_sql(week: str) -> str:
    """The prompt of the week as SQL (id, theme, title, text, minutes; one row or none), for the week number
    given by the placeholder `week` (e.g. "$1"): the admin's pinned prompt, else the active prompts in turn."""
    return f"""
WITH pinned AS (
  SELECT id, theme, title, text, minutes FROM prompts WHERE pinned_at IS NOT NULL AND active
  ORDER BY pinned_at DESC LIMIT 1
)
SELECT * FROM pinned
UNION ALL
(SELECT p.id, p.theme, p.title, p.text, p.minutes FROM prompts p
 WHERE p.active AND NOT EXISTS (SELECT 1 FROM pinned)
 ORDER BY p.id OFFSET {week}::bigint % greatest((SELECT count(*) FROM prompts WHERE active), 1) LIMIT 1)
"""


WEEKLY_SQL = weekly_sql("$1")


def week_number(today: date | None = None) -> int:
    iso_year, week, _ = (today or datetime.now(UTC).date()).isocalendar()
    return iso_year * 53 + week


async def prompt_of_week_row(connection: Any, today: date | None = None) -> Any:
    """prompt_of_week() as one asyncpg Record (id, theme, title, text, minutes), or None."""
    return await connection.fetchrow(WEEKLY_SQL, week_number(today))


# The prompt library in one prepared statement on a bare asyncpg connection (Database.raw): the prompts, one row
# each (theme, then id), led by the prompt of the week as JSON text with its pinned_at; a single row with NULL
# prompt columns when none is listed. $1 the theme ('' for all), $2 whether retired prompts are listed too,
# $3 the week number.
_LIBRARY_SQL = """
WITH weekly AS (""" + weekly_sql("$3") + """)
SELECT (SELECT row_to_json(w)::text FROM (SELECT weekly.*, p.pinned_at FROM weekly JOIN prompts p ON p.id = weekly.id) w)
         AS weekly, p.*
FROM (SELECT 1) one LEFT JOIN LATERAL (
  SELECT p.id, p.theme, p.title, p.text, p.minutes, p.active FROM prompts p
  WHERE ($1::text = '' OR p.theme = $1::text) AND (p.active OR $2::boolean)
) p ON true
ORDER BY p.theme, p.id
"""


async def prompt_library(connection: Any, *, theme: str = "", include_inactive: bool = False,
                         today: date | None = None) -> tuple[list[Any], dict[str, Any] | None]:
    """list_prompts() and prompt_of_week() in one statement: (the prompts as asyncpg Records, read only; the
    prompt of the week as a dict with its pinned_at as text, or None)."""
    rows = await connection.fetch(_LIBRARY_SQL, theme if theme in THEMES else "", include_inactive,
                                  week_number(today))
    weekly = json.loads(rows[0]["weekly"]) if rows[0]["weekly"] is not None else None
    return [row for row in rows if row["id"] is not None], weekly


async def home_section(connection: Any, viewer: Viewer) -> dict[str, Any]:
    """The home page's prompt of the week (one prepared statement on a raw connection)."""
    return {"prompt": await prompt_of_week_row(connection)}
