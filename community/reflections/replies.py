"""Supportive replies and reactions on shared reflections, with per-thread pseudonyms for anonymous voices.

An anonymous reply carries its writer's tag for the reflection's scope (actions.reflection_tag): the same as the
reflection's own when the writer replies under their own piece, a tag of its own anywhere else, kept in the
writer's keyring (accounts.scopes). It takes an id of its own sequence and keeps the day only; the thread is
ordered by `position`. Reactions carry a tag per reflection too, outside the keyring (the app never lists them
for a member, except when it exports or deletes their data, reflection by reflection).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform import mentions, publishing, rate_limits
from community.platform.accounts import scopes
from community.platform.anonymity import Anonymity
from community.platform.drafts.store import DraftKey
from community.platform.errors import Forbidden, Invalid, NotFound
from community.platform.notify.notifications import group_key, notify
from community.platform.safety import screening as screening_mod
from community.platform.text import plain_text
from community.platform.times import day_of
from community.platform.viewer import Viewer
from community.reflections import mentioning
from community.reflections.actions import (
    NOT_FOUND,
    Card,
    access_reflection,
    card_of,
    check_access,
    is_mine,
    next_anon_id,
    reflection_tag,
)
from community.reflections.models import (
    REACTIONS,
    Reflection,
    ReflectionReaction,
    ReflectionReply,
    ReflectionReplyRevision,
)
from community.reflections.moderation import withdraw_review_items
from community.reflections.policy import REPLY
from community.settings import Settings

# Calm nature words: "Anonymous · Heron". 64 of them, so pseudonym_index(..., 64) picks one.
PSEUDONYMS = (
    "Heron", "Willow", "Cedar", "Fern", "Moss", "River", "Meadow", "Sparrow", "Birch", "Maple", "Pebble", "Tide",
    "Harbor", "Lark", "Wren", "Aspen", "Clover", "Dune", "Ember", "Finch", "Glade", "Hazel", "Iris", "Juniper",
    "Kestrel", "Lichen", "Linden", "Marsh", "Nettle", "Oak", "Otter", "Pine", "Plover", "Quail", "Reed", "Rowan",
    "Sage", "Sedge", "Shore", "Sorrel", "Spruce", "Stone", "Swift", "Thistle", "Thrush", "Tern", "Vale", "Wave",
    "Alder", "Bay", "Brook", "Cloud", "Cove", "Dawn", "Elm", "Grove", "Hollow", "Laurel", "Lupin", "Mist",
    "Poppy", "Robin", "Sky", "Yarrow",
)
REACTION_LABELS = {"thanks": "Thank you", "metoo": "Me too", "helped": "This helped"}
# rate_limits.UNRECORDED surface: new anonymous replies, whose rows keep the day only.
ANONYMOUS_REPLIES = "anonymous_reply"


def reply_tag(anonymity: Anonymity, user_id: int, reflection_id: int) -> str:
    """A member's anonymous replies in one reflection: the tag of that reflection's scope, so replies in two
    threads share nothing, and nothing ties them to the writer's pieces elsewhere."""
    return reflection_tag(anonymity, user_id, reflection_id)


def reactor_tag(anonymity: Anonymity, user_id: int, reflection_id: int) -> str:
    """A member's reactions on one reflection; another scope than their replies there."""
    return anonymity.tag(user_id, f"react:{reflection_id}")


def pseudonym(anonymity: Anonymity, user_id: int, reflection_id: int) -> str:
    """Stable within one reflection's thread; unlinkable across threads without the key."""
    return PSEUDONYMS[anonymity.pseudonym_index(user_id, f"reflection:{reflection_id}", len(PSEUDONYMS))]


