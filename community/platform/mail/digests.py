"""Notification email: what the in-app notifications become in members' inboxes, by their choices.

Run once a minute by the sending process (mail.sender's periodic job). For each member it reads the unread
notifications they may still see (notify.notifications.target_visible_sql), newer than how far it has read:

- "immediately": a notification at least DELAY old that is still unread is mailed (one message per kind), so
  what was already seen in the app is skipped;
- daily / weekly: once a day / week, one digest of what is still unread, grouped by thread and by reflection.

Privacy: mail carries titles and links, never the body of posts or reflections. Notifications about anonymous
writing (addressed to the writer's sealed tag, which this job derives in memory from each member's id) are only
ever in digests, never mailed on their own (an immediate message right after a reply would time-stamp the link
between a member and their anonymous piece), and say "your reflection" or "your anonymous writing" with a link
to the notifications page: no title, no address of the piece, nothing others could match. A digest's subject
carries no count (the outbox row keeps its subject after sending), so the outbox says only that a digest went.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts import scopes
from community.platform.accounts.models import User
from community.platform.anonymity import Anonymity
from community.platform.db import Database
from community.platform.mail import preferences
from community.platform.mail.models import MailDigestState
from community.platform.mail.outbox import Mail, Outbox
from community.platform.notify.notifications import group_text, target_visible_sql
from community.settings import Settings

log = logging.getLogger(__name__)

DELAY = timedelta(minutes=5)
DAY, WEEK = timedelta(days=1), timedelta(days=7)

INIT_SQL = text("""
INSERT INTO mail_digest_state (user_id, immediate_through, daily_through, weekly_through, tag_through, daily_at,
                               weekly_at)
SELECT u.id, m.top, m.top, m.top, m.tag_top, :now, :now
  FROM users u CROSS JOIN (SELECT coalesce(max(last_id) FILTER (WHERE user_id IS NOT NULL), 0) AS top,
                                  coalesce(max(last_id) FILTER (WHERE recipient_tag IS NOT NULL), 0) AS tag_top
                             FROM notifications) m
 WHERE u.deleted_at IS NULL
ON CONFLICT (user_id) DO NOTHING""")

# Unread notifications each member may see, newer than their cursors, with what they are about (the thread, or
# the reflection a reply is on) for grouping. Signed rows are compared with the member's cursors; tag rows (a
# sequence of their own) with `tag_through`, the newest tag row at the member's last digest: a number every member
# digested at that moment shares. pairs: (member id, one of their keyring slots), only for members whose digest is
# due (tag rows are only ever in digests).
NOTES_SQL = text("""
WITH pairs(uid, slot) AS (SELECT * FROM unnest(CAST(:pair_uids AS bigint[]), CAST(:pair_slots AS text[]))),
     rcpt AS (SELECT m.uid, coalesce(array_agg(a.tag) FILTER (WHERE a.tag IS NOT NULL), '{}'::text[]) AS tags
                FROM unnest(CAST(:uids AS bigint[])) AS m(uid)
                LEFT JOIN pairs p ON p.uid = m.uid LEFT JOIN anon_scopes a ON a.slot = p.slot
               GROUP BY m.uid)
