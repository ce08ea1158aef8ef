"""Mentions: which members a piece of writing names with "@", its HTML with those mentions linked, and who is
told (once per piece).

The rule:
- `@handle` is a member's handle, matched without regard to case (the composer's autocomplete inserts it);
- `@Display Name` (one to four words after the "@", one space between them) is a member whose display name is
  exactly that, ignoring case, and only when no other member has it. A name of several words wins over a
  handle that is its first word ("@Ana Lopez" is Ana Lopez even if someone's handle is "ana"); a single word
  is a handle first, then a unique one-word display name;
- only prose counts: not code, not links, not e-mail addresses or URLs (platform.text);
- deleted members are never matched; suspended members are linked but not told.

Mentions resolve to members, never to anonymous writing: nothing here knows of tags or pseudonyms, so "@Heron"
is a member called Heron (if exactly one is), never the writer behind a pseudonym, and mentioning a member
never points at their anonymous pieces. Whoever is told hears who mentioned them only through the caller's
text (a signed author's name); a caller writing for an anonymous piece must say "Someone".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts.models import User
from community.platform.notify.notifications import notify_grouped
from community.platform.review.models import Mention
from community.platform.text import mention_candidates, render_markdown, render_markdown_and_text
from community.platform.viewer import Viewer

# At most this many members are mentioned (linked and told) per piece; name phrases looked up per piece.
MAX_MENTIONS = 20
MAX_NAME_PHRASES = 80


@dataclass(frozen=True, slots=True)
class Mentioned:
    id: int
    handle: str
    name: str
    suspended: bool


@dataclass(frozen=True, slots=True)
class Writer:
    """Who a mention notification names: the writer of the piece (not the moderator who approved it)."""

    id: int
    display_name: str

    @classmethod
    def of(cls, viewer: Viewer) -> Writer:
        return cls(viewer.id, viewer.display_name)


async def writer(session: AsyncSession, user_id: int) -> Writer | None:
    """The member who wrote a piece, when they still have an account."""
    row = (await session.execute(select(User.id, User.display_name)
                                 .where(User.id == user_id, User.deleted_at.is_(None)))).first()
    return Writer(row.id, row.display_name) if row is not None else None


@dataclass
class Resolved:
    """The members a text mentions, and its mention texts (lowercased) -> handle, for rendering."""

    members: dict[int, Mentioned] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)

    def render(self, source: str) -> str:
        return render_markdown(source, self.links or None)

    def render_with_text(self, source: str) -> tuple[str, str]:
        """(render(source), plain_text(source)) from one parse."""
        return render_markdown_and_text(source, self.links or None)


def choose(handles: list[str], names: list[str], rows: list[Mentioned]) -> Resolved:
    """The rule above, over the members whose handle or display name matched (`rows`): pure, so unit-tested."""
    by_handle = {row.handle.lower(): row for row in rows}
    by_name: dict[str, list[Mentioned]] = {}
    for row in rows:
        by_name.setdefault(" ".join(row.name.split()).lower(), []).append(row)
    resolved = Resolved()
    for key in [*names, *handles]:
        if key in resolved.links:
            continue
        several_words = " " in key
        member = None
        if not several_words and key in by_handle and key in handles:
            member = by_handle[key]
        elif len(by_name.get(key, [])) == 1:
            member = by_name[key][0]
        if member is None:
            continue
        if member.id not in resolved.members and len(resolved.members) >= MAX_MENTIONS:
            continue
        resolved.members[member.id] = member
        resolved.links[key] = member.handle
    return resolved


async def resolve(session: AsyncSession, source: str) -> Resolved:
    """One query for every handle and name phrase the text could mean."""
    handles, names = mention_candidates(source)
    handles, names = handles[:MAX_MENTIONS * 2], names[:MAX_NAME_PHRASES]
    if not handles and not names:
        return Resolved()
    now = datetime.now(UTC)
    rows = (await session.execute(
        select(User.id, User.handle, User.display_name, User.suspended_at, User.suspended_until)
        .where(User.deleted_at.is_(None),
               or_(func.lower(User.handle).in_(handles),
                   func.lower(func.regexp_replace(func.trim(User.display_name), r"\s+", " ", "g")).in_(names)))
    )).all()
    members = [Mentioned(r.id, r.handle, r.display_name,
                         r.suspended_at is not None and (r.suspended_until is None or r.suspended_until > now))
               for r in rows]
    return choose(handles, names, members)


async def record(session: AsyncSession, target: tuple[str, int], resolved: Resolved,
                 exclude: frozenset[int] | set[int] = frozenset()) -> list[int]:
    """Records who the piece mentions and returns those not recorded before (to be told now): once per piece,
    however often it is edited. Suspended members and `exclude` (the writer) are neither recorded nor told."""
    wanted = [m.id for m in resolved.members.values() if not m.suspended and m.id not in exclude]
    if not wanted:
        return []
    inserted = await session.scalars(
        pg_insert(Mention).values([{"target_kind": target[0], "target_id": target[1], "user_id": uid}
                                   for uid in wanted])
        .on_conflict_do_nothing().returning(Mention.user_id))
    return list(inserted)


async def render_signed(session: AsyncSession, source: str, signed: bool) -> tuple[str, Resolved]:
    """The stored HTML of a piece: with its mentions linked when it is signed; anonymous or private writing links
    nobody (see the module docstring)."""
    if not signed:
        return render_markdown(source), Resolved()
    resolved = await resolve(session, source)
    return resolved.render(source), resolved


async def tell(session: AsyncSession, target: tuple[str, int], resolved: Resolved, *, writer_id: int, text: str,
               url: str, group: str, subject: str | None) -> list[int]:
    """Records the mentions of a visible, signed piece and tells those never told about it (grouped per subject,
    shown only while they may see the piece: the target). Returns who was told."""
    told = await record(session, target, resolved, exclude={writer_id})
    await notify_grouped(session, [
        {"user_id": uid, "kind": "mention", "text": text, "url": url, "target_kind": target[0],
         "target_id": target[1], "group_key": group, "subject": subject, "actor_ids": [writer_id]}
        for uid in told])
    return told
