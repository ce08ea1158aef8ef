"""Creating and reading in-app notifications (to a member id, or to a sealed tag for anonymous content).

A notification about a piece of content carries its target (kind, id). Its text is frozen when it is written
(author names, titles), so the list, the link and the unread count show it only while the recipient may still
see that content: hidden or removed content never reaches others through a notification, and restoring the
content brings its notifications back. Rows without a target (moderation outcomes sent to a writer about
their own writing, warnings, older rows) are always shown.

Rows addressed to a tag never share a value with the member's own rows: their text is sealed (a sanction's reason
is not in plaintext beside the piece), and "mark all as read" does not touch them. It moves the member's
watermark (`users.anon_read_upto`, the newest notification id at that moment, a number every member's rows share)
instead; opening one tag row marks it read to the day, in a transaction that writes nothing about the member.
Tag rows take their ids from a sequence of their own and keep only the day they were written, so neither places
them among signed activity; the list is ordered by (created_at, id).

A member's tag rows are those addressed to any tag of their keyring (accounts.scopes): one tag per anonymous
scope, never one for all of their writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidTag
from sqlalchemy import String, and_, bindparam, func, insert, or_, select, tuple_, update
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts import scopes
from community.platform.accounts.models import User
from community.platform.anonymity import Anonymity
from community.platform.review.models import Notification
from community.platform.viewer import Viewer

TARGET_KINDS = ("post", "reflection", "reflection_reply", "room_message")
# Ids of tag-addressed notifications (migration 0018): not the sequence of member-addressed ones.
TAG_SEQUENCE = "notifications_anon_id_seq"


def target_visible_sql(n: str, uid: str, tags: str, staff: str) -> str:
    """SQL that is true when the recipient may see what notification `n` is about (or it is about nothing).

    Plain SQL over expressions, because the unread count is part of the one raw statement that loads the
    viewer (accounts.VIEWER_SQL): `uid` is the recipient's id, `tags` a text[] of their scope tags (accounts.scopes),
    `staff` a boolean expression for moderators. The rules mirror the pages the links open:
    discussions.reads.locate_post / discussions.policy.visible_to, reflections.access_reflection, reflection_replies.list_replies.
    An unknown kind, or content that no longer exists, is not visible.
    """
    mine_or_shared = (f"(r.author_id = {uid} OR r.author_tag = ANY({tags}) "
                      f"OR (r.visibility <> 'private' AND (r.state = 'visible' OR {staff})))")
    return f"""({n}.target_kind IS NULL
 OR ({n}.target_kind = 'post' AND EXISTS (
      SELECT 1 FROM posts p JOIN threads t ON t.id = p.thread_id WHERE p.id = {n}.target_id
        AND ({staff} OR t.state = 'visible' OR (t.author_id = {uid} AND t.state <> 'removed'))
        AND ({staff} OR p.deleted_by_author OR p.state = 'visible'
             OR (p.author_id = {uid} AND p.state <> 'removed'))))
 OR ({n}.target_kind = 'reflection' AND EXISTS (
      SELECT 1 FROM reflections r WHERE r.id = {n}.target_id AND {mine_or_shared}))
 OR ({n}.target_kind = 'reflection_reply' AND EXISTS (
      SELECT 1 FROM reflection_replies x JOIN reflections r ON r.id = x.reflection_id WHERE x.id = {n}.target_id
        AND (x.state = 'visible' OR {staff} OR x.author_id = {uid}) AND {mine_or_shared}))
 OR ({n}.target_kind = 'room_message' AND EXISTS (
      SELECT 1 FROM room_messages m WHERE m.id = {n}.target_id AND (m.deleted_at IS NULL OR {staff}))))"""


def visible_clause(viewer_id: int, is_moderator: bool, tags: list[str]):  # type: ignore[no-untyped-def]
    """target_visible_sql as a WHERE clause on the notifications table, for a known recipient and their tags."""
    return sql_text(target_visible_sql("notifications", ":nv_uid", ":nv_tags", "TRUE" if is_moderator else "FALSE")
                    ).bindparams(bindparam("nv_uid", viewer_id), bindparam("nv_tags", tags, type_=ARRAY(String)))


async def notify(session: AsyncSession, *, user_id: int | None = None, tag: str | None = None,
                 anonymity: Anonymity | None = None, kind: str, text: str, url: str | None = None,
                 target: tuple[str, int] | None = None, day_only: bool = False) -> None:
    """Exactly one of user_id (ordinary content) or tag (anonymous content's author) is given; a tag-addressed
    text is sealed, so `anonymity` comes with a tag.

    `target` is the content the notification is about, when its text names or quotes it: the notification is
    then shown only while the recipient may see that content. Addressed to a tag, a target must never tie the
    tag to anything more than the content already does (e.g. a reply on the tag's own reflection).
    `day_only`: a member's notice written in an anonymous action's transaction (a mentor told of an anonymous
    booking) keeps the day only, so its time cannot be matched with the anonymous member's activity.
    """
    assert (user_id is None) != (tag is None), "address a notification to a member id or to a sealed tag"
    assert tag is None or anonymity is not None, "a tag-addressed notification's text is sealed"
    assert target is None or target[0] in TARGET_KINDS, f"unknown notification target {target!r}"
    values = dict(user_id=user_id, recipient_tag=tag, kind=kind, text=text[:500], url=url,
                  target_kind=target[0] if target else None, target_id=target[1] if target else None)
    if day_only:
        values.update(created_at=Anonymity.day_of(datetime.now(UTC)))
    if tag is not None and anonymity is not None:
        # Sealed text, an id of its own sequence, the day only: nothing to match with the member's activity.
        values.update(text=anonymity.seal(text[:500]), id=func.nextval(TAG_SEQUENCE),
                      created_at=anonymity.day_of(datetime.now(UTC)))
    await session.execute(insert(Notification).values(**values))


@dataclass(frozen=True, slots=True)
class Shown:
    """A notification as its recipient sees it: the text unsealed, read either by its own mark or the watermark."""

    id: int
    kind: str
    text: str
    url: str | None
    created_at: datetime
    read_at: datetime | None
    tagged: bool = False  # addressed to a scope tag: its time is the day only, and is shown so


def _mine(viewer: Viewer, tags: list[str]):  # type: ignore[no-untyped-def]
    return or_(Notification.user_id == viewer.id, Notification.recipient_tag.in_(tags))


def _shown(viewer: Viewer, tags: list[str]):  # type: ignore[no-untyped-def]
    """The viewer's notifications that they may see now (`tags`: their keyring, accounts.scopes.tags_of)."""
    return and_(_mine(viewer, tags), visible_clause(viewer.id, viewer.is_moderator, tags))


async def _watermark(session: AsyncSession, viewer: Viewer) -> int:
    return await session.scalar(select(User.anon_read_upto).where(User.id == viewer.id)) or 0


def _as_shown(row: Notification, anonymity: Anonymity, upto: int) -> Shown:
    if row.recipient_tag is None:
        return Shown(row.id, row.kind, row.text, row.url, row.created_at, row.read_at)
    read_at = row.read_at or (row.created_at if row.id <= upto else None)
    return Shown(row.id, row.kind, unseal_text(anonymity, row.text), row.url, row.created_at, read_at, tagged=True)


def unseal_text(anonymity: Anonymity, stored: str) -> str:
    """A tag-addressed notification's text (sealed since the sealing change; older rows are plaintext)."""
    try:
        return anonymity.unseal(stored)
    except (ValueError, TypeError, InvalidTag):
        return stored


async def list_for(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, *, before: int | None = None,
                   limit: int = 50) -> list[Shown]:
    """Newest first by (created_at, id), paged from the notification `before` (tag rows' ids are of their own
    sequence, so ids alone do not say which is newer)."""
    query = select(Notification).where(_shown(viewer, await scopes.tags_of(session, anonymity, viewer.id)))
    if before:
        at = select(Notification.created_at).where(Notification.id == before).scalar_subquery()
        query = query.where(tuple_(Notification.created_at, Notification.id) < tuple_(at, before))
    rows = await session.scalars(query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit))
    upto = await _watermark(session, viewer)
    return [_as_shown(row, anonymity, upto) for row in rows]


async def access_notification(session: AsyncSession, viewer: Viewer, anonymity: Anonymity,
                              note_id: int) -> Shown | None:
    """One of the viewer's notifications, if it is still shown to them (None otherwise)."""
    tags = await scopes.tags_of(session, anonymity, viewer.id)
    row = (await session.scalars(select(Notification).where(Notification.id == note_id,
                                                            _shown(viewer, tags)))).first()
    return None if row is None else _as_shown(row, anonymity, await _watermark(session, viewer))


async def mark_read(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, ids: list[int] | None = None) -> None:
    """Mark the viewer's shown notifications read: those in `ids`, or all of them.

    Only what the list shows: a notification about hidden content comes back unread if it is restored. Rows
    addressed to the viewer's tag get a day-precision mark of their own when opened one by one (the caller's
    transaction writes nothing else about the member), and the member's watermark when all are marked.
    """
    now = datetime.now(UTC)
    mine = and_(_shown(viewer, await scopes.tags_of(session, anonymity, viewer.id)), Notification.read_at.is_(None))
    if ids is not None:
        await session.execute(update(Notification).where(mine, Notification.id.in_(ids), Notification.user_id.isnot(None))
                              .values(read_at=now))
        await session.execute(update(Notification).where(mine, Notification.id.in_(ids),
                                                         Notification.recipient_tag.isnot(None))
                              .values(read_at=anonymity.day_of(now)))
        return
    await session.execute(update(Notification).where(mine, Notification.user_id == viewer.id).values(read_at=now))
    newest = select(func.coalesce(func.max(Notification.id), 0)).scalar_subquery()
    await session.execute(update(User).where(User.id == viewer.id).values(anon_read_upto=newest))