async def _thread_pseudonym(session: AsyncSession, anonymity: Anonymity, user_id: int, reflection_id: int,
                            tag: str) -> str:
    """The member's pseudonym in this thread: reused if they spoke before, else the keyed choice, moved on to
    the next free word if another participant already has it (so two people never share a name)."""
    rows = (await session.execute(select(ReflectionReply.author_tag, ReflectionReply.pseudonym).where(
        ReflectionReply.reflection_id == reflection_id, ReflectionReply.pseudonym.is_not(None)))).all()
    for row_tag, name in rows:
        if row_tag == tag:
            return name
    taken = {name for _, name in rows}
    start = PSEUDONYMS.index(pseudonym(anonymity, user_id, reflection_id))
    for step in range(len(PSEUDONYMS)):
        name = PSEUDONYMS[(start + step) % len(PSEUDONYMS)]
        if name not in taken:
            return name
    return f"{PSEUDONYMS[start]} {len(taken) + 1}"


def check_reaction(kind: str) -> str:
    if kind not in REACTIONS:
        raise Invalid(fields={"kind": "Choose one of: thank you, me too, this helped."})
    return kind


@dataclass
class ReplyView:
    id: int
    label: str
    is_author: bool
    anonymous: bool
    body_html: str
    state: str
    created_at: datetime
    mine: bool
    edited: bool = False


async def access_shared(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, reflection_id: int) -> Reflection:
    reflection = await access_reflection(session, viewer, anonymity, reflection_id)
    if reflection.visibility == "private":
        raise Forbidden("Private writing cannot receive replies or reactions.")
    if reflection.state != "visible":
        raise Forbidden("This reflection is not open for replies right now.")
    return reflection


async def create_reply(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, reflection_id: int, *,
                       settings: Settings, body: str, anonymous: bool,
                       confirmed: bool = False,
                       draft: DraftKey | None = None) -> tuple[ReflectionReply, screening_mod.Screening]:
    reflection = await access_shared(session, viewer, anonymity, reflection_id)
    text = publishing.check_body(REPLY, body)
    own = is_mine(reflection, viewer, anonymity)
    # The author of an anonymous piece always replies anonymously: a named reply would unmask them.
    anonymous = anonymous or (own and reflection.visibility == "anonymous")
    # Counted by the columns that already say whose a reply is: the member id, or the anonymous reply tag.
    # Signed replies are counted by their member id, anonymous ones in memory (their rows keep the day only).
    checked = await publishing.check(session, REPLY, viewer, text, confirmed=confirmed, rate=lambda: rate_limits.check_recent(
        session, viewer, limit=settings.posts_per_minute, when=ReflectionReply.created_at,
        mine=ReflectionReply.author_id == viewer.id, what="replies", unrecorded=ANONYMOUS_REPLIES),
        anonymous=anonymous, new_piece=settings.new_member_approval_posts)
    # "author" only beside an anonymous piece: an anonymous reply marked "author" under a named reflection
    # would name its writer. There it takes a pseudonym like anyone else's.
    body_html, mentioned = await mentions.render_signed(session, text, signed=not anonymous)
    reply = ReflectionReply(reflection_id=reflection.id, body=text, body_html=body_html,
                            anonymous=anonymous, is_author=own and reflection.visibility == "anonymous",
                            position=_next_position(reflection.id))
    if checked.held:
        reply.state = "hidden"  # shown to others once a moderator approves it; its writer sees it, marked
    if anonymous:
        await _sign_anonymously(session, anonymity, viewer, reply)
    else:
        reply.author_id = viewer.id
    session.add(reply)
    await session.flush()
    if anonymous:
        rate_limits.UNRECORDED.note(viewer, ANONYMOUS_REPLIES)
    await publishing.follow_up(session, REPLY, checked, reply.id, draft=draft)
    await mentioning.tell_reply(session, mentions.Writer.of(viewer), reflection, reply, mentioned)
    if not own:  # about a held reply, it shows once the reply is approved (notifications.target_visible_sql)
        url = f"/reflections/{reflection.id}#reply-{reply.id}"
        what = f"“{reflection.title}”" if reflection.title else "your reflection"
        group = group_key("reflection_reply", "reflection", reflection.id)
        if reflection.visibility == "anonymous" and reflection.author_tag:
            # The reply already points at this reflection, and so at its tag: the target adds no link.
            # Grouped with the tag's unread replies on this reflection: one scope, so nothing new is linked.
            await notify(session, tag=reflection.author_tag, anonymity=anonymity, kind="reflection_reply",
                         text=f"Someone replied to your anonymous reflection {what}.", url=url,
                         target=("reflection_reply", reply.id), group=group)
        elif reflection.visibility == "named" and reflection.author_id:
            # No actor: a reply may be anonymous, and a group naming only the signed repliers would say which.
            await notify(session, user_id=reflection.author_id, kind="reflection_reply",
                         text=f"Someone replied to {what}.", url=url, target=("reflection_reply", reply.id),
                         group=group, subject=reflection.title)
    return reply, checked.screening


