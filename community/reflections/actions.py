"""Reflections: writing, visibility, the wall and the private journal.

Who wrote a piece is kept in one of two ways, never both (see models.reflections):
- named pieces: `author_id`;
- private and anonymous pieces: `author_tag`, a keyed hash of the writer and this reflection (so no two pieces,
  private or anonymous, share a value; the writer's keyring finds them, accounts.scopes), plus `sealed_author` on
  anonymous pieces, which only the app can open (sanctions, approved unmasking). Their ids come from a sequence
  of their own and their times are whole days (finding 6 of issue 14).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform import mentions, publishing, rate_limits
from community.platform.accounts import scopes
from community.platform.anonymity import Anonymity
from community.platform.db import custom_plans
from community.platform.errors import Forbidden, Invalid, NotFound
from community.platform.numbers import parse_int
from community.platform.pillar import Found
from community.platform.safety import screening as screening_mod
from community.platform.states import Visibility
from community.platform.text import plain_text
from community.platform.times import day_of
from community.platform.viewer import Viewer
from community.reflections import mentioning
from community.reflections.models import (
    ANON_SEQUENCES,
    SHARED,
    TITLE_MAX,
    VISIBILITIES,
    Prompt,
    Reflection,
    ReflectionReply,
    ReflectionRevision,
)
from community.reflections.moderation import withdraw_review_items
from community.reflections.policy import (
    NAMED_STAYS_NAMED,
    REFLECTION,
    may_become_anonymous,
    others_may_see,
    others_may_see_sql,
)
from community.reflections.prompts import THEMES, check_theme, prompt_of_week_row, week_number, weekly_sql
from community.settings import Settings

WALL_PAGE = 20
# rate_limits.UNRECORDED surfaces: writing whose rows give nothing to count it by.
ANONYMOUS_SHARED, PRIVATE_ENTRIES = "anonymous_reflection", "private_reflection"
VISIBILITY_LABELS = {
    "private": "Private: only you, ever",
    "anonymous": "Shared anonymously on the reflection wall",
    "named": "Shared under your name",
}


# ---- identity --------------------------------------------------------------------------------------------

def reflection_tag(anonymity: Anonymity, user_id: int, reflection_id: int) -> str:
    """The member's tag in one reflection's scope: on their private or anonymous piece, on their anonymous replies
    in that reflection (theirs or another's), and on notifications about those. Two reflections share no tag."""
    return anonymity.tag(user_id, f"reflection:{reflection_id}")


async def next_anon_id(session: AsyncSession, table: str) -> int:
    """An id from the table's sequence for private and anonymous rows (models.ANON_SEQUENCES): signed rows' ids
    do not move when one is written, so gaps in them do not place anonymous writing among signed activity."""
    return int(await session.scalar(select(func.nextval(ANON_SEQUENCES[table]))))


async def set_owner(session: AsyncSession, reflection: Reflection, anonymity: Anonymity, user_id: int,
                    visibility: str) -> None:
    """Writes the ownership columns for a visibility, clearing whatever another visibility needed. A private or
    anonymous piece carries the writer's tag for this reflection, kept in their keyring (accounts.scopes)."""
    reflection.visibility = visibility
    if visibility == "named":
        reflection.author_id, reflection.author_tag, reflection.sealed_author = user_id, None, None
        reflection.shown_named = True
        return
    reflection.author_id = None
    reflection.author_tag = reflection_tag(anonymity, user_id, reflection.id)
    reflection.sealed_author = anonymity.seal(str(user_id)) if visibility == "anonymous" else None
    await scopes.enrol(session, anonymity, user_id, reflection.author_tag)


def is_mine(reflection: Reflection, viewer: Viewer | None, anonymity: Anonymity) -> bool:
    if viewer is None:
        return False
    if reflection.author_id is not None:
        return reflection.author_id == viewer.id
    return reflection.author_tag is not None and reflection.author_tag == reflection_tag(anonymity, viewer.id,
                                                                                         reflection.id)


def mine_clause(viewer: Viewer, tags: list[str]):  # type: ignore[no-untyped-def]
    """The viewer's reflections; `tags`: their keyring (accounts.scopes.tags_of)."""
    return or_(Reflection.author_id == viewer.id, Reflection.author_tag.in_(tags))


# ---- validation ------------------------------------------------------------------------------------------

@dataclass
class Draft:
    title: str | None
    body: str
    visibility: str
    prompt_id: int | None
    theme: str | None


def check_visibility(value: str) -> str:
    value = value.strip()
    if value not in VISIBILITIES:
        raise Invalid(fields={"visibility": "Choose who can read this: private, anonymous or under your name."})
    return value


def check_title(value: str) -> str | None:
    value = " ".join(value.split())
    if len(value) > TITLE_MAX:
        raise Invalid(fields={"title": f"Use at most {TITLE_MAX} characters for the title "
                                       f"(this has {len(value)})."})
    return value or None


def check_prompt_id(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    number = parse_int(value, max_digits=12, low=1)
    if number is None:
        raise Invalid(fields={"prompt_id": "That prompt is not valid; choose one from the prompt library."})
    return number


async def check_draft(session: AsyncSession, *, title: str, body: str, visibility: str, prompt_id: str,
                      theme: str) -> Draft:
    """Validates every field at once so the writer sees all messages together."""
    errors: dict[str, str] = {}
    out: dict[str, object] = {}
    checks = {"title": lambda: check_title(title), "body": lambda: publishing.check_body(REFLECTION, body),
              "visibility": lambda: check_visibility(visibility), "prompt_id": lambda: check_prompt_id(prompt_id),
              "theme": lambda: check_theme(theme, required=False)}
    for name, check in checks.items():
        try:
            out[name] = check()
        except Invalid as exc:
            errors.update(exc.fields)
    if not errors.get("prompt_id") and out.get("prompt_id") is not None:
        prompt = await session.get(Prompt, out["prompt_id"])
        if prompt is None:
            errors["prompt_id"] = "That prompt no longer exists; your text is kept, choose another or none."
        elif not out.get("theme"):
            out["theme"] = prompt.theme
    if errors:
        raise Invalid(fields=errors)
    return Draft(**out)  # type: ignore[arg-type]


def _text(draft: Draft) -> str:
    """What screening and the watched words read: the title, then the body."""
    return f"{draft.title}\n\n{draft.body}" if draft.title else draft.body


async def check_rate(session: AsyncSession, viewer: Viewer, settings: Settings, visibility: str, *,
                     editing: Reflection | None = None) -> None:
    """Shared writing: at most POSTS_PER_MINUTE pieces shared or changed a minute (named pieces counted by their
    member id, anonymous ones in this process's memory: their rows keep the day only, under a tag of their own),
    and as many edits of shared pieces. Private writing: only a generous ceiling on new entries, in memory too;
    keeping a piece private, editing it, or taking a piece off the wall is never limited."""
    if visibility in SHARED:
        mine = and_(Reflection.visibility == Visibility.NAMED, Reflection.author_id == viewer.id)
        if editing is not None:
            mine = and_(mine, Reflection.id != editing.id)
        await rate_limits.check_recent(session, viewer, limit=settings.posts_per_minute, when=Reflection.updated_at,
                                       mine=mine, what="shared reflections", unrecorded=ANONYMOUS_SHARED)
        if editing is not None and editing.visibility in SHARED:
            rate_limits.EDITS.check(viewer, "reflection", limit=settings.posts_per_minute,
                                    what="edits of shared reflections")
    elif editing is None:
        rate_limits.UNRECORDED.check(viewer, PRIVATE_ENTRIES, limit=settings.journal_entries_per_minute,
                                     what="private journal entries")


def _note_unrecorded(viewer: Viewer, before: str | None, after: str) -> None:
    """What check_rate counts in memory: a piece newly anonymous, or a new private entry."""
    if after == Visibility.ANONYMOUS and before != Visibility.ANONYMOUS:
        rate_limits.UNRECORDED.note(viewer, ANONYMOUS_SHARED)
    elif after == Visibility.PRIVATE and before is None:
        rate_limits.UNRECORDED.note(viewer, PRIVATE_ENTRIES)


def stamp(reflection: Reflection, *, created: bool) -> None:
    """The piece's times: exact on named pieces, the day only on private and anonymous ones (nothing to match
    with a member's sessions or signed writing by the minute)."""
    now = datetime.now(UTC)
    when = now if reflection.visibility == Visibility.NAMED else day_of(now)
    reflection.updated_at = when
    if created:
        reflection.created_at = when


# ---- writing ---------------------------------------------------------------------------------------------

async def create_reflection(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, *, settings: Settings,
                            title: str, body: str, visibility: str, prompt_id: str = "", theme: str = "",
                            confirmed: bool = False) -> tuple[Reflection, screening_mod.Screening]:
    draft = await check_draft(session, title=title, body=body, visibility=visibility, prompt_id=prompt_id,
                              theme=theme)
    checked = await publishing.check(
        session, REFLECTION, viewer, _text(draft), confirmed=confirmed, shared=draft.visibility in SHARED,
        rate=lambda: check_rate(session, viewer, settings, draft.visibility),
        anonymous=draft.visibility == Visibility.ANONYMOUS, new_piece=settings.new_member_approval_posts)
    body_html, mentioned = await mentions.render_signed(session, draft.body, draft.visibility == Visibility.NAMED)
    reflection = Reflection(title=draft.title, body=draft.body, body_html=body_html, excerpt=excerpt_of(draft.body),
                            prompt_id=draft.prompt_id, theme=draft.theme)
    if draft.visibility != Visibility.NAMED:
        reflection.id = await next_anon_id(session, "reflections")
    if checked.held:
        reflection.state = "hidden"  # off the wall until a moderator approves it; its writer sees it, marked
    await set_owner(session, reflection, anonymity, viewer.id, draft.visibility)
    stamp(reflection, created=True)
    session.add(reflection)
    await session.flush()
    _note_unrecorded(viewer, None, draft.visibility)
    await publishing.follow_up(session, REFLECTION, checked, reflection.id)
    await mentioning.tell_reflection(session, mentions.Writer.of(viewer), reflection, mentioned)
    return reflection, checked.screening


async def access_reflection(session: AsyncSession, viewer: Viewer | None, anonymity: Anonymity,
                            reflection_id: int) -> Reflection:
    """Private pieces: the author only (others get 404: not even their existence is shown).
    Hidden or removed shared pieces: the author and moderators."""
    reflection = await session.get(Reflection, reflection_id)
    if reflection is None or viewer is None:
        raise NotFound(NOT_FOUND)
    check_access(viewer, reflection.visibility, reflection.state, mine=is_mine(reflection, viewer, anonymity))
    return reflection


NOT_FOUND = "We could not find that reflection. It may have been withdrawn by its author."


def check_access(viewer: Viewer, visibility: str, state: str, *, mine: bool) -> None:
    """Raises NotFound unless the viewer may read a reflection of this visibility and state (`mine`: theirs)."""
    if mine:
        return
    if visibility == Visibility.PRIVATE:
        raise NotFound(NOT_FOUND)
    if not others_may_see(visibility, state, moderator=viewer.is_moderator):
        raise NotFound("This reflection is not available.")


async def access_own(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, reflection_id: int) -> Reflection:
    reflection = await session.get(Reflection, reflection_id)
    if reflection is None or not is_mine(reflection, viewer, anonymity):
        raise NotFound("We could not find that reflection among your writing.")
    return reflection


async def update_reflection(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, reflection_id: int, *,
                            settings: Settings, title: str, body: str, visibility: str, prompt_id: str = "",
                            theme: str = "", confirmed: bool = False) -> tuple[Reflection, screening_mod.Screening]:
    reflection = await access_own(session, viewer, anonymity, reflection_id)
    draft = await check_draft(session, title=title, body=body, visibility=visibility, prompt_id=prompt_id,
                              theme=theme)
    if reflection.state == "removed" and draft.visibility in SHARED:
        raise Forbidden("A moderator removed this piece from the wall, so it cannot be shared again. "
                        "You can keep it private.")
    if draft.visibility == Visibility.ANONYMOUS and not may_become_anonymous(reflection):
        raise Invalid(fields={"visibility": NAMED_STAYS_NAMED})
    was_shared = reflection.visibility in SHARED
    # The list is asked about wording others have not read yet: new wording, or a piece shared for the first time.
    changed = (draft.title, draft.body) != (reflection.title, reflection.body)
    checked = await publishing.check(
        session, REFLECTION, viewer, _text(draft), confirmed=confirmed, shared=draft.visibility in SHARED,
        watch=changed or not was_shared, anonymous=draft.visibility == Visibility.ANONYMOUS,
        rate=lambda: check_rate(session, viewer, settings, draft.visibility, editing=reflection),
        # A private piece shared for the first time is a new piece on the wall (the new-member rule).
        new_piece=None if was_shared else settings.new_member_approval_posts)
    held = checked.held and reflection.state == "visible"
    if held:
        reflection.state = "hidden"  # the new wording waits for a moderator, as a new piece would
    if was_shared and changed:  # others may have read (or flagged) the wording being replaced: moderators keep it
        session.add(ReflectionRevision(reflection_id=reflection.id, title=reflection.title, body=reflection.body,
                                       created_at=day_of(datetime.now(UTC))))
    reflection.title, reflection.body, reflection.excerpt = draft.title, draft.body, excerpt_of(draft.body)
    reflection.body_html, mentioned = await mentions.render_signed(session, draft.body,
                                                                   draft.visibility == Visibility.NAMED)
    reflection.prompt_id, reflection.theme = draft.prompt_id, draft.theme
    before = reflection.visibility
    if draft.visibility != reflection.visibility:
        # Never named to anonymous (refused above), so no signed reply of the writer's sits beside it.
        await set_owner(session, reflection, anonymity, viewer.id, draft.visibility)
    stamp(reflection, created=False)
    await session.flush()
    _note_unrecorded(viewer, before, draft.visibility)
    if was_shared and draft.visibility == "private":
        await _withdraw(session, reflection.id)
    result = checked.screening
    await publishing.follow_up(session, REFLECTION, replace(checked, held=held), reflection.id,
                               record_screening=bool(result.crisis_fired or result.findings or not was_shared))
    await mentioning.tell_reflection(session, mentions.Writer.of(viewer), reflection, mentioned)
    if was_shared and draft.visibility in SHARED:
        rate_limits.EDITS.note(viewer, "reflection")
    return reflection, result


async def change_visibility(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, reflection_id: int,
                            visibility: str, *, settings: Settings, confirmed: bool = False) -> Reflection:
    reflection = await access_own(session, viewer, anonymity, reflection_id)
    visibility = check_visibility(visibility)
    reflection, _ = await update_reflection(
        session, viewer, anonymity, reflection_id, settings=settings, title=reflection.title or "", body=reflection.body,
        visibility=visibility, prompt_id=str(reflection.prompt_id or ""), theme=reflection.theme or "",
        confirmed=confirmed)
    return reflection


async def delete_reflection(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, reflection_id: int) -> None:
    """The author deletes for good: replies and reactions go with it (cascade)."""
    reflection = await access_own(session, viewer, anonymity, reflection_id)
    await _withdraw(session, reflection.id)
    await session.delete(reflection)
    await session.flush()


async def _withdraw(session: AsyncSession, reflection_id: int) -> None:
    reply_ids = list(await session.scalars(select(ReflectionReply.id).where(
        ReflectionReply.reflection_id == reflection_id)))
    await withdraw_review_items(session, "reflection", [reflection_id])
    await withdraw_review_items(session, "reflection_reply", reply_ids)


# ---- reading ---------------------------------------------------------------------------------------------

@dataclass
class Card:
    id: int
    title: str | None
    excerpt: str
    body_html: str | None  # the whole piece, read only where it is shown (the reflection's page); None elsewhere
    visibility: str
    state: str
    author_name: str | None  # only for named pieces
    theme: str | None
    prompt_id: int | None
    prompt_title: str | None
    created_at: datetime
    replies: int = 0
    reactions: dict[str, int] = field(default_factory=dict)
    mine: bool = False
    # The database row the card was made from, when it is hashable (list_wall): the card's cache key.
    row: Any = field(default=None, compare=False, repr=False)

    @property
    def anonymous(self) -> bool:
        return self.visibility != "named"

    @property
    def theme_label(self) -> str:
        return THEMES.get(self.theme or "", "")


EXCERPT_CHARS = 320


def excerpt_of(body: str) -> str:
    """The card excerpt: plain text of the Markdown, cut at EXCERPT_CHARS. Stored with the piece when it is
    written (`Reflection.excerpt`, migration 0030): parsing it per card was most of a wall page's time."""
    return plain_text(body, EXCERPT_CHARS)


def card_of(row: Any, viewer: Viewer | None, anonymity: Anonymity, replies: int, reactions: dict[str, int],
             keep_row: bool = False) -> Card:
    """One card from a row of the wall's, the journal's or the reflection page's statement: they all build their
    cards here, so they cannot drift apart. Whether a tagged piece is the viewer's: their tag for that reflection."""
    if viewer is None:
        mine = False
    elif row["author_id"] is not None:
        mine = row["author_id"] == viewer.id
    else:
        mine = row["author_tag"] is not None and row["author_tag"] == reflection_tag(anonymity, viewer.id, row["id"])
    visibility = row["visibility"]
    return Card(id=row["id"], title=row["title"], excerpt=row["excerpt"], body_html=row.get("body_html"),
                visibility=visibility, state=row["state"],
                author_name=row["display_name"] if visibility == Visibility.NAMED else None, theme=row["theme"],
                prompt_id=row["prompt_id"], prompt_title=row["prompt_title"], created_at=row["created_at"],
                replies=replies, reactions=reactions, mine=mine, **({"row": row} if keep_row else {}))


# The wall runs on a bare asyncpg connection (Database.raw): one prepared statement with each card's reply and
# reaction counts (the ORM version took three), only the filters in use (each combination is its own prepared
# statement, so every one gets a plan that fits it). $1 the page size, $2 the shared visibilities, $3 the week
# number: the prompt of the week rides on every row as JSON text, so the page is one round trip.
_WALL_SQL = """
WITH weekly AS (""" + weekly_sql("$3") + """)
SELECT (SELECT row_to_json(w)::text FROM weekly w) AS weekly,
       r.id, r.title, r.excerpt, r.visibility, r.state, r.author_id, r.author_tag, r.theme, r.prompt_id,
       r.created_at, u.display_name, pr.title AS prompt_title,
       (SELECT count(*) FROM reflection_replies x WHERE x.reflection_id = r.id AND x.state = 'visible') AS replies,
       (SELECT json_object_agg(k.kind, k.n)::text FROM
          (SELECT x.kind, count(*) AS n FROM reflection_reactions x WHERE x.reflection_id = r.id GROUP BY x.kind) k)
         AS reactions
FROM reflections r
LEFT JOIN users u ON u.id = r.author_id
LEFT JOIN prompts pr ON pr.id = r.prompt_id
WHERE r.visibility = ANY($2::text[]) AND """ + others_may_see_sql("r") + """{filters}
ORDER BY r.created_at DESC, r.id DESC LIMIT $1
"""
# `before` is the last card's id: the page goes on from its (created_at, id).
_WALL_FILTERS = {
    "theme": " AND r.theme = ${n}::text",
    "prompt_id": " AND r.prompt_id = ${n}::bigint",
    "q": " AND r.search @@ websearch_to_tsquery('english', ${n}::text)",
    "before": " AND (r.created_at, r.id) < ((SELECT b.created_at FROM reflections b WHERE b.id = ${n}::bigint), ${n})",
}
_SHARED = list(SHARED)


@dataclass
class WallPage:
    cards: list[Card]
    weekly: Any  # the prompt of the week (id, theme, title, text, minutes), or None; read only


async def wall_page(connection: Any, viewer: Viewer, anonymity: Anonymity, *, theme: str = "",
                    prompt_id: int | None = None, q: str = "", before: int | None = None,
                    limit: int = WALL_PAGE) -> WallPage:
    """Shared, visible pieces, newest first by (created_at, id), keyset-paginated, with the prompt of the week: one
    statement when there are cards (a second only for an empty page). Private and anonymous pieces keep the day
    only and take ids of their own sequence, so within a day named pieces come first, each kind newest first.

    `connection`: a raw asyncpg connection (Database.raw).
    """
    filters = {"theme": theme if theme in THEMES else None, "prompt_id": prompt_id or None, "q": q or None,
               "before": before or None}
    clauses = []
    args: list[Any] = [limit, _SHARED, week_number()]
    for name, value in filters.items():
        if value is not None:
            args.append(value)
            clauses.append(_WALL_FILTERS[name].format(n=len(args)))
    sql = _WALL_SQL.format(filters="".join(clauses))
    if q:  # a word search: its best plan depends on the words (a generic one took 5 to 10 times as long)
        async with custom_plans(connection):
            rows = await connection.fetch(sql, *args)
    else:
        rows = await connection.fetch(sql, *args)
    if rows:
        weekly = _weekly_of(rows[0]["weekly"]) if rows[0]["weekly"] is not None else None
    else:
        weekly = await prompt_of_week_row(connection)
    cards = [card_of(row, viewer, anonymity, row["replies"], json.loads(row["reactions"]) if row["reactions"] else {},
                      keep_row=True) for row in rows]
    return WallPage(cards, weekly)


@lru_cache(maxsize=64)
def _weekly_of(raw: str) -> dict[str, Any]:
    """The prompt of the week's JSON as a dict, parsed once per distinct text (shared: callers only read it)."""
    return json.loads(raw)


# The journal on a bare asyncpg connection (Database.raw): one prepared statement per combination of filters.
# $1 the viewer's id, $2 their keyring's tags (accounts.scopes.raw_tags_of), $3 the limit, $4 the offset (search
# pages only). The journal shows no counts, so none are read.
_JOURNAL_SQL = """
SELECT r.id, r.title, r.excerpt, r.visibility, r.state, r.author_id, r.author_tag, r.theme, r.prompt_id,
       r.created_at, u.display_name, pr.title AS prompt_title
FROM reflections r
LEFT JOIN users u ON u.id = r.author_id
LEFT JOIN prompts pr ON pr.id = r.prompt_id
WHERE (r.author_id = $1::bigint OR r.author_tag = ANY($2::text[])){filters}
ORDER BY {order}r.created_at DESC, r.id DESC LIMIT $3 OFFSET $4
"""
JOURNAL_PAGE = 50  # entries per journal page; older ones are a link away ("Older entries")
JOURNAL_MAX_OFFSET = 5_000  # search pages of the journal go this far (a hundred pages)
# `before`: the last entry's id on the page before, the viewer's own only (anyone else's gives an empty page).
_JOURNAL_BEFORE = (" AND (r.created_at, r.id) < (SELECT b.created_at, b.id FROM reflections b WHERE b.id = ${n}::bigint"
                   " AND (b.author_id = $1::bigint OR b.author_tag = ANY($2::text[])))")


@dataclass
class JournalPage:
    cards: list[Card]
    more: bool  # there is a page after this one


async def journal_cards(connection: Any, viewer: Viewer, anonymity: Anonymity, tags: list[str], *, q: str = "",
                        theme: str = "", visibility: str = "", before: int | None = None, offset: int = 0,
                        limit: int = JOURNAL_PAGE) -> JournalPage:
    """One page of the author's own writing, all visibilities; only ever the viewer's (their private and anonymous
    pieces are found through their keyring, `tags`: accounts.scopes.raw_tags_of), newest first by (created_at, id)
    and paged by `before` (the last entry's id), or by rank when searching and paged by `offset`. `connection`: a
    raw asyncpg connection (Database.raw)."""
    offset = min(max(0, offset), JOURNAL_MAX_OFFSET) if q else 0
    args: list[Any] = [viewer.id, tags, limit + 1, offset]
    filters, order = [], ""
    if theme in THEMES:
        args.append(theme)
        filters.append(f" AND r.theme = ${len(args)}::text")
    elif theme == "none":
        filters.append(" AND r.theme IS NULL")
    if visibility in VISIBILITIES:
        args.append(visibility)
        filters.append(f" AND r.visibility = ${len(args)}::text")
    if q:
        args.append(q)
        query = f"websearch_to_tsquery('english', ${len(args)}::text)"
        filters.append(f" AND r.search @@ {query}")
        order = f"ts_rank(r.search, {query}) DESC, "
    elif before is not None:
        args.append(before)
        filters.append(_JOURNAL_BEFORE.format(n=len(args)))
    rows = await connection.fetch(_JOURNAL_SQL.format(filters="".join(filters), order=order), *args)
    return JournalPage([card_of(row, viewer, anonymity, 0, {}) for row in rows[:limit]], len(rows) > limit)


SEARCH_LIMIT = 10  # shared reflections on the search page; the wall's own search pages through the rest


async def search_wall(connection: Any, viewer: Viewer, anonymity: Anonymity, q: str) -> list[Found]:
    """The search page's reflections: the wall's own statement with its query filter, so exactly the wall's rules
    apply (shared and visible only, never a private journal entry), and an anonymous piece says only "Anonymous"."""
    q = " ".join(q.split())[:200].replace("\x00", "")
    if not q:
        return []
    page = await wall_page(connection, viewer, anonymity, q=q, limit=SEARCH_LIMIT)
    return [Found(title=card.title or "A reflection", url=f"/reflections/{card.id}",
                  byline=card.author_name if card.visibility == "named" and card.author_name else "Anonymous",
                  snippet=card.excerpt, created_at=card.created_at) for card in page.cards]
