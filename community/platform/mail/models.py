"""The outbox table: one row per email, written in the same transaction as the event that caused it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from community.platform.base import Base, created_at, pk

STATUSES = ("queued", "sent", "dead")


class OutboxMessage(Base):
    """A rendered message and its delivery state.

    `message_id` is fixed when the row is written, so every retry of the message carries the same Message-ID.
    Bodies may hold one-time links (invitations, password resets): the sender blanks them once the message is
    sent, and no page shows them (the admin page shows recipient, subject, status and the last error only).
    """

    __tablename__ = "mail_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('queued','sent','dead')", name="status"),
        Index("ix_mail_outbox_due", "next_attempt_at", postgresql_where=text("status = 'queued'")),
        Index("ix_mail_outbox_created", "created_at"),
    )

    id: Mapped[int] = pk()
    message_id: Mapped[str] = mapped_column(String(250), nullable=False, unique=True)
    to_addr: Mapped[str] = mapped_column(String(254), nullable=False)
    template: Mapped[str] = mapped_column(String(60), nullable=False)
    subject: Mapped[str] = mapped_column(Text, nullable=False)
    text_body: Mapped[str] = mapped_column(Text, nullable=False)
    html_body: Mapped[str] = mapped_column(Text, nullable=False)
    headers: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    # [{"filename", "content_type" ("text/calendar"), "content" (text)}]: a session's .ics
    attachments: Mapped[list[dict[str, str]]] = mapped_column(JSONB, nullable=False,
                                                              server_default=text("'[]'::jsonb"))
    status: Mapped[str] = mapped_column(String(10), nullable=False, server_default="queued")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                      server_default=text("now()"))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


FREQUENCIES = ("immediately", "daily", "weekly", "off")


class MailPreference(Base):
    """A member's choice for one kind of notification email; a kind without a row takes its default
    (mail.preferences.DEFAULTS)."""

    __tablename__ = "mail_preferences"
    __table_args__ = (CheckConstraint("frequency IN ('immediately','daily','weekly','off')", name="frequency"),)

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    frequency: Mapped[str] = mapped_column(String(12), nullable=False)


class MailDigestState(Base):
    """How far notification email has read each member's notifications (by notification id), per frequency, and
    when their last daily and weekly digests went. Rows start at the newest notification, so turning mail on
    never sends a member their whole history."""

    __tablename__ = "mail_digest_state"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    immediate_through: Mapped[int] = mapped_column(BigInteger, nullable=False)
    daily_through: Mapped[int] = mapped_column(BigInteger, nullable=False)
    weekly_through: Mapped[int] = mapped_column(BigInteger, nullable=False)
    # Tag-addressed rows have their own id sequence: the newest of them at the last digest (not per member).
    tag_through: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    daily_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    weekly_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
