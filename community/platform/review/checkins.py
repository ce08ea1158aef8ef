"""Check-ins as private two-way conversations between the moderator who opened one and the writer.

A check-in, a warning and a silence each open one (the decision's message is its first message), so the writer
can answer, and the silenced screen can truthfully point to it. Nobody else reads it: not other moderators, not
admins. An anonymous writer is addressed only by a tag scoped to the piece (`scope`), recognised by
recomputing it from the signed-in member (Anonymity.tag), and takes part under the piece's pseudonym; their
messages carry the day only, so the moderator learns no minute to match against activity. Their notifications
go through the piece's adapter (to the piece's sealed tag), as every notification about anonymous writing does.
The writer can close the conversation; the moderator can too. A closed conversation takes no more messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.anonymity import Anonymity
from community.platform.errors import Invalid, NotFound
from community.platform.notify import notifications
from community.platform.review.models import Checkin, CheckinMessage
from community.platform.review.targets import Review, TargetView
from community.platform.viewer import Viewer

CONVERSATION_ACTIONS = ("check_in", "warn", "silence")
BODY_MAX = 4000
REASON_WORDS = {"check_in": "a check-in", "warn": "a private message from the moderators",
                "silence": "a pause on your posting"}


def scope(kind: str, target_id: int) -> str:
    """The tag scope for an anonymous writer in conversations about one piece: unlinkable to any other."""
    return f"checkin:{kind}:{target_id}"


def url_of(checkin_id: int) -> str:
    return f"/checkins/{checkin_id}"


async def open_conversation(session: AsyncSession, review: Review, view: TargetView, author_id: int,
                            moderator: Viewer, action: str, message: str) -> Checkin:
    """Starts the conversation with the decision's message. `author_id` is the writer (the caller found them
    reachable); for anonymous writing it is only turned into the scoped tag, never stored."""
    anonymous = view.anonymous
    checkin = Checkin(target_kind=view.kind, target_id=view.id, reason=action, title=view.title[:200],
                      writer_label=(view.author_label or "The writer")[:80], moderator_id=moderator.id,
                      writer_id=None if anonymous else author_id,
                      writer_tag=review.anonymity.tag(author_id, scope(view.kind, view.id)) if anonymous else None)
    session.add(checkin)
    await session.flush()
    session.add(CheckinMessage(checkin_id=checkin.id, from_writer=False, body=message))
    return checkin


async def mine_about(session: AsyncSession, viewer: Viewer, kind: str, target_id: int) -> list[Checkin]:
    """The conversations this moderator opened about one piece (for its review page)."""
    return list(await session.scalars(select(Checkin).where(
        Checkin.moderator_id == viewer.id, Checkin.target_kind == kind, Checkin.target_id == target_id)
        .order_by(Checkin.id)))


async def as_writer(session: AsyncSession, viewer: Viewer, anonymity: Anonymity) -> list[Checkin]:
    """Every conversation in which the viewer is the writer: named ones by id, anonymous ones by recomputing
    each one's scoped tag (there is no member-wide key to look them up by, on purpose; the table is small)."""
    rows = await session.scalars(select(Checkin).where((Checkin.writer_id == viewer.id)
                                                       | Checkin.writer_tag.is_not(None)).order_by(Checkin.id))
    return [row for row in rows if role_of(row, viewer, anonymity) == "writer"]


async def export_mine(session: AsyncSession, viewer: Viewer, anonymity: Anonymity) -> list[dict[str, Any]]:
    """For a member's data download: their conversations as a writer, with every message."""
    mine = await as_writer(session, viewer, anonymity)
    if not mine:
        return []
    messages = list(await session.scalars(select(CheckinMessage).where(
        CheckinMessage.checkin_id.in_([c.id for c in mine])).order_by(CheckinMessage.id)))
    return [{"about": c.title, "kind": REASON_WORDS.get(c.reason, c.reason), "opened": c.opened_at,
             "closed": c.closed_at, "you_appeared_as": c.writer_label,
             "messages": [{"from": "you" if m.from_writer else "moderator", "at": m.created_at, "text": m.body}
                          for m in messages if m.checkin_id == c.id]} for c in mine]


async def delete_mine(session: AsyncSession, viewer: Viewer, anonymity: Anonymity) -> None:
    """When a member deletes their account, their conversations as a writer go with it."""
    mine = [c.id for c in await as_writer(session, viewer, anonymity)]
    if mine:
        await session.execute(delete(Checkin).where(Checkin.id.in_(mine)))


