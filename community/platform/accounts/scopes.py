"""The keyring of a member's anonymous scopes (models.AnonScope): how the app finds "my anonymous pieces" without
any value that all of them share.

Each scope (a reflection and its writer's replies in it, a member's replies in another's reflection, a room
session) has its own tag, and the keyring holds it under one of the member's slots: keyed hashes of the member and
0, 1, 2, ... (Anonymity.scope_slots). `tags_of` computes slots a batch at a time and looks them up until a batch is
not full; `enrol` puts a new scope's tag in the first free slot. Slots are never freed while the member's account
exists (a gap would end the search early), so a deleted piece leaves a slot whose tag nothing carries any more.

`VIEWER_TAGS` does the same lookup inside the one statement that loads the viewer (accounts.actions.VIEWER_SQL),
over the slots the web layer computed for the member, with a batch to spare for scopes added since.

Each process keeps a member's computed slots (Anonymity.scope_slots: they never change), not their tags: a scope
added through another process would be missing from a cached list, and one indexed lookup per page that lists
"my writing" (journal, notifications, own data) costs less than keeping processes in step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts.models import AnonRekeyPending, AnonScope
from community.platform.anonymity import SCOPE_BATCH, Anonymity

# A LATERAL part of VIEWER_SQL: `{slots}` is the text[] of the member's slots (NULL when not yet known).
# A keyring is 128 slots: `slot = ANY(array)` compares every row with every slot (a sequential scan of a small
# anon_scopes costs 128 string comparisons a row, more than the rest of the viewer's statement); `IN (SELECT
# unnest(...))` is a hashed or indexed semi-join. The same goes for every lookup by a keyring's slots.
VIEWER_TAGS = """CROSS JOIN LATERAL (SELECT coalesce(array_agg(a.tag), '{{}}'::text[]) AS tags FROM anon_scopes a
                  WHERE a.slot IN (SELECT unnest({slots}))) k"""

REKEY_NEEDED = ("This database holds anonymous writing under member-wide tags, from before scoped tags "
                "(migration 0018). Run `community anonymity rekey` once, with the same ANON_KEY, then start again.")


async def _used(session: AsyncSession, anonymity: Anonymity, user_id: int) -> tuple[int, list[str]]:
    """(how many of the member's slots are taken, their tags in slot order)."""
    async def lookup(slots: list[str]) -> dict[str, str]:
        return dict((await session.execute(select(AnonScope.slot, AnonScope.tag)
                                           .where(AnonScope.slot.in_(slots)))).all())
    return await _walk(anonymity, user_id, lookup)


async def _walk(anonymity: Anonymity, user_id: int,
                lookup: Callable[[list[str]], Awaitable[dict[str, str]]]) -> tuple[int, list[str]]:
    """The keyring walk: the member's slots a batch at a time, looked up until a batch is not full."""
    tags: list[str] = []
    count = 0
    while True:
        slots = anonymity.scope_slots(user_id, count + SCOPE_BATCH)[count:]
        found = await lookup(slots)
        tags += [found[slot] for slot in slots if slot in found]
        count += SCOPE_BATCH
        if len(found) < SCOPE_BATCH:
            return len(tags), tags


async def tags_of(session: AsyncSession, anonymity: Anonymity, user_id: int) -> list[str]:
    """Every tag of the member's anonymous scopes: one statement per 64 scopes."""
    return (await _used(session, anonymity, user_id))[1]


_LOOKUP_SQL = "SELECT slot, tag FROM anon_scopes WHERE slot IN (SELECT unnest($1::text[]))"  # see VIEWER_TAGS


async def raw_tags_of(connection: Any, anonymity: Anonymity, user_id: int) -> list[str]:
    """tags_of() on a bare asyncpg connection (Database.raw): the same walk, one prepared statement a batch."""
    async def lookup(slots: list[str]) -> dict[str, str]:
        return {row[0]: row[1] for row in await connection.fetch(_LOOKUP_SQL, slots)}
    return (await _walk(anonymity, user_id, lookup))[1]


def viewer_slots(anonymity: Anonymity, user_id: int, known_scopes: int) -> list[str]:
    """The slots VIEWER_SQL looks up for a member with `known_scopes` scopes: a whole batch to spare, so scopes
    the member adds later (on any process) are counted without computing anything again."""
    return anonymity.scope_slots(user_id, (known_scopes // SCOPE_BATCH + 2) * SCOPE_BATCH)


def needs_more_slots(slots: list[str], tags_found: int) -> bool:
    """True when the member's scopes reach into the spare batch: it is time to compute a further one."""
    return tags_found > len(slots) - SCOPE_BATCH


async def enrol(session: AsyncSession, anonymity: Anonymity, user_id: int, tag: str) -> None:
    """Keeps `tag` in the member's keyring (nothing to do when it is there already): the first free slot, or the
    next one when another transaction took it meanwhile."""
    if await session.scalar(select(AnonScope.slot).where(AnonScope.tag == tag)) is not None:
        return
    n = (await _used(session, anonymity, user_id))[0]
    while True:
        slot = anonymity.scope_slots(user_id, n + 1)[n]
        stored = await session.scalar(insert(AnonScope).values(slot=slot, tag=tag).on_conflict_do_nothing()
                                      .returning(AnonScope.slot))
        if stored is not None:
            return
        if await session.scalar(select(AnonScope.slot).where(AnonScope.tag == tag)) is not None:
            return  # the same scope, enrolled by a concurrent request of the member's
        n += 1


async def forget_member(session: AsyncSession, anonymity: Anonymity, user_id: int) -> None:
    """Account deletion: the member's keyring goes (their anonymous writing, if left, keeps no tag of theirs)."""
    count = (await _used(session, anonymity, user_id))[0]
    slots = anonymity.scope_slots(user_id, count + 1)
    await session.execute(delete(AnonScope).where(AnonScope.slot.in_(slots)))


async def rekey_pending(session: AsyncSession) -> bool:
    return await session.scalar(select(AnonRekeyPending.id).limit(1)) is not None
