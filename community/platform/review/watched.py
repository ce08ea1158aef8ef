"""Watched words: an admin-managed list of words and phrases that block, hold for approval, or flag writing.

Every writing surface others read asks it before publishing (thread posts, shared reflections, reflection
replies, room messages): `watch_before`/`watch_after` in a session, `check_watched_raw` on a bare asyncpg
connection. Matching is case-insensitive, on whole words, after Unicode compatibility folding (so full-width letters and ligatures do not slip through). A phrase
may end in `*` to match any word that starts with it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import delete, select
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts.actions import require_staff
from community.platform.errors import Forbidden, Invalid, NotFound
from community.platform.review import audit
from community.platform.review import items as review
from community.platform.review.models import WATCH_ACTIONS, WatchedWord
from community.platform.viewer import Viewer

ACTION_LABELS = {
    "block": "Block, with a message to the writer",
    "approve": "Hold for a moderator's approval",
    "flag": "Publish, and flag for review",
}
# A moderator's scope: words that hold or flag writing for review, and only the words they added themselves.
# Blocking (writing refused outright, with a message) and every other word stay with admins.
MODERATOR_ACTIONS = ("approve", "flag")
MODERATOR_REFUSAL = ("Moderators can add words that hold or flag writing for review, and remove the words they "
                     "added. Blocking words, and words others added, are for an admin.")
DEFAULT_BLOCK_MESSAGE = "This contains wording our community does not allow. Please rephrase it."


@dataclass
class WatchedResult:
    blocked: bool = False
    message: str | None = None            # shown to the writer when blocked
    require_approval: bool = False
    flag: bool = False
    matches: list[tuple[str, str]] = field(default_factory=list)  # (phrase, action)

    @property
    def matched(self) -> bool:
        return bool(self.matches)

    def holds(self, viewer: Viewer, *, anonymous: bool = False) -> bool:
        """Whether writing by `viewer` waits for a moderator. Moderators' own signed writing never does; their
        anonymous writing does, like anyone's, or a hold that skipped a piece would say its writer is staff."""
        return self.require_approval and (anonymous or not viewer.is_moderator)


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _pattern(phrase: str) -> re.Pattern[str]:
    prefix = phrase.endswith("*")
    words = fold(phrase.rstrip("*")).split()
    body = r"\s+".join(re.escape(w) for w in words)
    return re.compile(r"(?<!\w)" + body + (r"\w*" if prefix else r"(?!\w)"))


class Entry(NamedTuple):
    phrase: str
    action: str
    message: str | None


WATCHED_SQL = "SELECT phrase, action, message FROM watched_words ORDER BY phrase"


def match(entries: Sequence[WatchedWord | Entry], text: str) -> WatchedResult:
    folded = fold(text)
    result = WatchedResult()
    for entry in entries:
        if not _pattern(entry.phrase).search(folded):
            continue
        result.matches.append((entry.phrase, entry.action))
        if entry.action == "block":
            if not result.blocked:
                result.message = entry.message or DEFAULT_BLOCK_MESSAGE
            result.blocked = True
        elif entry.action == "approve":
            result.require_approval = True
        else:
            result.flag = True
    return result


async def list_words(session: AsyncSession) -> list[WatchedWord]:
    return list(await session.scalars(select(WatchedWord).order_by(WatchedWord.phrase)))


_WATCHED = sql_text(WATCHED_SQL)


async def check_watched(session: AsyncSession, text: str) -> WatchedResult:
    """What the watched-word list says about `text`; one query (plain rows: every shared write runs it)."""
    rows = (await session.execute(_WATCHED)).all()
    return match([Entry(phrase, action, message) for phrase, action, message in rows], text)


# The list as one JSON value, for a statement that reads it with something else (review.approval).
WATCHED_JSON_SQL = ("(SELECT coalesce(json_agg(json_build_array(phrase, action, message) ORDER BY phrase), '[]') "
                    "FROM watched_words)")


def entries_of_json(value: str | list[Any]) -> list[Entry]:
    return [Entry(*entry) for entry in (json.loads(value) if isinstance(value, str) else value)]