def _next_position(reflection_id: int):  # type: ignore[no-untyped-def]
    """The reply's place in its thread, computed in its INSERT (two at once may share one: then the id decides)."""
    return (select(func.coalesce(func.max(ReflectionReply.position), 0) + 1)
            .where(ReflectionReply.reflection_id == reflection_id).scalar_subquery())


async def _sign_anonymously(session: AsyncSession, anonymity: Anonymity, viewer: Viewer,
                            reply: ReflectionReply) -> None:
    """An anonymous reply's own columns: an id of its own sequence, the day, the tag of the reflection's scope
    (kept in the writer's keyring), the seal and the thread pseudonym."""
    reply.id = await next_anon_id(session, "reflection_replies")
    reply.created_at = anonymity.day_of(datetime.now(UTC))
    reply.author_tag = reply_tag(anonymity, viewer.id, reply.reflection_id)
    reply.sealed_author = anonymity.seal(str(viewer.id))
    reply.pseudonym = None if reply.is_author else await _thread_pseudonym(session, anonymity, viewer.id,
                                                                            reply.reflection_id, reply.author_tag)
    await scopes.enrol(session, anonymity, viewer.id, reply.author_tag)


def _reply_is_mine(reply: ReflectionReply, viewer: Viewer, anonymity: Anonymity) -> bool:
    if reply.author_id is not None:
        return reply.author_id == viewer.id
    return reply.author_tag is not None and reply.author_tag == reply_tag(anonymity, viewer.id, reply.reflection_id)


def my_replies_clause(viewer: Viewer, tags: list[str]):  # type: ignore[no-untyped-def]
    """The viewer's replies, named (author_id) or anonymous (a tag of their keyring), in one WHERE clause."""
    return or_(ReflectionReply.author_id == viewer.id, ReflectionReply.author_tag.in_(tags))


async def access_own_reply(session: AsyncSession, viewer: Viewer, anonymity: Anonymity,
                           reply_id: int) -> tuple[ReflectionReply, Reflection]:
    """The viewer's own reply, open for editing. Anyone else's reply is "not found", exactly as for deletion
    (a moderator included: they hide or remove, they do not rewrite). A reply a moderator removed stays as it
    is (as with thread posts), and so does one on a reflection that is no longer open for replies."""
    reply = await session.get(ReflectionReply, reply_id, with_for_update=True)
    if reply is None or not _reply_is_mine(reply, viewer, anonymity):
        raise NotFound("We could not find that reply among yours.")
    if reply.state == "removed":
        raise Forbidden("A moderator removed this reply, so it can no longer be edited. You can still delete it.")
    reflection = await access_shared(session, viewer, anonymity, reply.reflection_id)
    return reply, reflection


