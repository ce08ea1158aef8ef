"""Tables for following scheduled sessions: who follows which, and each member's private calendar feed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from community.platform.base import Base, created_at


class RoomFollow(Base):
    """A member follows a scheduled session: a reminder mail (with an .ics) before it, and it is in their feed."""

    __tablename__ = "room_follows"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    room_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = created_at()
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CalendarFeed(Base):
    """A member's private feed of the sessions they follow; only the token's hash is kept. Revoking deletes the
    row, so the old address stops working; a new one can be issued at any time."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = created_at()


class HostFollow(Base):
    """A member follows a host (an attending): each new session they schedule is announced to the member."""

    __tablename__ = "host_follows"

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    host_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = created_at()


class RoomAnnouncement(Base):
    """A scheduled session whose host's followers were told about it (once)."""

    __tablename__ = "room_announcements"

    room_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    at: Mapped[datetime] = created_at()
