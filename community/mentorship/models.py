"""Mentorship tables: who shows which profile field on their card, mentors' directory entries, office hours,
bookings, and mentor conversations with their messages.

An anonymous booking carries no member id: `booker_tag` is the booker's tag in the scope of the booking's
private room (the same tag as their participant row there, kept in their keyring), `sealed_booker` the member id
sealed with ANON_KEY, `label` the pseudonym the anonymity service gave them in that room. Its id comes from a
sequence of its own and its `created_at` is the day only, so neither places it among signed activity. No two
booked rows share a mentor's start time: a partial unique index, not a check-then-insert.
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
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from community.platform.base import Base, created_at, pk
from community.platform.states import STATE_CHECK_SQL

ANON_BOOKING_SEQUENCE = "mentor_bookings_anon_id_seq"  # starts at 10^11, as other anonymous rows' sequences


class MemberCard(Base):
    """Who may see each profile field on a member's card; a field not listed has its default (CARD_DEFAULTS)."""

    __tablename__ = "member_cards"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    visibility: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    updated_at: Mapped[datetime] = created_at()


class MentorProfile(Base):
    __tablename__ = "mentor_profiles"
    __table_args__ = (Index("ix_mentor_profiles_specialties", "specialties", postgresql_using="gin"),)

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    listed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    final_year: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")  # residents only
    specialties: Mapped[list[str]] = mapped_column(ARRAY(String(80)), nullable=False, server_default="{}")
    interests: Mapped[list[str]] = mapped_column(ARRAY(String(80)), nullable=False, server_default="{}")
    help_with: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    takes_conversations: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    updated_at: Mapped[datetime] = created_at()


class OfficeHours(Base):
    """A weekly window in the mentor's time zone, cut into slots: weekday 0 is Monday."""

    __tablename__ = "office_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute", name="window"),
        CheckConstraint("slot_minutes BETWEEN 10 AND 120", name="slot"),
    )

    id: Mapped[int] = pk()
    mentor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                                           index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    start_minute: Mapped[int] = mapped_column(Integer, nullable=False)
    end_minute: Mapped[int] = mapped_column(Integer, nullable=False)
    slot_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    retention_hours: Mapped[int | None] = mapped_column(Integer)  # the rooms' transcripts; None: keep
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    created_at: Mapped[datetime] = created_at()


class Booking(Base):
    __tablename__ = "mentor_bookings"
    __table_args__ = (
        CheckConstraint("state IN ('booked','cancelled','no_show','done')", name="state"),
        CheckConstraint("(anonymous AND booker_id IS NULL) OR (NOT anonymous AND booker_tag IS NULL "
                        "AND sealed_booker IS NULL)", name="anonymous_has_no_member"),
        Index("uq_mentor_bookings_slot", "mentor_id", "starts_at", unique=True,
              postgresql_where=text("state = 'booked'")),
        Index("ix_mentor_bookings_booker_tag", "booker_tag"),
        Index("ix_mentor_bookings_booker_id", "booker_id"),
    )

    id: Mapped[int] = pk()
    office_hours_id: Mapped[int | None] = mapped_column(BigInteger,
                                                        ForeignKey("office_hours.id", ondelete="SET NULL"))
    mentor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False, server_default="booked")
    anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    booker_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    booker_tag: Mapped[str | None] = mapped_column(String(64))
    sealed_booker: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str] = mapped_column(String(60), nullable=False, server_default="")
    room_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("rooms.id", ondelete="SET NULL"))
    reminded: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    created_at: Mapped[datetime] = created_at()


class Conversation(Base):
    """A resident asked a mentor for a private written conversation; the mentor accepts or declines."""

    __tablename__ = "mentor_conversations"
    __table_args__ = (
        CheckConstraint("state IN ('requested','open','declined','closed')", name="state"),
        Index("uq_mentor_conversations_pair", "mentor_id", "member_id", unique=True,
              postgresql_where=text("state IN ('requested','open')")),
    )

    id: Mapped[int] = pk()
    mentor_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    member_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False, server_default="requested")
    created_at: Mapped[datetime] = created_at()
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConversationMessage(Base):
    __tablename__ = "mentor_messages"
    __table_args__ = (CheckConstraint(STATE_CHECK_SQL, name="state"),
                      Index("ix_mentor_messages_conversation_id", "conversation_id", "id"))

    id: Mapped[int] = pk()
    conversation_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("mentor_conversations.id", ondelete="CASCADE"), nullable=False)
    author_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    body_text: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False, server_default="visible")
    created_at: Mapped[datetime] = created_at()
