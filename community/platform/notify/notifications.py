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

Grouping (issue 16): a notification given a `group_key` folds into its recipient's unread row of that key, in place
(an upsert on a partial unique index, never a scan): "Ana, Ben and 55 others replied in ...", opening at the first
unread. Member rows and tag rows are grouped by separate indexes, so no group mixes the two; a tag's group keeps
the day, names nobody, and numbers its events from the tag sequence (`event_ids`, read against the watermark).
`last_id` is a row's newest event number, what the unread watermark and notification mail compare with. A group's
line names its signed actors as they are called now (the first event's own text is kept for a group of one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import String, and_, bindparam, func, insert, literal_column, or_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts import scopes
from community.platform.accounts.models import User
from community.platform.anonymity import Anonymity
from community.platform.review.models import Notification
from community.platform.viewer import Viewer

TARGET_KINDS = ("post", "reflection", "reflection_reply", "room_message")
# Ids of tag-addressed notifications (migration 0018): not the sequence of member-addressed ones.
TAG_SEQUENCE = "notifications_anon_id_seq"
MEMBER_SEQUENCE = "notifications_id_seq"


def target_visible_sql(n: str, uid: str, tags: str, staff: str) -> str:
    """SQL that is true when the recipient may see what notification `n` is about (or it is about nothing).

    Plain SQL over expressions, because the unread count is part of the one raw statement that loads the
    viewer (accounts.VIEWER_SQL): `uid` is the recipient's id, `tags` a text[] of their scope tags (accounts.scopes),
    `staff` a boolean expression for moderators. The rules mirror the pages the links open:
    discussions.reads.locate_post / discussions.policy.visible_to, reflections.actions.check_access,
    reflections.replies.reflection_page.
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
                 target: tuple[str, int] | None = None, group: str | None = None, subject: str | None = None,
                 actor_id: int | None = None, day_only: bool = False) -> None:
    """Exactly one of user_id (ordinary content) or tag (anonymous content's author) is given; a tag-addressed
    text is sealed, so `anonymity` comes with a tag.

    `target` is the content the notification is about, when its text names or quotes it: the notification is
    then shown only while the recipient may see that content. Addressed to a tag, a target must never tie the
    tag to anything more than the content already does (e.g. a reply on the tag's own reflection).

    `group` (see group_key) folds the notification into the recipient's unread row of the same key, if there is
    one (notify_grouped); `subject` is what a group's line names, `actor_id` a signed actor (never someone
    writing anonymously).
    `day_only`: a member's notice written in an anonymous action's transaction (a mentor told of an anonymous
    booking) keeps the day only, so its time cannot be matched with the anonymous member's activity.
    """
    assert (user_id is None) != (tag is None), "address a notification to a member id or to a sealed tag"
    assert tag is None or anonymity is not None, "a tag-addressed notification's text is sealed"
    assert target is None or target[0] in TARGET_KINDS, f"unknown notification target {target!r}"
    values: dict[str, Any] = dict(user_id=user_id, recipient_tag=tag, kind=kind, text=text[:500], url=url,
                                  target_kind=target[0] if target else None,
                                  target_id=target[1] if target else None)
    if day_only:
        values.update(created_at=Anonymity.day_of(datetime.now(UTC)))
    if tag is not None and anonymity is not None:
        # Sealed text, an id of its own sequence, the day only: nothing to match with the member's activity.
        new_id = await session.scalar(select(func.nextval(TAG_SEQUENCE)))
        values.update(text=anonymity.seal(text[:500]), id=new_id, last_id=new_id,
                      created_at=anonymity.day_of(datetime.now(UTC)))
        if group is not None:
            values.update(group_key=group, event_ids=[new_id])
            await session.execute(_upsert_tag_group(values))
            return
        await session.execute(insert(Notification).values(**values))
        return
    if group is not None:
        await notify_grouped(session, [values | {"group_key": group, "subject": subject,
                                                 "actor_ids": [actor_id] if actor_id else []}])
        return
    await session.execute(insert(Notification).values(**values))


def group_key(kind: str, about: str, about_id: int) -> str:
    """The key a recipient's unread notifications are grouped by: the kind and what it is about
    ("reply:thread:12", "reflection_reply:reflection:7")."""
    return f"{kind}:{about}:{about_id}"


# Signed actors, newest first, each once, at most ACTORS_KEPT of them ("and 55 others" counts them).
ACTORS_KEPT = 500
EVENTS_KEPT = 200
_ACTORS_SQL = (f"(CASE WHEN cardinality(excluded.actor_ids) = 0 THEN notifications.actor_ids ELSE "
               f"(excluded.actor_ids || array_remove(notifications.actor_ids, excluded.actor_ids[1]))[1:{ACTORS_KEPT}] "
               f"END)")


async def notify_grouped(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Member-addressed notifications with a `group_key`, in one statement: each row is inserted, or, when its
    recipient has an unread row of the same key, folded into it in place (an upsert on the partial unique index
    uq_notifications_group_member, never a scan): the count grows, the time and `last_id` become the newest
    event's (so mail sees the group again), the signed actor moves to the front; the text, link and target stay
    the first event's, so opening the group jumps to the first unread. One row per recipient per call."""
    if not rows:
        return
    keys = {"user_id", "recipient_tag", "kind", "text", "url", "target_kind", "target_id", "group_key", "subject",
            "actor_ids"}
    rows = [{k: row.get(k) for k in keys} | {"actor_ids": row.get("actor_ids") or [],
                                             "subject": (row.get("subject") or None) and row["subject"][:200]}
            for row in rows]
    assert all(row["user_id"] is not None and row["recipient_tag"] is None and row["group_key"] for row in rows)
    await session.execute(_GROUPED_UPSERT, rows)  # executemany: one cached statement, sent in batches


def _grouped_upsert():  # type: ignore[no-untyped-def]
    statement = pg_insert(Notification)
    return statement.on_conflict_do_update(
        index_elements=[Notification.user_id, Notification.group_key],
        index_where=sql_text("read_at IS NULL AND group_key IS NOT NULL AND user_id IS NOT NULL"),
        set_={"count": Notification.count + 1, "created_at": func.now(),
              "last_id": func.nextval(MEMBER_SEQUENCE), "actor_ids": literal_column(_ACTORS_SQL),
              "subject": func.coalesce(statement.excluded.subject, Notification.subject)})


# Built once (every reply and reflection reply runs it): constructing the upsert costs more than executing it.
_GROUPED_UPSERT = _grouped_upsert()


def _upsert_tag_group(values: dict[str, Any]):  # type: ignore[no-untyped-def]
    """A tag's unread group takes the new event in place: its number (from the tag sequence) becomes the row's
    `last_id` and joins `event_ids`, its time stays the day (uq_notifications_group_tag). The row's id stays."""
    statement = pg_insert(Notification).values(**values)
    return statement.on_conflict_do_update(
        index_elements=[Notification.recipient_tag, Notification.group_key],
        index_where=sql_text("read_at IS NULL AND group_key IS NOT NULL AND recipient_tag IS NOT NULL"),
        set_={"count": Notification.count + 1, "created_at": statement.excluded.created_at,
              "last_id": statement.excluded.last_id,
              "event_ids": literal_column(f"(notifications.event_ids || excluded.last_id)"
                                          f"[greatest(cardinality(notifications.event_ids) - {EVENTS_KEPT - 2}, 1):]")})


def people(names: list[str], total: int) -> str:
    """ "Ana", "Ana and Ben", "Ana, Ben and Cy", "Ana, Ben and 55 others" (`total`: distinct actors; `names`: the
    newest of them still members)."""
    if not names:
        return "Someone"
    shown = names[:2] if total > 3 else names[:3]
    listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]
    others = total - len(shown)
    if others <= 0:
        return listed
    return f"{', '.join(shown)} and {others} other{'s' if others != 1 else ''}"


def group_text(kind: str, count: int, text: str, subject: str | None, names: list[str], actors: int,
               tagged: bool) -> str:
    """What a notification row says: its own text for one event, a summary for a group. A tag's group names
    nobody and no title (it is about the reader's own anonymous writing)."""
    if count <= 1:
        return text
    if tagged:
        if kind == "reflection_reply":
            return f"{count} new replies to your anonymous reflection."
        return f"{count} updates about your anonymous writing."
    about = f"“{subject}”" if subject else "a conversation you follow"
    if kind == "reflection_reply":
        return f"{count} new replies to {about}."
    who = people(names, actors)
    more = f" ({count} new)" if count > max(actors, 1) else ""
    if kind == "mention":
        return f"{who} mentioned you in {about}{more}."
    return f"{who} replied in {about}{more}."


@dataclass(frozen=True, slots=True)
class Shown:
    """A notification as its recipient sees it: the text unsealed (or a group's summary), read either by its own
    mark or the watermark."""

    id: int
    kind: str
    text: str
    url: str | None
    created_at: datetime
    read_at: datetime | None
    tagged: bool = False  # addressed to a scope tag: its time is the day only, and is shown so
    count: int = 1  # events in the group (for a tag's group: those after the reader's watermark)


def _mine(viewer: Viewer, tags: list[str]):  # type: ignore[no-untyped-def]
    return or_(Notification.user_id == viewer.id, Notification.recipient_tag.in_(tags))


def _shown(viewer: Viewer, tags: list[str]):  # type: ignore[no-untyped-def]
    """The viewer's notifications that they may see now (`tags`: their keyring, accounts.scopes.tags_of)."""
    return and_(_mine(viewer, tags), visible_clause(viewer.id, viewer.is_moderator, tags))


async def _watermark(session: AsyncSession, viewer: Viewer) -> int:
    return await session.scalar(select(User.anon_read_upto).where(User.id == viewer.id)) or 0


async def _names(session: AsyncSession, rows: list[Notification]) -> dict[int, str]:
    """Display names of the signed actors of the groups shown, in one query (groups name people as they are
    called now)."""
    wanted = {actor for row in rows if row.count > 1 for actor in row.actor_ids[:3]}
    if not wanted:
        return {}
    return dict((await session.execute(select(User.id, User.display_name).where(
        User.id.in_(wanted), User.deleted_at.is_(None)))).all())


def _as_shown(row: Any, anonymity: Anonymity, upto: int, names: list[str]) -> Shown:
    """`row`: the notification's columns by name (an asyncpg Record of LIST_SQL, or _columns of an ORM row);
    `names`: its group's first signed actors as they are called now."""
    if row["recipient_tag"] is None:
        text = group_text(row["kind"], row["count"], row["text"], row["subject"], names, len(row["actor_ids"]),
                          False)
        return Shown(row["id"], row["kind"], text, row["url"], row["created_at"], row["read_at"], count=row["count"])
    read_at = row["read_at"] or (row["created_at"] if row["last_id"] <= upto else None)
    count = row["count"]
    if read_at is None and row["event_ids"]:  # what came after "mark all as read"
        count = max(1, sum(1 for event in row["event_ids"] if event > upto))
    text = unseal_text(anonymity, row["text"])
    return Shown(row["id"], row["kind"], group_text(row["kind"], count, text, None, [], 0, True), row["url"],
                 row["created_at"], read_at, tagged=True, count=count)


_COLUMNS = ("id", "kind", "text", "url", "created_at", "read_at", "recipient_tag", "count", "last_id", "event_ids",
            "actor_ids", "subject")


def _columns(row: Notification) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _COLUMNS}