async def edit_reply(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, reply_id: int, *, settings: Settings,
                     body: str, confirmed: bool = False) -> tuple[ReflectionReply, screening_mod.Screening]:
    """The writer edits their reply: the same checks as a new reply (length, sharing pause, crisis and
    patient-identifier screening with the confirm step), Markdown rendered and sanitized once. Only the text and
    the "edited" mark change: who wrote it (author_id, or tag, seal and pseudonym) is left exactly as it was."""
    reply, _ = await access_own_reply(session, viewer, anonymity, reply_id)
    text = publishing.check_body(REPLY, body)
    changed = text != reply.body

    async def edit_rate() -> None:
        if changed:
            rate_limits.EDITS.check(viewer, "reflection_reply", limit=settings.posts_per_minute, what="reply edits")

    checked = await publishing.check(session, REPLY, viewer, text, confirmed=confirmed, rate=edit_rate,
                                     watch=changed, anonymous=reply.author_id is None)
    result = checked.screening
    if not changed:  # the same text: nothing to save
        return reply, result
    held = checked.held and reply.state == "visible"
    if held:
        reply.state = "hidden"  # the new wording waits for a moderator, as a new reply would
    session.add(ReflectionReplyRevision(reply_id=reply.id, body=reply.body, created_at=day_of(datetime.now(UTC))))
    reply.body = text
    reply.body_html, mentioned = await mentions.render_signed(session, text, signed=reply.author_id is not None)
    now = datetime.now(UTC)
    # Anonymous replies keep the day only: no minute to match against anyone's activity.
    reply.edited_at = day_of(now) if reply.author_id is None else now
    await session.flush()
    rate_limits.EDITS.note(viewer, "reflection_reply")
    await publishing.follow_up(session, REPLY, replace(checked, held=held), reply.id)
    reflection = await session.get(Reflection, reply.reflection_id)
    if reflection is not None:
        await mentioning.tell_reply(session, mentions.Writer.of(viewer), reflection, reply, mentioned)
    return reply, result


async def delete_reply(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, reply_id: int) -> int:
    reply = await session.get(ReflectionReply, reply_id)
    if reply is None or not _reply_is_mine(reply, viewer, anonymity):
        raise NotFound("We could not find that reply among yours.")
    reflection_id = reply.reflection_id

    await withdraw_review_items(session, "reflection_reply", [reply.id])
    await session.delete(reply)
    return reflection_id


def _label(anonymous: bool, is_author: bool, pseudonym: str | None, signed: str, reflection_visibility: str) -> str:
    """How a reply's writer is shown: "Anonymous · Heron", "Anonymous · author", `signed` (the writer's name, or
    "under your name" in their journal), or "author" beside the writer's own named reflection."""
    if is_author and reflection_visibility == "named":
        return "author"
    if anonymous:
        return "Anonymous · author" if is_author else f"Anonymous · {pseudonym or 'former member'}"
    return signed


@dataclass
class ReflectionPage:
    card: Card  # the reflection itself (its title, body, visibility, state, times, reactions, prompt)
    prompt: dict[str, Any] | None  # the prompt it answers (id, title), if any
    replies: list[ReplyView]
    my_reactions: set[str]


# One reflection with its card, the viewer's reactions and the replies they may see, as one prepared statement on a
# bare asyncpg connection (Database.raw): the reflection's columns on every row, one row per reply (one with NULL
# reply columns when there is none; none when the reflection does not exist). $1 the reflection, $2 the viewer,
# $3 the viewer's reply tag in it, $4 the viewer is a moderator, $5 their reactor tag on it.
_PAGE_SQL = """
WITH r AS (
  SELECT r.id, r.title, r.excerpt, r.body_html, r.visibility, r.state, r.author_id, r.author_tag, r.theme,
         r.prompt_id, r.created_at, u.display_name, pr.title AS prompt_title,
         (SELECT count(*) FROM reflection_replies x WHERE x.reflection_id = r.id AND x.state = 'visible') AS replies,
         (SELECT json_object_agg(k.kind, k.n)::text FROM
            (SELECT x.kind, count(*) AS n FROM reflection_reactions x WHERE x.reflection_id = r.id GROUP BY x.kind) k)
           AS reactions,
         (SELECT array_agg(x.kind) FROM reflection_reactions x WHERE x.reflection_id = r.id
            AND x.reactor_tag = $5::text) AS my_reactions
  FROM reflections r
  LEFT JOIN users u ON u.id = r.author_id
  LEFT JOIN prompts pr ON pr.id = r.prompt_id
  WHERE r.id = $1::bigint
)
SELECT r.*, x.* FROM r LEFT JOIN LATERAL (
  SELECT x.id AS x_id, x.anonymous AS x_anonymous, x.author_id AS x_author_id, x.author_tag AS x_author_tag,
         x.is_author AS x_is_author, x.pseudonym AS x_pseudonym, x.body_html AS x_body_html, x.state AS x_state,
         x.created_at AS x_created_at, x.edited_at AS x_edited_at, xu.display_name AS x_name,
         x.position AS x_position
  FROM reflection_replies x LEFT JOIN users xu ON xu.id = x.author_id
  WHERE x.reflection_id = r.id
    AND ($4::boolean OR x.state = 'visible' OR x.author_id = $2::bigint OR x.author_tag = $3::text)
) x ON true
ORDER BY x.x_position, x.x_id
"""


