"""Server-side drafts of reflections: saved automatically, restored on return, kept when a submit fails.

A draft is keyed by a tag derived from the member and the slot ("new", "prompt:12", "edit:34"), so no draft
row holds a member id and no two drafts of the same member can be linked to each other from the database.
That is why a slot must name a real target (a prompt that exists, the member's own reflection): the member's
drafts are found again by listing those targets (`all_slots`), for the limit, the export and account deletion.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform import rate_limits
from community.platform.accounts import scopes
from community.platform.anonymity import Anonymity
from community.platform.drafts.store import (
    PURGE_AFTER_DAYS,
    DraftKind,
    DraftPlace,
    Listed,
    OwnDrafts,
    excerpt,
)
from community.platform.errors import Invalid
from community.platform.numbers import parse_int
from community.platform.viewer import Viewer
from community.reflections.actions import access_own, mine_clause
from community.reflections.models import (
    BODY_MAX,
    SHARED,
    TITLE_MAX,
    VISIBILITIES,
    Prompt,
    Reflection,
    ReflectionDraft,
)
from community.reflections.prompts import THEMES

SLOT_RE = re.compile(r"^(new|prompt:[0-9]{1,12}|edit:[0-9]{1,12})\Z")
DRAFT_MAX = BODY_MAX  # a draft holds what a reflection may publish (a longer text stays in the browser's copy)
DRAFTS_MAX = 50  # drafts per member
DRAFT_SAVES_PER_MINUTE = 30  # autosave sends one every 5 s at most while the writer types, plus one on leaving


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
    rate_limits.EDITS.check(viewer, "draft", limit=DRAFT_SAVES_PER_MINUTE, what="draft saves")
    await _check_target(session, viewer, anonymity, slot)
    tag = draft_tag(anonymity, viewer.id, slot)
    await _check_room_for(session, viewer, anonymity, tag)
    raw = prompt_id.strip()
    prompt = parse_int(raw, max_digits=12)
    if prompt is not None and await session.get(Prompt, prompt) is None:
        prompt = None
    now = datetime.now(UTC)
    values = {"title": title or None, "body": body, "prompt_id": prompt,
              "visibility": visibility if visibility in VISIBILITIES else "private",
              "theme": theme if theme in THEMES else None, "updated_at": now}
    stmt = insert(ReflectionDraft).values(owner_tag=tag, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["owner_tag"], set_=values))
    rate_limits.EDITS.note(viewer, "draft")
    return now


async def _check_target(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, slot: str) -> None:
    """A slot names a real target: a prompt that exists, or the member's own reflection (404 otherwise)."""
    kind, _, number = slot.partition(":")
    if kind == "edit":
        await access_own(session, viewer, anonymity, int(number))
    elif kind == "prompt" and await session.get(Prompt, int(number)) is None:
        raise Invalid(fields={"slot": "This draft does not belong to a known page."})


async def _check_room_for(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, tag: str) -> None:
    """At most DRAFTS_MAX drafts per member; replacing one that exists is always allowed."""
    if await session.scalar(select(ReflectionDraft.id).where(ReflectionDraft.owner_tag == tag)) is not None:
        return
    tags = await scopes.tags_of(session, anonymity, viewer.id)
    reflection_ids = list(await session.scalars(select(Reflection.id).where(mine_clause(viewer, tags))))
    if len(await my_drafts(session, viewer, anonymity, reflection_ids)) >= DRAFTS_MAX:
        raise Invalid(f"You have {DRAFTS_MAX} saved drafts, the most a member can keep. Publish or discard some "
                      "(your journal lists them) and this one will save; it is kept in this browser meanwhile.")


async def load_draft(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, slot: str) -> ReflectionDraft | None:
    return (await session.scalars(select(ReflectionDraft).where(
        ReflectionDraft.owner_tag == draft_tag(anonymity, viewer.id, check_slot(slot))))).first()


async def discard_draft(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, slot: str) -> None:
    await session.execute(delete(ReflectionDraft).where(
        ReflectionDraft.owner_tag == draft_tag(anonymity, viewer.id, check_slot(slot))))


async def all_slots(session: AsyncSession, reflection_ids: list[int]) -> list[str]:
    """Every slot a member can have a draft in (save_draft accepts no other): "new", every prompt (prompts are
    never deleted, only retired) and each of the member's own reflections (`reflection_ids`)."""
    prompt_ids = list(await session.scalars(select(Prompt.id)))
    return ["new"] + [f"prompt:{p}" for p in prompt_ids] + [f"edit:{r}" for r in reflection_ids]


async def my_drafts(session: AsyncSession, viewer: Viewer, anonymity: Anonymity,
                    reflection_ids: list[int]) -> list[tuple[str, ReflectionDraft]]:
    """The member's stored drafts, each with its slot (for the limit, the export and account deletion)."""
    slots = await all_slots(session, reflection_ids)
    by_tag = {draft_tag(anonymity, viewer.id, slot): slot for slot in slots}
    rows = await session.scalars(select(ReflectionDraft).where(ReflectionDraft.owner_tag.in_(list(by_tag))))
    return [(by_tag[row.owner_tag], row) for row in rows]


# ---- "My drafts" (platform.drafts): the reflections' own drafts, and replies' drafts in the shared table ------

def _place(slot: str) -> tuple[str, str]:
    kind, _, number = slot.partition(":")
    if kind == "edit":
        return "Changes to your reflection", f"/reflections/{number}/edit"
    if kind == "prompt":
        return "A reflection on a prompt", f"/reflections/new?prompt={number}"
    return "A new reflection", "/reflections/new"


async def list_own(session: AsyncSession, viewer: Viewer, anonymity: Anonymity) -> list[Listed]:
    tags = await scopes.tags_of(session, anonymity, viewer.id)
    reflection_ids = list(await session.scalars(select(Reflection.id).where(mine_clause(viewer, tags))))
    out = []
    for slot, draft in await my_drafts(session, viewer, anonymity, reflection_ids):
        label, url = _place(slot)
        out.append(Listed("reflections", slot, label, url, excerpt(draft.title, draft.body), draft.updated_at))
    return out


async def delete_own(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, slot: str) -> None:
    await discard_draft(session, viewer, anonymity, slot)


OWN_DRAFTS = OwnDrafts(list=list_own, delete=delete_own)


async def reply_places(session: AsyncSession, viewer: Viewer, keys: list[str]) -> dict[str, DraftPlace]:
    """Reflections open for replies: shared and visible (a private piece takes no replies)."""
    rows = await session.execute(select(Reflection.id, Reflection.title).where(
        Reflection.id.in_([int(k) for k in keys]), Reflection.visibility.in_(list(SHARED)),
        Reflection.state == "visible"))
    return {str(row.id): DraftPlace(f"A reply to “{row.title}”" if row.title else "A reply to a reflection",
                                    f"/reflections/{row.id}") for row in rows}


DRAFT_KINDS = (DraftKind("reflection_reply", r"[0-9]{1,12}", reply_places),)


def reply_slot(reflection_id: int) -> str:
    return f"reflection_reply:{reflection_id}"


async def purge_old(session: AsyncSession) -> dict[str, int]:
    """Housekeeping: reflection drafts untouched for as long as any other draft is kept (platform.drafts)."""
    result = await session.execute(delete(ReflectionDraft).where(
        ReflectionDraft.updated_at < datetime.now(UTC) - timedelta(days=PURGE_AFTER_DAYS)))
    return {f"reflection drafts older than {PURGE_AFTER_DAYS} days": result.rowcount or 0}