async def watch_before(session: AsyncSession, text: str, *, field: str = "body",
                       entries: Sequence[Entry] | None = None) -> WatchedResult:
    """Before shared writing is stored: a block refuses it with the entry's message on `field` (the writer's
    draft is kept by the caller, as for any Invalid); anything else is returned for `watch_after`. `entries`:
    the list, when the caller has just read it (WATCHED_JSON_SQL)."""
    result = await check_watched(session, text) if entries is None else match(entries, text)
    if result.blocked:
        raise Invalid(result.message or DEFAULT_BLOCK_MESSAGE, fields={field: result.message or DEFAULT_BLOCK_MESSAGE})
    return result


async def watch_after(session: AsyncSession, result: WatchedResult, *, target_kind: str, target_id: int,
                      held: bool) -> None:
    """Once the row exists: a review item for what the list asked (`held`: the writing was kept from others
    until a moderator approves it; a flag: published, and put in the queue)."""
    if held:
        await review.open_item(session, target_kind=target_kind, target_id=target_id, reason="approval",
                               source="watched")
    if result.flag:
        await review.open_item(session, target_kind=target_kind, target_id=target_id, reason="watched",
                               source="watched")


async def check_watched_raw(connection: Any, text: str) -> WatchedResult:
    """check_watched on a raw asyncpg connection (Database.raw, or the room hub's pool); one query."""
    rows = await connection.fetch(WATCHED_SQL)
    return match([Entry(r["phrase"], r["action"], r["message"]) for r in rows], text)


def check_phrase(value: str) -> str:
    value = " ".join(value.split())
    if not value or value == "*":
        raise Invalid(fields={"phrase": "Please enter a word or phrase."})
    if len(value) > 100:
        raise Invalid(fields={"phrase": "Use at most 100 characters."})
    if "*" in value[:-1]:
        raise Invalid(fields={"phrase": "A * is only allowed at the end, to match the start of a word."})
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise Invalid(fields={"phrase": "The phrase contains characters that cannot be shown."})
    return fold(value)


def may_remove(actor: Viewer, word: WatchedWord) -> bool:
    return actor.is_admin or (actor.is_moderator and word.created_by == actor.id and word.action in MODERATOR_ACTIONS)


def actions_for(actor: Viewer) -> dict[str, str]:
    return ACTION_LABELS if actor.is_admin else {k: v for k, v in ACTION_LABELS.items() if k in MODERATOR_ACTIONS}


async def add_word(session: AsyncSession, actor: Viewer, *, phrase: str, action: str, message: str) -> WatchedWord:
    """Admins add any word; moderators words that hold or flag (MODERATOR_ACTIONS)."""
    require_staff(actor)
    if not actor.is_admin and action == "block":
        raise Invalid(MODERATOR_REFUSAL, fields={"action": "Blocking words are for an admin: choose hold or flag."})
    errors: dict[str, str] = {}
    try:
        phrase = check_phrase(phrase)
    except Invalid as exc:
        errors.update(exc.fields)
    if action not in WATCH_ACTIONS or action not in actions_for(actor):
        errors["action"] = "Choose what should happen: block, hold for approval, or flag."
    message = " ".join(message.split())
    if len(message) > 300:
        errors["message"] = "Use at most 300 characters."
    if errors:
        raise Invalid(fields=errors)
    word_id = await session.scalar(insert(WatchedWord).values(
        phrase=phrase, action=action, message=message or None, created_by=actor.id,
    ).on_conflict_do_nothing(index_elements=["phrase"]).returning(WatchedWord.id))
    if word_id is None:
        raise Invalid(fields={"phrase": "This word or phrase is already on the list."})
    await audit.record(session, actor, "watched_word.add", target_type="watched_word", target_id=word_id,
                       target_label=phrase, details={"action": action})
    word = await session.get(WatchedWord, word_id)
    assert word is not None
    return word


async def remove_word(session: AsyncSession, actor: Viewer, word_id: int) -> None:
    """Admins remove any word; a moderator only a hold or flag word they added themselves."""
    require_staff(actor)
    word = await session.get(WatchedWord, word_id, with_for_update=True)
    if word is None:
        raise NotFound("That word is no longer on the list.")
    if not may_remove(actor, word):
        raise Forbidden(MODERATOR_REFUSAL)
    phrase = word.phrase
    await session.execute(delete(WatchedWord).where(WatchedWord.id == word_id))
    await audit.record(session, actor, "watched_word.remove", target_type="watched_word", target_id=word_id,
                       target_label=phrase)
