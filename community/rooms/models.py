"""Live peer-support rooms: rooms (standing or scheduled sessions), participants, messages, events, presence.

Every message and every moderation event in a room takes the room's next sequence number
(`rooms.last_seq`, incremented inside the inserting transaction), so a client that knows the last
seq it saw can be replayed exactly what it missed. A participant is keyed by a sealed per-room tag
(`anonymity.tag(member, "room:<id>")`); for anonymous participants `user_id` is
NULL and only `sealed_member` (readable with ANON_KEY alone) links back to the member.

A participant's row id never leaves the server: frames, presence lists, moderation frames and pages name a
participant by `local_id`, a random number unique within its room. Anonymous participants' row ids come from a
sequence of their own (ANON_SEQUENCE), so they don't interleave with signed joins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from community.platform.base import Base, created_at, pk


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (
        CheckConstraint("kind IN ('standing','scheduled')", name="kind"),
        CheckConstraint("state IN ('scheduled','open','ended')", name="state"),
        Index("ix_rooms_state_starts_at", "state", "starts_at"),
    )

    id: Mapped[int] = pk()
    slug: Mapped[str | None] = mapped_column(String(60), unique=True)  # natural key of seeded rooms
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    theme_prompt: Mapped[str | None] = mapped_column(Text)
    ground_rules: Mapped[str] = mapped_column(Text, nullable=False)
    ground_rules_html: Mapped[str | None] = mapped_column(Text)  # the Markdown rendered at write time
    capacity: Mapped[int] = mapped_column(Integer, nullable=False, server_default="30")
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    host_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    retention_hours: Mapped[int | None] = mapped_column(Integer)  # None: keep the history
    allow_anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    # A room for two made through platform.meetings (office hours): only its participants, made with it, enter.
    private: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    state: Mapped[str] = mapped_column(String(20), nullable=False, server_default="scheduled")
    locked: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    slow_mode_seconds: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()


ANON_SEQUENCE = "room_participants_anon_id_seq"
LOCAL_IDS = 2**31 - 1  # local ids are in [1, LOCAL_IDS]: a path id and a JavaScript number both hold one


class RoomParticipant(Base):
    __tablename__ = "room_participants"
    __table_args__ = (UniqueConstraint("room_id", "member_tag", name="uq_room_participants_member"),
                      UniqueConstraint("room_id", "local_id", name="uq_room_participants_local_id"))

    id: Mapped[int] = pk()
    local_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    room_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False)
    member_tag: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    label: Mapped[str] = mapped_column(String(60), nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False, server_default="member")  # member | host | staff
    sealed_member: Mapped[str | None] = mapped_column(Text)
    notify_tag: Mapped[str | None] = mapped_column(String(64))  # the room-scoped member_tag, anonymous ones only
    accepted_rules_at: Mapped[datetime] = created_at()
    muted_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    entered: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")  # private rooms only


class RoomMessage(Base):
    __tablename__ = "room_messages"
    __table_args__ = (
        UniqueConstraint("room_id", "seq", name="uq_room_messages_seq"),
        # A resend of the same client id is the same message (NULLs are distinct: no id, no deduplication).
        UniqueConstraint("room_id", "participant_id", "client_id", name="uq_room_messages_client"),
        Index("ix_room_messages_created_at", "created_at"),
    )

    id: Mapped[int] = pk()
    room_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    participant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("room_participants.id", ondelete="CASCADE"), nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at()
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RoomEvent(Base):
    """Moderation and state events (delete, mute, remove, slow, lock, open, end), sequenced with messages."""

    __tablename__ = "room_events"
    __table_args__ = (UniqueConstraint("room_id", "seq", name="uq_room_events_seq"),)

    id: Mapped[int] = pk()
    room_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = created_at()


class RoomPresence(Base):
    """One row per open socket, as a lease: it counts only while `expires_at` is ahead. The process holding the
    socket renews the leases of its live sockets only, so a crashed process's rows (and a leave that could not be
    written) expire; any process deletes expired rows and tells their rooms."""

    __tablename__ = "room_presence"
    __table_args__ = (Index("ix_room_presence_room_id", "room_id"),
                      Index("ix_room_presence_expires_at", "expires_at"))

    id: Mapped[int] = pk()
    room_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("rooms.id", ondelete="CASCADE"), nullable=False)
    participant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("room_participants.id", ondelete="CASCADE"), nullable=False)
    process: Mapped[str] = mapped_column(String(64), nullable=False)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"),
                                              nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=text("now() + interval '20 seconds'"))
