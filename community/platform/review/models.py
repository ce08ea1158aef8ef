"""The audit log, flags, review items, sanctions, notifications and watched words shared by every pillar.

Flags and review items point at their target by (target_kind, target_id) so that thread posts,
reflections, replies and room messages all land in one review queue.
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
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from community.platform.base import Base, created_at, pk

WATCH_ACTIONS = ("block", "approve", "flag")  # what a watched word does to writing that contains it


class AuditEntry(Base):
    """Append-only (a trigger refuses UPDATE and DELETE): who did what to what, and why."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_action", "action"))

    id: Mapped[int] = pk()
    at: Mapped[datetime] = created_at()
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_label: Mapped[str] = mapped_column(String(80), nullable=False)
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    target_label: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))


class Flag(Base):
    __tablename__ = "flags"
    __table_args__ = (
        UniqueConstraint("target_kind", "target_id", "flagger_id", name="uq_flags_once"),
        Index("ix_flags_target", "target_kind", "target_id"),
    )

    id: Mapped[int] = pk()
    target_kind: Mapped[str] = mapped_column(String(30), nullable=False)
    target_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    flagger_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    reason: Mapped[str] = mapped_column(String(30), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    weight: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    created_at: Mapped[datetime] = created_at()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(30))


class ReviewItem(Base):
    """One open item per target at a time; priority 0 is the most urgent."""

    __tablename__ = "review_items"
    __table_args__ = (
        Index("uq_review_items_open_target", "target_kind", "target_id", unique=True,
              postgresql_where=text("resolved_at IS NULL")),
        Index("ix_review_items_queue", "priority", "created_at", postgresql_where=text("resolved_at IS NULL")),
    )

    id: Mapped[int] = pk()
    target_kind: Mapped[str] = mapped_column(String(30), nullable=False)
    target_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False)
    reasons: Mapped[list[str]] = mapped_column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    source: Mapped[str] = mapped_column(String(20), nullable=False)  # flag | crisis | phi | approval | watched
    urgent: Mapped[bool] = mapped_column(nullable=False, server_default="false")
    created_at: Mapped[datetime] = created_at()
    claimed_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    decision: Mapped[str | None] = mapped_column(String(30))
    decision_reason: Mapped[str | None] = mapped_column(Text)