SELECT rcpt.uid, n.last_id AS id, n.kind, n.text, n.url, n.recipient_tag IS NOT NULL AS anonymous,
       t.id AS thread_id, t.title AS thread_title, x.reflection_id, rf.title AS reflection_title,
       CASE WHEN n.recipient_tag IS NULL THEN n.count
            WHEN cardinality(n.event_ids) = 0 THEN 1
            ELSE (SELECT count(*) FROM unnest(n.event_ids) e WHERE e > greatest(s.tag_through, u.anon_read_upto))
       END AS count,
       cardinality(n.actor_ids) AS actors,
       ARRAY(SELECT a.display_name FROM unnest(n.actor_ids[1:3]) WITH ORDINALITY AS g(id, ord)
               JOIN users a ON a.id = g.id AND a.deleted_at IS NULL ORDER BY g.ord) AS names,
       -- An excerpt only for a member who opted in, of a visible signed post in a visible thread that no
       -- patient-identifier check ever held (never anonymous or private writing: those are not posts).
       CASE WHEN u.mail_excerpts AND n.recipient_tag IS NULL AND p.state = 'visible' AND t.state = 'visible'
                 AND NOT EXISTS (SELECT 1 FROM review_items ri WHERE ri.target_kind = 'post'
                                   AND ri.target_id = p.id AND ri.source = 'phi')
            THEN left(p.body_text, :excerpt_chars) END AS excerpt
  FROM rcpt
  JOIN users u ON u.id = rcpt.uid
  JOIN mail_digest_state s ON s.user_id = rcpt.uid
  JOIN notifications n ON (n.user_id = rcpt.uid OR n.recipient_tag = ANY(rcpt.tags))
  LEFT JOIN posts p ON n.target_kind = 'post' AND p.id = n.target_id
  LEFT JOIN threads t ON t.id = p.thread_id
  LEFT JOIN reflection_replies x ON n.target_kind = 'reflection_reply' AND x.id = n.target_id
  LEFT JOIN reflections rf ON rf.id = x.reflection_id AND rf.visibility = 'named'
 WHERE n.read_at IS NULL AND n.created_at <= :cutoff
   AND ((n.user_id IS NOT NULL AND n.last_id > least(s.immediate_through, s.daily_through, s.weekly_through))
        OR (n.recipient_tag IS NOT NULL AND n.last_id > greatest(s.tag_through, u.anon_read_upto)))
   AND """ + target_visible_sql("n", "u.id", "rcpt.tags", "u.role IN ('moderator', 'admin')") + """
 ORDER BY n.last_id""")
TOPS_SQL = text("""SELECT coalesce(max(last_id) FILTER (WHERE user_id IS NOT NULL AND created_at <= :cutoff), 0),
                          coalesce(max(last_id) FILTER (WHERE recipient_tag IS NOT NULL), 0) FROM notifications""")


# Characters of a signed post quoted in mail for members who opted in to excerpts.
EXCERPT_CHARS = 240


@dataclass
class Note:
    id: int  # the newest event's number (notifications.last_id): what the cursors compare with
    kind: str
    text: str
    url: str
    anonymous: bool
    group: tuple[str, Any]
    many: str  # how a group of several reads, with {n} for the count
    count: int = 1  # events in the notification's group
    excerpt: str | None = None


@dataclass
class Member:
    id: int
    email: str
    name: str
    state: MailDigestState
    choices: dict[str, str]
    notes: list[Note] = field(default_factory=list)


def _note(row: Any) -> Note:
    """Anonymous writing's notifications lose their text and link here (see the module docstring)."""
    count = max(1, row.count or 1)
    if row.anonymous:
        if row.kind == "reflection_reply":
            text = "A new reply to your reflection" if count == 1 else f"{count} new replies to your reflection"
            return Note(row.id, row.kind, text, "/notifications", True, ("anonymous", row.kind),
                        "{n} new replies to your anonymous writing", count)
        text = "An update about your anonymous writing" if count == 1 else \
            f"{count} updates about your anonymous writing"
        return Note(row.id, row.kind, text, "/notifications", True, ("anonymous", row.kind),
                    "{n} updates about your anonymous writing", count)
    url = row.url or "/notifications"
    subject = row.thread_title or row.reflection_title
    text = group_text(row.kind, count, row.text, subject, list(row.names or []), row.actors or 0, False)
    if row.thread_id is not None:
        return Note(row.id, row.kind, text, url, False, ("thread", row.thread_id),
                    "{n} new in “" + row.thread_title.replace("{", "{{").replace("}", "}}") + "”", count,
                    row.excerpt or None)
    if row.reflection_id is not None and row.reflection_title:
        return Note(row.id, row.kind, text, url, False, ("reflection", row.reflection_id),
                    "{n} new replies to “" + row.reflection_title.replace("{", "{{").replace("}", "}}") + "”",
                    count)
    return Note(row.id, row.kind, text, url, False, ("note", row.id), text.replace("{", "{{").replace("}", "}}"),
                count)


def group_line(notes: list[Note]) -> dict[str, Any]:
    """A digest line: the one notification's text (a grouped one says how many), or "12 new in ...", opening at
    the first unread; with the first excerpt, if the member opted in to excerpts."""
    first = notes[0]
    total = sum(note.count for note in notes)
    text = first.text if len(notes) == 1 else first.many.format(n=total)
    return {"text": text, "url": first.url, "excerpt": next((n.excerpt for n in notes if n.excerpt), None)}


async def _members(session: AsyncSession, anonymity: Anonymity, now: datetime) -> dict[int, Member]:
    await session.execute(INIT_SQL, {"now": now})
    rows = (await session.execute(
        select(User.id, User.email, User.display_name, MailDigestState)
        .join(MailDigestState, MailDigestState.user_id == User.id)
        .where(User.deleted_at.is_(None), User.suspended_at.is_(None)))).all()
    choices = await preferences.for_members(session, [r[0] for r in rows])
    members = {uid: Member(uid, email, name, state, choices[uid]) for uid, email, name, state in rows}
    if members:
        due = [m.id for m in members.values() if m.state.daily_at <= now - DAY or m.state.weekly_at <= now - WEEK]
        slots = {uid: scopes.viewer_slots(anonymity, uid, 0) for uid in due}
        result = await session.execute(NOTES_SQL, {
            "uids": list(members), "pair_uids": [uid for uid in due for _ in slots[uid]],
            "pair_slots": [slot for uid in due for slot in slots[uid]], "cutoff": now - DELAY,
            "excerpt_chars": EXCERPT_CHARS})
        for row in result:
            members[row.uid].notes.append(_note(row))
    return members


def _mail_kind(note: Note) -> str | None:
    return preferences.NOTIFICATION_KINDS.get(note.kind)


