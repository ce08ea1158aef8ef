"""`community anonymity rekey`: moves rows written before scoped tags (migration 0018) to them, with ANON_KEY.

Before, a member's anonymous writing carried one tag per kind ("author" for reflections and the notifications
about them, "journal" for private pieces, "reply", "react"), so a copy of the database could group it. A
migration cannot compute the new tags (they are keyed), so this command does, once: each pillar moves its own
rows (Pillar.rekey), given every member's old tags; tag-addressed notifications that no pillar claimed get a
scope of their own each. Every new tag goes into the member's keyring (accounts.scopes). Rows already moved are
left as they are, so running it twice does nothing more. The old rows keep their ids (ids are referenced from
review items, audit entries and notifications); their times were cut to the day by the migration.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts import scopes
from community.platform.accounts.models import AnonRekeyPending, User
from community.platform.anonymity import Anonymity
from community.platform.pillar import OldTags, Rekey
from community.platform.review.models import Notification

OLD_SCOPES = ("author", "journal", "reply", "react")


async def old_tags(session: AsyncSession, anonymity: Anonymity) -> OldTags:
    """{old scope: {member-wide tag: member id}} for every member, deleted ones included."""
    ids = list(await session.scalars(select(User.id)))
    return {scope: {anonymity.tag(uid, scope): uid for uid in ids} for scope in OLD_SCOPES}


async def rekey(session: AsyncSession, anonymity: Anonymity, pillar_rekeys: Sequence[Rekey]) -> dict[str, int]:
    old = await old_tags(session, anonymity)
    counts: dict[str, int] = {}
    for pillar_rekey in pillar_rekeys:
        counts.update(await pillar_rekey(session, anonymity, old))
    counts["other notifications"] = await _notifications(session, anonymity, old)
    await session.execute(delete(AnonRekeyPending))
    return counts


async def _notifications(session: AsyncSession, anonymity: Anonymity, old: OldTags) -> int:
    """Tag-addressed notifications still under a member-wide tag: a scope of their own each."""
    rows = list(await session.scalars(select(Notification).where(
        Notification.recipient_tag.in_(list(old["author"])))))
    for row in rows:
        uid = old["author"][row.recipient_tag]
        row.recipient_tag = anonymity.tag(uid, f"notice:{row.id}")
        await scopes.enrol(session, anonymity, uid, row.recipient_tag)
    return len(rows)