class Sanction(Base):
    __tablename__ = "sanctions"

    id: Mapped[int] = pk()
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # warn | silence | suspend
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """Addressed to a member id, or, for anything about anonymous content, to the author's sealed tag only
    (see sealing.author_tag) so that the table cannot link a member to an anonymous piece.

    (target_kind, target_id) name the content a notification is about, when its frozen text names it: it is
    shown only while the recipient may see that content (actions.notifications.target_visible_sql)."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("(target_kind IS NULL) = (target_id IS NULL)", name="target_pair"),
        Index("ix_notifications_user_unread", "user_id", "created_at", postgresql_where=text("read_at IS NULL")),
        Index("ix_notifications_user_at", "user_id", "created_at"),
        Index("ix_notifications_tag_at", "recipient_tag", "created_at"),
        # Recipients of unread notifications about a piece of content (migration 0009's triggers).
        Index("ix_notifications_unread_target", "target_kind", "target_id",
              postgresql_where=text("read_at IS NULL AND target_kind IS NOT NULL")),
        Index("uq_notifications_group_member", "user_id", "group_key", unique=True,
              postgresql_where=text("read_at IS NULL AND group_key IS NOT NULL AND user_id IS NOT NULL")),
        Index("uq_notifications_group_tag", "recipient_tag", "group_key", unique=True,
              postgresql_where=text("read_at IS NULL AND group_key IS NOT NULL AND recipient_tag IS NOT NULL")),
    )

    id: Mapped[int] = pk()
    user_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    recipient_tag: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(30), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    url: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = created_at()
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    target_kind: Mapped[str | None] = mapped_column(String(30))  # post | reflection | reflection_reply | ...
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    # Grouping (notify.notifications.notify_grouped): while unread, one row per (recipient, group_key), where the
    # key names the kind and what it is about ("reply:thread:12"); a new event updates it in place. A member's
    # rows and a tag's rows are grouped by separate unique indexes, so a group never mixes the two.
    group_key: Mapped[str | None] = mapped_column(String(80))
    count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="1")
    # Signed actors, newest first, each once (never anyone writing anonymously): "Ana, Ben and 55 others".
    actor_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False, server_default="{}")
    subject: Mapped[str | None] = mapped_column(String(200))  # the thread's or named reflection's title
    # Tag rows only: the number each event took from the tag sequence, so "mark all as read" (the watermark)
    # counts what came after it.
    event_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False, server_default="{}")
    # The newest event's number, from the row's own id sequence (the id itself until the group grows):
    # what notification mail's cursors compare with.
    last_id: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Mention(Base):
    """Who a piece of writing has mentioned: a member is told once per piece, not again on every edit."""

    __tablename__ = "mentions"
    __table_args__ = (PrimaryKeyConstraint("target_kind", "target_id", "user_id", name="pk_mentions"),)

    target_kind: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))


class WatchedWord(Base):
    """An admin-managed word or phrase, and what happens to writing that contains it."""

    __tablename__ = "watched_words"
    __table_args__ = (CheckConstraint("action IN ('block','approve','flag')", name="action"),)

    id: Mapped[int] = pk()
    phrase: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    action: Mapped[str] = mapped_column(String(10), nullable=False)
    message: Mapped[str | None] = mapped_column(String(300))
    created_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at()


class OnCallHours(Base):
    """When a moderator is on call, in their own time zone: one span per weekday (0 is Monday). An end at or
    before the start runs past midnight into the next day; an end of 1440 is midnight."""

    __tablename__ = "oncall_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_oncall_hours_weekday"),
        CheckConstraint("start_minute BETWEEN 0 AND 1439 AND end_minute BETWEEN 0 AND 1440 "
                        "AND start_minute <> end_minute", name="ck_oncall_hours_minutes"),
        UniqueConstraint("user_id", "weekday", name="uq_oncall_hours_day"),
    )

    id: Mapped[int] = pk()
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    weekday: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    start_minute: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    end_minute: Mapped[int] = mapped_column(SmallInteger, nullable=False)


class UrgentAlert(Base):
    """One per urgent review item: who was told, when it escalated, and the first human action on it."""

    __tablename__ = "urgent_alerts"
    __table_args__ = (
        Index("ix_urgent_alerts_waiting", "raised_at", postgresql_where=text("escalated_at IS NULL")),
        Index("ix_urgent_alerts_raised", "raised_at"),
    )

    id: Mapped[int] = pk()
    item_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("review_items.id", ondelete="CASCADE"),
                                         nullable=False, unique=True)
    raised_at: Mapped[datetime] = created_at()
    notified: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False, server_default="{}")
    # Who has been emailed about it (urgent.mail_alerts), and whether the escalation's mail went out.
    mailed: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), nullable=False, server_default="{}")
    escalated_mailed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_action_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_action_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    first_action: Mapped[str | None] = mapped_column(String(30))


class Checkin(Base):
    """A private conversation between the moderator who opened it and the writer of a piece (a check-in, a
    warning or a silence comes with one, so the writer can answer). A named writer is addressed by member id;
    an anonymous one only by a tag scoped to this piece (Anonymity.tag(member, "checkin:<kind>:<id>")), so the
    row names nobody and links no two pieces, and they take part under the piece's pseudonym."""

    __tablename__ = "checkins"
    __table_args__ = (
        CheckConstraint("(writer_id IS NULL) <> (writer_tag IS NULL)", name="ck_checkins_one_address"),
        Index("ix_checkins_moderator", "moderator_id", "opened_at"),
        Index("ix_checkins_writer", "writer_id", postgresql_where=text("writer_id IS NOT NULL")),
    )

    id: Mapped[int] = pk()
    target_kind: Mapped[str] = mapped_column(String(30), nullable=False)
    target_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reason: Mapped[str] = mapped_column(String(20), nullable=False)  # check_in | warn | silence
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    writer_label: Mapped[str] = mapped_column(String(80), nullable=False)
    moderator_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    writer_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    writer_tag: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime] = created_at()
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(20))  # writer | moderator


class CheckinMessage(Base):
    """One message in a check-in. A writer's message in an anonymous conversation carries its day only."""

    __tablename__ = "checkin_messages"
    __table_args__ = (Index("ix_checkin_messages_checkin", "checkin_id", "id"),)

    id: Mapped[int] = pk()
    checkin_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("checkins.id", ondelete="CASCADE"),
                                            nullable=False)
    from_writer: Mapped[bool] = mapped_column(nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at()


class SiteSetting(Base):
    """A setting an admin changes on the site (review.approval); the environment gives its default."""

    __tablename__ = "site_settings"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = created_at()
    updated_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))


class MemberStanding(Base):
    """How many pieces a member has shared under their name, on any surface (review.approval): a new member's
    first N wait for a moderator. Signed pieces only (what the writing tables already say), no times, no targets;
    anonymous pieces are never counted here."""

    __tablename__ = "member_standing"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    shared: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
