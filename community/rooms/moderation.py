"""Moderation inside a room (host or moderator): delete, mute, remove, slow mode, lock, end; and the
review-queue adapter for kind "room_message".

Every action is a sequenced room event (so every process's clients see it live, and a reconnecting client
gets it in its replay) and an audit entry. Participants are named by their per-room label and id only: the
audit log never learns who is behind a pseudonym.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.anonymity import Anonymity
from community.platform.errors import Forbidden, Invalid, NotFound
from community.platform.notify.notifications import notify
from community.platform.review import audit
from community.platform.review.targets import TargetView
from community.platform.viewer import Viewer
from community.rooms import actions as rooms_actions
from community.rooms.models import Room, RoomMessage, RoomParticipant

ACTIONS = ("delete", "mute", "remove", "slow", "lock", "end")


async def _room_for(session: AsyncSession, viewer: Viewer, room_id: int) -> Room:
    room = await rooms_actions.access_room(session, viewer, room_id, lock=True)
    if not rooms_actions.can_moderate(viewer, room):
        raise Forbidden("Only the host or a moderator can do this.")
    return room


async def _participant(session: AsyncSession, room: Room, pid: int) -> RoomParticipant:
    """`pid`: the room-local id its frames and pages use (models.RoomParticipant.local_id)."""
    participant = (await session.scalars(select(RoomParticipant).where(
        RoomParticipant.room_id == room.id, RoomParticipant.local_id == pid))).first()
    if participant is None:
        raise NotFound("No such participant in this room.")
    return participant


def _label(room: Room, participant: RoomParticipant | None = None) -> str:
    return f"{participant.label} in “{room.title}”" if participant else f"“{room.title}”"


async def delete_message(session: AsyncSession, viewer: Viewer, room_id: int, seq: int,
                         reason: str | None = None) -> int:
    room = await _room_for(session, viewer, room_id)
    message = (await session.scalars(select(RoomMessage).where(RoomMessage.room_id == room.id,
                                                               RoomMessage.seq == seq))).first()
    if message is None:
        raise NotFound("No such message.")
    if message.deleted_at is None:
        message.deleted_at = rooms_actions.now()
    event = await rooms_actions.add_event(session, room.id, "delete", {"target": seq})
    await audit.record(session, viewer, "room.message.delete", target_type="room_message", target_id=message.id,
                       target_label=_label(room), reason=reason, details={"room": room.id, "seq": seq})
    return event


async def mute(session: AsyncSession, viewer: Viewer, room_id: int, pid: int, minutes: int,
               reason: str | None = None) -> int:
    if not 1 <= minutes <= 24 * 60:
        raise Invalid(fields={"minutes": "Mute for 1 minute to 24 hours."})
    room = await _room_for(session, viewer, room_id)
    participant = await _participant(session, room, pid)
    participant.muted_until = rooms_actions.now() + timedelta(minutes=minutes)
    event = await rooms_actions.add_event(session, room.id, "mute", {"pid": pid, "minutes": minutes,
                                                                     "until": participant.muted_until.isoformat()})
    await audit.record(session, viewer, "room.mute", target_type="room_participant", target_id=participant.id,
                       target_label=_label(room, participant), reason=reason, details={"minutes": minutes})
    return event


async def remove(session: AsyncSession, viewer: Viewer, room_id: int, pid: int, reason: str | None = None) -> int:
    room = await _room_for(session, viewer, room_id)
    participant = await _participant(session, room, pid)
    if participant.role == "host":
        raise Forbidden("The host cannot be removed from their own session.")
    participant.removed_at = rooms_actions.now()
    event = await rooms_actions.add_event(session, room.id, "remove", {"pid": pid})
    await audit.record(session, viewer, "room.remove", target_type="room_participant", target_id=participant.id,
                       target_label=_label(room, participant), reason=reason)
    return event


async def set_slow_mode(session: AsyncSession, viewer: Viewer, room_id: int, seconds: int) -> int:
    if not 0 <= seconds <= 600:
        raise Invalid(fields={"seconds": "Choose 0 (off) to 600 seconds."})
    room = await _room_for(session, viewer, room_id)
    room.slow_mode_seconds = seconds
    event = await rooms_actions.add_event(session, room.id, "slow", {"seconds": seconds})
    await audit.record(session, viewer, "room.slow_mode", target_type="room", target_id=room.id,
                       target_label=room.title, details={"seconds": seconds})
    return event


async def set_lock(session: AsyncSession, viewer: Viewer, room_id: int, locked: bool) -> int:
    room = await _room_for(session, viewer, room_id)
    room.locked = locked
    event = await rooms_actions.add_event(session, room.id, "lock", {"locked": locked})
    await audit.record(session, viewer, "room.lock" if locked else "room.unlock", target_type="room",
                       target_id=room.id, target_label=room.title)
    return event


async def end_session(session: AsyncSession, viewer: Viewer, room_id: int) -> int:
    room = await _room_for(session, viewer, room_id)
    if room.kind != "scheduled":
        raise Invalid("Standing rooms stay open; lock the room instead.")
    if room.state == "ended":
        raise Invalid("This session has already ended.")
    event = await rooms_actions.end_room(session, room)
    await audit.record(session, viewer, "room.end", target_type="room", target_id=room.id, target_label=room.title)
    return event


async def do_action(session: AsyncSession, viewer: Viewer, room_id: int, frame: dict[str, Any]) -> int:
    """A `moderate` frame from the live socket -> one of the actions above."""
    action = frame.get("action")

    def number(name: str, default: int | None = None) -> int:
        value = frame.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
            raise Invalid(f"\"{name}\" must be a whole number.")
        return value

    if action == "delete":
        return await delete_message(session, viewer, room_id, number("seq"))
    if action == "mute":
        return await mute(session, viewer, room_id, number("pid"), number("minutes", 10))
    if action == "remove":
        return await remove(session, viewer, room_id, number("pid"))
    if action == "slow":
        return await set_slow_mode(session, viewer, room_id, number("seconds"))
    if action == "lock":
        locked = frame.get("locked", True)
        if not isinstance(locked, bool):  # bool("no") is True: only JSON true or false decides
            raise Invalid("\"locked\" must be true or false.")
        return await set_lock(session, viewer, room_id, locked)
    if action == "end":
        return await end_session(session, viewer, room_id)
    raise Invalid(f"Unknown moderation action. Use one of: {', '.join(ACTIONS)}.")


# ---- the review queue ---------------------------------------------------------------------------------------

class RoomMessageAdapter:
    kind = "room_message"

    def __init__(self, anonymity: Anonymity) -> None:
        self.anonymity = anonymity

    async def review_context(self, session: AsyncSession, viewer: Viewer, target_id: int) -> dict[str, Any]:
        return {}

    async def load(self, session: AsyncSession, ids: list[int]) -> dict[int, TargetView]:
        rows = (await session.execute(
            select(RoomMessage, RoomParticipant, Room.title)
            .join(RoomParticipant, RoomParticipant.id == RoomMessage.participant_id)
            .join(Room, Room.id == RoomMessage.room_id).where(RoomMessage.id.in_(ids)))).all()
        return {m.id: TargetView(
            kind=self.kind, id=m.id, title=f"Message in the room “{title}”", body_html=m.body_html,
            url=f"/rooms/{m.room_id}#m{m.seq}", back_url=f"/rooms/{m.room_id}", author_label=p.label, author_id=None if p.anonymous else p.user_id,
            state="removed" if m.deleted_at else "visible", created_at=m.created_at, anonymous=p.anonymous,
            extra={"room_id": m.room_id, "seq": m.seq, "pid": p.local_id}) for m, p, title in rows}

    async def readable(self, session: AsyncSession, viewer: Viewer, view: TargetView) -> bool:
        """Only the room's participants read its messages, and not once they were removed."""
        room_id = view.extra["room_id"]
        assert isinstance(room_id, int)
        participant = await rooms_actions.find_participant(session, self.anonymity, viewer, room_id)
        return participant is not None and participant.removed_at is None

    async def set_state(self, session: AsyncSession, target_id: int, state: str, reason: str | None) -> None:
        message = await session.get(RoomMessage, target_id)
        if message is None:
            return
        if state in ("hidden", "removed") and message.deleted_at is None:
            message.deleted_at = rooms_actions.now()
            await rooms_actions.add_event(session, message.room_id, "delete", {"target": message.seq})
        elif state == "visible" and message.deleted_at is not None:
            message.deleted_at = None
            await session.flush()
            frames = await rooms_actions.events_after(session, message.room_id, message.seq - 1, limit=1)
            await rooms_actions.add_event(session, message.room_id, "restore",
                                          {"target": message.seq, "message": frames[0] if frames else None})

    async def author_user_id(self, session: AsyncSession, target_id: int) -> int | None:
        row = (await session.execute(select(RoomParticipant.user_id, RoomParticipant.sealed_member)
                                     .join(RoomMessage, RoomMessage.participant_id == RoomParticipant.id)
                                     .where(RoomMessage.id == target_id))).first()
        if row is None:
            return None
        user_id, sealed = row
        if user_id is None:
            return self.anonymity.unseal_id(sealed)
        return user_id

    async def notify_author(self, session: AsyncSession, target_id: int, kind: str, text: str,
                            url: str | None) -> None:
        row = (await session.execute(select(RoomParticipant.user_id, RoomParticipant.notify_tag)
                                     .join(RoomMessage, RoomMessage.participant_id == RoomParticipant.id)
                                     .where(RoomMessage.id == target_id))).first()
        if row is None:
            return
        user_id, tag = row
        if user_id is None and tag is None:
            return
        if user_id is not None:
            await notify(session, user_id=user_id, kind=kind, text=text, url=url)
        else:
            await notify(session, tag=tag, anonymity=self.anonymity, kind=kind, text=text, url=url)