def unseal_text(anonymity: Anonymity, stored: str) -> str:
    """A tag-addressed notification's text (sealed since the sealing change; older rows are plaintext)."""
    try:
        return anonymity.unseal(stored)
    except (ValueError, TypeError, InvalidTag):
        return stored


# The notifications page in one statement on a raw asyncpg connection (Database.raw): the member's keyring tags
# (accounts.scopes.VIEWER_TAGS, over the slots given), their watermark, and a page of the notifications they may
# see now, newest first by (created_at, id), from the notification `before` ($4, 0 for the first page); each
# group's first three signed actors' names as they are called now. Always one row at least (NULL notification
# columns when there is none), so that the number of tags found is known. $1 member id, $2 keyring slots,
# $3 page size.
_LIST_SQL = """
WITH k AS (SELECT coalesce(array_agg(a.tag), '{{}}'::text[]) AS tags FROM anon_scopes a
           WHERE a.slot IN (SELECT unnest($2::text[])))  -- not = ANY: see accounts.scopes.VIEWER_TAGS
SELECT cardinality(k.tags) AS tags_found,
       (SELECT coalesce(u.anon_read_upto, 0) FROM users u WHERE u.id = $1::bigint) AS upto, n.*,
       CASE WHEN n.count > 1 THEN ARRAY(
         SELECT u.display_name FROM unnest(n.actor_ids[1:3]) WITH ORDINALITY a(id, o)
         JOIN users u ON u.id = a.id AND u.deleted_at IS NULL ORDER BY a.o) END AS names
FROM k LEFT JOIN LATERAL (
  SELECT {columns} FROM notifications n
  WHERE (n.user_id = $1::bigint OR n.recipient_tag = ANY(k.tags)) AND {visible}
    AND ($4::bigint = 0 OR (n.created_at, n.id) < ((SELECT b.created_at FROM notifications b WHERE b.id = $4), $4))
  ORDER BY n.created_at DESC, n.id DESC LIMIT $3::int
) n ON true
ORDER BY n.created_at DESC, n.id DESC
"""
LIST_SQL = {staff: _LIST_SQL.format(columns=", ".join(f"n.{c}" for c in _COLUMNS),
                                    visible=target_visible_sql("n", "$1::bigint", "k.tags", str(staff).upper()))
            for staff in (False, True)}


