"""Server-side drafts of reflections: saved automatically, restored on return, kept when a submit fails.

A draft is keyed by a tag derived from the member and the slot ("new", "prompt:12", "edit:34"), so no draft
row holds a member id and no two drafts of the same member can be linked to each other from the database.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.anonymity import Anonymity
from community.platform.errors import Invalid
from community.platform.numbers import parse_int
from community.platform.viewer import Viewer
from community.reflections.actions import access_own
from community.reflections.models import BODY_MAX, TITLE_MAX, VISIBILITIES, Prompt, ReflectionDraft
from community.reflections.prompts import THEMES

SLOT_RE = re.compile(r"^(new|prompt:[0-9]{1,12}|edit:[0-9]{1,12})\Z")
# Drafts may hold more than a reflection may publish, so text over the limit is not lost while it is trimmed.
DRAFT_MAX = 3 * BODY_MAX


def check_slot(slot: str) -> str:
    if not SLOT_RE.match(slot or ""):
        raise Invalid(fields={"slot": "This draft does not belong to a known page."})
    return slot


def slot_for(*, reflection_id: int | None = None, prompt_id: int | None = None) -> str:
    if reflection_id:
        return f"edit:{reflection_id}"
    if prompt_id:
        return f"prompt:{prompt_id}"
    return "new"


def draft_tag(anonymity: Anonymity, user_id: int, slot: str) -> str:
    return anonymity.tag(user_id, f"draft:{slot}")


async def save_draft(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, slot: str, *, title: str, body: str,
                     visibility: str = "private", prompt_id: str = "", theme: str = "") -> datetime:
    """Saves whatever the writer has, as long as it fits; an empty body is a valid draft."""
    slot = check_slot(slot)
    errors: dict[str, str] = {}
    title = title.strip()
    if len(title) > TITLE_MAX:
        errors["title"] = f"Use at most {TITLE_MAX} characters for the title."
    if len(body) > DRAFT_MAX:
        errors["body"] = f"A draft can hold at most {DRAFT_MAX:,} characters (this has {len(body):,})."
    if errors:
        raise Invalid("The draft could not be saved.", fields=errors)
    if slot.startswith("edit:"):
        await access_own(session, viewer, anonymity, int(slot.split(":")[1]))
    raw = prompt_id.strip()
    prompt = parse_int(raw, max_digits=12)
    if prompt is not None and await session.get(Prompt, prompt) is None:
        prompt = None
    now = datetime.now(UTC)
    values = {"title": title or None, "body": body, "prompt_id": prompt,
              "visibility": visibility if visibility in VISIBILITIES else "private",
              "theme": theme if theme in THEMES else None, "updated_at": now}
    stmt = insert(ReflectionDraft).values(owner_tag=draft_tag(anonymity, viewer.id, slot), **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["owner_tag"], set_=values))
    return now


async def load_draft(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, slot: str) -> ReflectionDraft | None:
    return (await session.scalars(select(ReflectionDraft).where(
        ReflectionDraft.owner_tag == draft_tag(anonymity, viewer.id, check_slot(slot))))).first()


async def discard_draft(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, slot: str) -> None:
    await session.execute(delete(ReflectionDraft).where(
        ReflectionDraft.owner_tag == draft_tag(anonymity, viewer.id, check_slot(slot))))


async def all_slots(session: AsyncSession, reflection_ids: list[int]) -> list[str]:
    """Every slot a member could have a draft in (for export and account deletion)."""
    prompt_ids = list(await session.scalars(select(Prompt.id)))
    return ["new"] + [f"prompt:{p}" for p in prompt_ids] + [f"edit:{r}" for r in reflection_ids]


async def my_drafts(session: AsyncSession, viewer: Viewer, anonymity: Anonymity,
                    reflection_ids: list[int]) -> list[tuple[str, ReflectionDraft]]:
    slots = await all_slots(session, reflection_ids)
    by_tag = {draft_tag(anonymity, viewer.id, slot): slot for slot in slots}
    rows = await session.scalars(select(ReflectionDraft).where(ReflectionDraft.owner_tag.in_(list(by_tag))))
    return [(by_tag[row.owner_tag], row) for row in rows]
