"""Drafts of every composer: each pillar names its kinds of slot, this module keeps, finds, lists and purges them.

A slot is "<kind>:<key>": `thread:new:<category slug>`, `reply:<thread>`, `edit:<post>`,
`reflection_reply:<reflection>`, `room:<room>`. A kind belongs to a pillar (`Pillar.draft_kinds`), which says
which keys are real targets the member may write to (`DraftKind.describe`, batched) and how "My drafts" names
and links them. A draft is saved by static/js/drafts.js as the member types, kept when a submit fails, and deleted
by the publishing pipeline in the transaction that publishes the piece (`publishing.follow_up(draft=...)`).
Reflections keep their own drafts (reflections.drafts); "My drafts" lists both.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidTag
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform import rate_limits
from community.platform.anonymity import Anonymity
from community.platform.drafts.models import Draft
from community.platform.errors import Invalid
from community.platform.viewer import Viewer

DRAFT_MAX = 20_000  # characters: what the longest composer (a thread post) may publish
TITLE_MAX = 200
DRAFTS_MAX = 50  # drafts per member in this table (reflections keep their own 50)
DRAFT_SAVES_PER_MINUTE = 30  # drafts.js sends one every 2 s at most while the writer types, plus one on leaving
PURGE_AFTER_DAYS = 30  # housekeeping deletes drafts untouched for this long (README, "Drafts")
UNKNOWN_SLOT = "This draft does not belong to a page you can write on."
OWNER_SCOPE = "drafts"


@dataclass(frozen=True)
class DraftPlace:
    """How "My drafts" names a draft's composer, and where it is."""

    label: str
    url: str


# async (session, viewer, keys) -> {key: place} for the keys that are real targets the viewer may write to.
Describe = Callable[[AsyncSession, Viewer, list[str]], Awaitable[dict[str, DraftPlace]]]


@dataclass(frozen=True)
class DraftKind:
    """One kind of composer slot a pillar brings (Pillar.draft_kinds)."""

    name: str          # "reply": its slots are "reply:<key>"
    key_pattern: str   # a regular expression the key must match in full
    describe: Describe


@dataclass(frozen=True)
class DraftKey:
    """The draft a publish replaces, for `publishing.follow_up` to delete in the same transaction."""

    slot_key: str


@dataclass(frozen=True)
class Listed:
    """One of "My drafts": `source` "drafts" (this table) or a pillar's name (its own drafts)."""

    source: str
    slot: str
    label: str
    url: str | None
    excerpt: str
    updated_at: datetime


# async (session, viewer, anonymity) -> the pillar's own drafts; async (..., slot) deletes one (Pillar.own_drafts).
ListOwn = Callable[[AsyncSession, Viewer, Anonymity], Awaitable[list[Listed]]]
DeleteOwn = Callable[[AsyncSession, Viewer, Anonymity, str], Awaitable[None]]


@dataclass(frozen=True)
class OwnDrafts:
    """A pillar that keeps drafts in its own table (reflections) lists and deletes them for "My drafts"."""

    list: ListOwn
    delete: DeleteOwn