async def reflection_page(connection: Any, viewer: Viewer, anonymity: Anonymity, reflection_id: int) -> ReflectionPage:
    """What the reflection page shows, under the reading rule of access_reflection (NotFound otherwise).
    Hidden or removed replies: moderators, and their writer (who sees the state beside their reply)."""
    tag = reply_tag(anonymity, viewer.id, reflection_id)
    rows = await connection.fetch(_PAGE_SQL, reflection_id, viewer.id, tag, viewer.is_moderator,
                                  reactor_tag(anonymity, viewer.id, reflection_id))
    if not rows:
        raise NotFound(NOT_FOUND)
    first = rows[0]
    card = card_of(first, viewer, anonymity, first["replies"],
                    json.loads(first["reactions"]) if first["reactions"] else {})
    check_access(viewer, card.visibility, card.state, mine=card.mine)
    visibility = card.visibility
    views = []
    for row in rows:
        if row["x_id"] is None:
            continue
        author_id = row["x_author_id"]
        anonymous = row["x_anonymous"] or author_id is None
        views.append(ReplyView(
            id=row["x_id"], label=_label(anonymous, row["x_is_author"], row["x_pseudonym"],
                                         row["x_name"] or "Former member", visibility),
            is_author=row["x_is_author"], anonymous=anonymous, body_html=row["x_body_html"], state=row["x_state"],
            created_at=row["x_created_at"],
            mine=author_id == viewer.id if author_id is not None else row["x_author_tag"] == tag,
            edited=row["x_edited_at"] is not None))
    prompt = {"id": card.prompt_id, "title": card.prompt_title} if card.prompt_title is not None else None
    return ReflectionPage(card, prompt, views, set(first["my_reactions"] or ()))


@dataclass
class MyReply:
    """One of the viewer's own replies, for their journal."""

    id: int
    reflection_id: int
    # The reflection's title or a short excerpt; None when the viewer may no longer read it (made private by
    # its author, or hidden by a moderator): then neither its words nor a link are shown.
    reflection_label: str | None
    label: str  # how others see the reply's writer: "Anonymous · Heron", "Anonymous · author", "your name"
    anonymous: bool
    excerpt: str
    state: str
    created_at: datetime
    edited: bool
    can_edit: bool


@lru_cache(maxsize=4096)
def _excerpt(body: str, length: int) -> str:
    """plain_text(body, length), once per distinct text per process: the journal lists up to 200 replies and
    parsed each one's Markdown on every view (a tenth of the journal's time in the day benchmark). Pure, so never
    stale; at most 4,096 entries (bodies are at most 5,000 characters; a few MB at worst)."""
    return plain_text(body, length)