@dataclass
class Conversation:
    checkin: Checkin
    role: str  # "moderator" | "writer": who is looking
    messages: list[CheckinMessage]

    @property
    def open(self) -> bool:
        return self.checkin.closed_at is None

    @property
    def anonymous(self) -> bool:
        return self.checkin.writer_tag is not None


def role_of(checkin: Checkin, viewer: Viewer, anonymity: Anonymity) -> str | None:
    if checkin.moderator_id == viewer.id:
        return "moderator"
    if checkin.writer_id is not None:
        return "writer" if checkin.writer_id == viewer.id else None
    mine = anonymity.tag(viewer.id, scope(checkin.target_kind, checkin.target_id))
    return "writer" if mine == checkin.writer_tag else None


async def access(session: AsyncSession, viewer: Viewer, anonymity: Anonymity, checkin_id: int, *,
                 lock: bool = False) -> Conversation:
    """The conversation, for its moderator or its writer; for anyone else it does not exist (404)."""
    checkin = await session.get(Checkin, checkin_id, with_for_update=lock)
    role = role_of(checkin, viewer, anonymity) if checkin is not None else None
    if checkin is None or role is None:
        raise NotFound("This conversation does not exist.")
    messages = list(await session.scalars(select(CheckinMessage).where(CheckinMessage.checkin_id == checkin.id)
                                          .order_by(CheckinMessage.id)))
    return Conversation(checkin, role, messages)


def check_message(body: str) -> str:
    body = body.replace("\r\n", "\n").replace("\x00", "").strip()
    if not body:
        raise Invalid(fields={"body": "Please write your message."})
    if len(body) > BODY_MAX:
        raise Invalid(fields={"body": f"Use at most {BODY_MAX:,} characters (this has {len(body):,}). "
                                      "Your text is kept below."})
    return body


async def _tell_writer(session: AsyncSession, review: Review, checkin: Checkin, text: str) -> None:
    if checkin.writer_id is not None:
        await notifications.notify(session, user_id=checkin.writer_id, kind="check_in", text=text,
                                   url=url_of(checkin.id))
        return
    adapter: Any = review.targets.get(checkin.target_kind)
    if adapter is not None:  # to the piece's sealed tag, like every notification about anonymous writing
        await adapter.notify_author(session, checkin.target_id, "check_in", text, url_of(checkin.id))


async def _tell_moderator(session: AsyncSession, checkin: Checkin, text: str) -> None:
    if checkin.moderator_id is not None:
        await notifications.notify(session, user_id=checkin.moderator_id, kind="conversation", text=text,
                                   url=url_of(checkin.id))


async def reply(session: AsyncSession, viewer: Viewer, review: Review, checkin_id: int, body: str) -> Conversation:
    """A message from either side; the other side is notified."""
    text = check_message(body)
    conversation = await access(session, viewer, review.anonymity, checkin_id, lock=True)
    checkin = conversation.checkin
    if not conversation.open:
        raise Invalid("This conversation is closed, so it takes no more messages.", fields={"body": "Closed."})
    from_writer = conversation.role == "writer"
    at = Anonymity.day_of(datetime.now(UTC)) if from_writer and conversation.anonymous else None
    message = CheckinMessage(checkin_id=checkin.id, from_writer=from_writer, body=text,
                             **({"created_at": at} if at else {}))
    session.add(message)
    await session.flush()
    conversation.messages.append(message)
    if from_writer:
        await _tell_moderator(session, checkin, f"{checkin.writer_label} replied in your conversation about "
                                                f"{checkin.title}.")
    else:
        await _tell_writer(session, review, checkin, f"The moderator replied in your private conversation about "
                                                     f"{checkin.title}.")
    return conversation


async def close(session: AsyncSession, viewer: Viewer, review: Review, checkin_id: int) -> Conversation:
    """Either side may close it; the other is told."""
    conversation = await access(session, viewer, review.anonymity, checkin_id, lock=True)
    checkin = conversation.checkin
    if not conversation.open:
        return conversation
    closed = datetime.now(UTC)
    # A writer's action in an anonymous conversation carries its day only, like their messages.
    checkin.closed_at = Anonymity.day_of(closed) if conversation.role == "writer" and conversation.anonymous \
        else closed
    checkin.closed_by = conversation.role
    if conversation.role == "writer":
        await _tell_moderator(session, checkin, f"{checkin.writer_label} closed the conversation about "
                                                f"{checkin.title}.")
    else:
        await _tell_writer(session, review, checkin, f"The moderator closed the conversation about {checkin.title}.")
    return conversation