def excerpt(title: str | None, body: str, length: int = 140) -> str:
    text = " ".join(f"{title or ''} {body}".split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


class Drafts:
    """The drafts service, built once by create_app from the pillars' kinds and the anonymity service."""

    def __init__(self, anonymity: Anonymity, kinds: Sequence[DraftKind], own: Sequence[tuple[str, OwnDrafts]] = ()
                 ) -> None:
        self.anonymity = anonymity
        self.kinds = {kind.name: kind for kind in kinds}
        self._patterns = {kind.name: re.compile(kind.key_pattern + r"\Z") for kind in kinds}
        self.own = tuple(own)

    def parse(self, slot: str) -> tuple[DraftKind, str]:
        """(kind, key) of a well-formed slot of a known kind; Invalid otherwise."""
        name, _, key = (slot or "").rpartition(":")
        pattern = self._patterns.get(name)
        if pattern is None or not pattern.match(key):
            raise Invalid(UNKNOWN_SLOT, fields={"slot": UNKNOWN_SLOT})
        return self.kinds[name], key

    def key(self, viewer: Viewer, slot: str) -> DraftKey:
        self.parse(slot)
        return DraftKey(self.anonymity.tag(viewer.id, f"draft:{slot}"))

    def _owner(self, viewer: Viewer) -> str:
        return self.anonymity.tag(viewer.id, OWNER_SCOPE)

    async def check_target(self, session: AsyncSession, viewer: Viewer, slot: str) -> DraftPlace:
        kind, key = self.parse(slot)
        place = (await kind.describe(session, viewer, [key])).get(key)
        if place is None:
            raise Invalid(UNKNOWN_SLOT, fields={"slot": UNKNOWN_SLOT})
        return place

    async def save(self, session: AsyncSession, viewer: Viewer, slot: str, *, body: str, title: str = "") -> datetime:
        """Saves whatever the writer has, as long as it fits; nothing at all (a sent room message, a cleared box)
        deletes the draft."""
        body = body.replace("\x00", "")
        title = title.replace("\x00", "").strip()
        errors: dict[str, str] = {}
        if len(title) > TITLE_MAX:
            errors["title"] = f"Use at most {TITLE_MAX} characters for the title."
        if len(body) > DRAFT_MAX:
            errors["body"] = f"A draft can hold at most {DRAFT_MAX:,} characters (this has {len(body):,})."
        if errors:
            raise Invalid("The draft could not be saved.", fields=errors)
        key = self.key(viewer, slot)
        now = datetime.now(UTC)
        if not body.strip() and not title:
            await discard(session, key)
            return now
        rate_limits.EDITS.check(viewer, "drafts", limit=DRAFT_SAVES_PER_MINUTE, what="draft saves")
        await self.check_target(session, viewer, slot)
        owner = self._owner(viewer)
        exists = await session.scalar(select(Draft.id).where(Draft.slot_key == key.slot_key))
        if exists is None and await session.scalar(
                select(func.count()).select_from(Draft).where(Draft.owner_tag == owner)) >= DRAFTS_MAX:
            raise Invalid(f"You have {DRAFTS_MAX} saved drafts, the most a member can keep. Send or delete some "
                          "(My drafts lists them) and this one will save.")
        values = {"title": title or None, "body": body, "updated_at": now}
        stmt = insert(Draft).values(owner_tag=owner, slot_key=key.slot_key,
                                    slot_sealed=self.anonymity.seal(slot), **values)
        await session.execute(stmt.on_conflict_do_update(index_elements=["slot_key"], set_=values))
        rate_limits.EDITS.note(viewer, "drafts")
        return now

    async def load(self, session: AsyncSession, viewer: Viewer, slot: str) -> Draft | None:
        key = self.key(viewer, slot)
        return (await session.scalars(select(Draft).where(Draft.slot_key == key.slot_key))).first()

    async def discard(self, session: AsyncSession, viewer: Viewer, slot: str) -> None:
        await discard(session, self.key(viewer, slot))

    async def _stored(self, session: AsyncSession, viewer: Viewer) -> list[tuple[Listed, Draft]]:
        """This table's drafts of the member, each named by its pillar (one batched look-up per kind)."""
        rows = list(await session.scalars(select(Draft).where(Draft.owner_tag == self._owner(viewer))))
        slots = [(_slot_of(self.anonymity, row), row) for row in rows]
        by_kind: dict[str, list[str]] = {}
        for slot, _row in slots:
            name, _, key = slot.rpartition(":")
            by_kind.setdefault(name, []).append(key)
        places: dict[str, DraftPlace] = {}
        for name, keys in by_kind.items():
            kind = self.kinds.get(name)
            if kind is not None:
                places.update({f"{name}:{k}": p for k, p in (await kind.describe(session, viewer, keys)).items()})
        out = []
        for slot, row in slots:
            place = places.get(slot)
            out.append((Listed("drafts", slot, place.label if place else "A page you can no longer write on",
                               place.url if place else None, excerpt(row.title, row.body), row.updated_at), row))
        return out

    async def mine(self, session: AsyncSession, viewer: Viewer) -> list[Listed]:
        """Every draft of the member, this table's and the pillars' own, newest first."""
        listed = [item for item, _row in await self._stored(session, viewer)]
        for _name, own in self.own:
            listed.extend(await own.list(session, viewer, self.anonymity))
        return sorted(listed, key=lambda item: item.updated_at, reverse=True)

    async def delete_listed(self, session: AsyncSession, viewer: Viewer, source: str, slot: str) -> None:
        """Deletes one of "My drafts" (a slot that is not the member's deletes nothing)."""
        if source == "drafts":
            await self.discard(session, viewer, slot)
            return
        for name, own in self.own:
            if name == source:
                await own.delete(session, viewer, self.anonymity, slot)
                return
        raise Invalid(UNKNOWN_SLOT)


def _slot_of(anonymity: Anonymity, row: Draft) -> str:
    """The draft's slot. A seal that does not open (never expected: a row sealed under another ANON_KEY would
    carry another owner tag too) names no page, so My drafts lists it as such and it can still be deleted."""
    try:
        return anonymity.unseal(row.slot_sealed)
    except (InvalidTag, ValueError):
        return "unknown:0"


async def delete_mine(session: AsyncSession, anonymity: Anonymity, viewer: Viewer) -> None:
    """Account deletion: every draft of the member in this table."""
    await session.execute(delete(Draft).where(Draft.owner_tag == anonymity.tag(viewer.id, OWNER_SCOPE)))


async def export_mine(session: AsyncSession, anonymity: Anonymity, viewer: Viewer) -> list[dict[str, str]]:
    """The member's own export: each draft with its composer slot ("reply:12") and when it was saved."""
    rows = await session.scalars(select(Draft).where(Draft.owner_tag == anonymity.tag(viewer.id, OWNER_SCOPE))
                                 .order_by(Draft.updated_at))
    return [{"composer": _slot_of(anonymity, row), "title": row.title or "", "text": row.body,
             "saved_at": row.updated_at.isoformat()} for row in rows]


_DISCARD = delete(Draft).where(Draft.slot_key == bindparam("slot_key"))  # built once: every publish runs it


async def discard(session: AsyncSession, key: DraftKey) -> None:
    await session.execute(_DISCARD, {"slot_key": key.slot_key})


async def purge(session: AsyncSession, days: int = PURGE_AFTER_DAYS) -> dict[str, int]:
    """Housekeeping: drafts nobody has touched for `days` days."""
    result = await session.execute(delete(Draft).where(Draft.updated_at < datetime.now(UTC) - timedelta(days=days)))
    return {f"drafts older than {days} days": result.rowcount or 0}