# The viewer's replies for the journal, on a bare asyncpg connection (Database.raw): $1 the viewer's id, $2 their
# keyring's tags (accounts.scopes.raw_tags_of), $3 the limit; {before} pages on from a reply of the viewer's own
# (anyone else's gives an empty page).
_MY_REPLIES_SQL = """
SELECT x.id, x.reflection_id, x.author_id, x.anonymous, x.pseudonym, x.is_author, x.state, x.body, x.created_at,
       x.edited_at, r.title, r.body AS reflection_body, r.visibility, r.state AS reflection_state,
       r.author_id AS reflection_author_id, r.author_tag AS reflection_author_tag
FROM reflection_replies x JOIN reflections r ON r.id = x.reflection_id
WHERE (x.author_id = $1::bigint OR x.author_tag = ANY($2::text[])){before}
ORDER BY x.created_at DESC, x.id DESC LIMIT $3
"""
_MY_REPLIES_BEFORE = (" AND (x.created_at, x.id) < (SELECT b.created_at, b.id FROM reflection_replies b"
                      " WHERE b.id = $4::bigint AND (b.author_id = $1::bigint OR b.author_tag = ANY($2::text[])))")
MY_REPLIES_ON_JOURNAL = 20  # the newest replies on the journal page; the rest on /journal/replies
MY_REPLIES_PAGE = 50


async def list_my_replies(connection: Any, viewer: Viewer, anonymity: Anonymity, tags: list[str], *,
                          before: int | None = None, limit: int = MY_REPLIES_PAGE) -> tuple[list[MyReply], bool]:
    """One page of the viewer's replies on reflections, anonymous and named, newest first, and whether there are
    older ones: only ever the viewer's own (`tags`: their keyring, accounts.scopes.raw_tags_of). `before`: the
    last reply's id on the page before. `connection`: a raw asyncpg connection."""
    args: list[Any] = [viewer.id, tags, limit + 1]
    if before is not None:
        args.append(before)
    rows = await connection.fetch(_MY_REPLIES_SQL.format(before=_MY_REPLIES_BEFORE if before is not None else ""),
                                  *args)
    out = []
    for row in rows[:limit]:
        reflection_author_id = row["reflection_author_id"]
        own_reflection = (reflection_author_id == viewer.id if reflection_author_id is not None
                          else row["reflection_author_tag"] == reflection_tag(anonymity, viewer.id,
                                                                              row["reflection_id"]))
        visibility, reflection_state, state = row["visibility"], row["reflection_state"], row["state"]
        readable = own_reflection or (visibility != "private"
                                      and (reflection_state == "visible" or viewer.is_moderator))
        anonymous = row["anonymous"] or row["author_id"] is None
        out.append(MyReply(
            id=row["id"], reflection_id=row["reflection_id"],
            reflection_label=(row["title"] or _excerpt(row["reflection_body"], 80)) if readable else None,
            label=_label(anonymous, row["is_author"], row["pseudonym"], "under your name", visibility), anonymous=anonymous, excerpt=_excerpt(row["body"], 240), state=state,
            created_at=row["created_at"], edited=row["edited_at"] is not None,
            can_edit=(state != "removed" and visibility != "private" and reflection_state == "visible"
                      and readable)))
    return out, len(rows) > limit


async def toggle_reaction(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, reflection_id: int,
                          kind: str) -> bool:
    """Adds the reaction, or takes it back if it was there; returns whether it is now on."""
    kind = check_reaction(kind)
    reflection = await access_shared(session, viewer, anonymity, reflection_id)
    tag = reactor_tag(anonymity, viewer.id, reflection.id)
    removed = await session.execute(delete(ReflectionReaction).where(
        ReflectionReaction.reflection_id == reflection.id, ReflectionReaction.reactor_tag == tag,
        ReflectionReaction.kind == kind))
    if removed.rowcount:
        return False
    session.add(ReflectionReaction(reflection_id=reflection.id, reactor_tag=tag, kind=kind))
    await session.flush()
    return True


__all__ = ["PSEUDONYMS", "REACTION_LABELS", "access_own_reply", "create_reply", "delete_reply",
           "edit_reply", "list_my_replies", "pseudonym", "reflection_page", "toggle_reaction"]