async def list_for(connection: Any, viewer: Viewer, anonymity: Anonymity, *, before: int | None = None,
                   limit: int = 50) -> list[Shown]:
    """Newest first by (created_at, id), paged from the notification `before` (tag rows' ids are of their own
    sequence, so ids alone do not say which is newer). `connection`: a raw asyncpg connection; one statement,
    unless the member's scopes reach past the keyring slots looked up (then once more, over enough of them)."""
    known = 0
    while True:
        slots = scopes.viewer_slots(anonymity, viewer.id, known)
        rows = await connection.fetch(LIST_SQL[viewer.is_moderator], viewer.id, slots, limit, before or 0)
        known = rows[0]["tags_found"]
        if not scopes.needs_more_slots(slots, known):
            break
    upto = rows[0]["upto"] or 0
    return [_as_shown(row, anonymity, upto, row["names"] or []) for row in rows if row["id"] is not None]


async def access_notification(session: AsyncSession, viewer: Viewer, anonymity: Anonymity,
                              note_id: int) -> Shown | None:
    """One of the viewer's notifications, if it is still shown to them (None otherwise)."""
    tags = await scopes.tags_of(session, anonymity, viewer.id)
    row = (await session.scalars(select(Notification).where(Notification.id == note_id,
                                                            _shown(viewer, tags)))).first()
    if row is None:
        return None
    names = await _names(session, [row])
    return _as_shown(_columns(row), anonymity, await _watermark(session, viewer),
                     [names[a] for a in row.actor_ids[:3] if a in names])


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
    newest = select(func.coalesce(func.max(Notification.last_id), 0)).scalar_subquery()
    await session.execute(update(User).where(User.id == viewer.id).values(anon_read_upto=newest))