def immediate_mails(member: Member, outbox_link: Any) -> list[Mail]:
    """One message per kind of what is due now; never anything about anonymous writing."""
    by_kind: dict[str, list[Note]] = defaultdict(list)
    for note in member.notes:
        kind = _mail_kind(note)
        if (note.id > member.state.immediate_through and not note.anonymous and kind
                and member.choices.get(kind) == "immediately"):
            by_kind[kind].append(note)
    return [Mail(member.email, "notify_immediate",
                 {"name": member.name, "kind_label": preferences.KINDS[kind], "items": notes,
                  "preferences_url": outbox_link("/account/email")},
                 unsubscribe_url=outbox_link(member.id, kind)) for kind, notes in by_kind.items()]


def digest_mail(member: Member, frequency: str, through: int, outbox_link: Any) -> Mail | None:
    """(`through` bounds signed rows; tag rows were already bounded by tag_through in NOTES_SQL.)"""
    """One digest of what is unread, grouped by thread and reflection; anonymous writing's chosen "immediately"
    is delivered here (daily) instead."""
    wanted = {frequency} | ({"immediately"} if frequency == "daily" else set())
    groups: dict[tuple[str, Any], list[Note]] = {}
    kinds: set[str] = set()
    for note in member.notes:
        kind = _mail_kind(note)
        choice = member.choices.get(kind or "", "off")
        if (not note.anonymous and note.id <= through) or not kind or choice not in wanted \
                or (choice == "immediately" and not note.anonymous):
            continue
        groups.setdefault(note.group, []).append(note)
        kinds.add(kind)
    if not groups:
        return None
    return Mail(member.email, "notify_digest", {
        "name": member.name, "frequency": frequency, "lines": [group_line(g) for g in groups.values()],
        "count": sum(note.count for g in groups.values() for note in g), "preferences_url": outbox_link("/account/email"),
        "kind_links": [(preferences.KINDS[k], outbox_link(member.id, k)) for k in sorted(kinds)]},
        unsubscribe_url=outbox_link(member.id, frequency))


class Links:
    """Absolute links for mail: pages, and a member's signed unsubscribe links."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def __call__(self, target: int | str, what: str | None = None) -> str:
        if isinstance(target, str):
            return self.settings.base_url + target
        token = preferences.unsubscribe_token(self.settings.secret_key, target, what or "")
        return f"{self.settings.base_url}/unsubscribe/{token}"


async def run(session: AsyncSession, outbox: Outbox, anonymity: Anonymity, settings: Settings,
              now: datetime) -> dict[str, int]:
    """One pass for every member, in the caller's transaction: mails are queued, cursors moved, together."""
    links = Links(settings)
    top, tag_top = (await session.execute(TOPS_SQL, {"cutoff": now - DELAY})).one()
    mails: list[Mail] = []
    cursors: list[dict[str, Any]] = []
    counts = {"immediate": 0, "daily": 0, "weekly": 0}
    for member in (await _members(session, anonymity, now)).values():
        state = member.state
        values: dict[str, Any] = {"user_id": member.id, "immediate_through": max(top, state.immediate_through),
                                  "daily_through": state.daily_through, "daily_at": state.daily_at,
                                  "weekly_through": state.weekly_through, "weekly_at": state.weekly_at,
                                  "tag_through": state.tag_through}
        found = immediate_mails(member, links)
        counts["immediate"] += len(found)
        mails += found
        for frequency, period in (("daily", DAY), ("weekly", WEEK)):
            if values[f"{frequency}_at"] <= now - period:
                digest = digest_mail(member, frequency, values[f"{frequency}_through"], links)
                if digest is not None:
                    mails.append(digest)
                    counts[frequency] += 1
                values |= {f"{frequency}_through": max(top, values[f"{frequency}_through"]), f"{frequency}_at": now,
                           "tag_through": max(tag_top, values["tag_through"])}
        cursors.append(values)
    if cursors:  # one statement for every member's cursors
        await session.execute(update(MailDigestState), cursors)
    await outbox.enqueue_many(session, mails)
    return counts


PillarMailJob = Callable[[AsyncSession, Outbox, Settings], Awaitable[dict[str, int]]]


def job(db: Database, outbox: Outbox, anonymity: Anonymity, settings: Settings,
        more: Sequence[PillarMailJob] = ()) -> Callable[[], Awaitable[None]]:
    """The sender's periodic job: notification mail, then the pillars' mail jobs (Pillar.mail_jobs: room
    reminders), each in its own transaction so one failing does not hold back the others."""
    async def run_job() -> None:
        async with db.transaction() as session:
            counts = await run(session, outbox, anonymity, settings, datetime.now(UTC))
        for pillar_job in more:
            try:
                async with db.transaction() as session:
                    counts |= await pillar_job(session, outbox, settings)
            except Exception:  # noqa: BLE001  (logged; the next minute tries again)
                log.exception("a pillar's mail job failed")
        if any(counts.values()):
            log.info("mail queued: %s", counts)
    return run_job
