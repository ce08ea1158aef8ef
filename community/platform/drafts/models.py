"""The drafts table: one row per (member, composer slot), with nothing in it that names the member or the slot.

`owner_tag` is the member's tag in the "drafts" scope (how "My drafts" finds them), `slot_key` their tag in the
slot's own scope (how one composer finds its draft, and why a member has one draft per slot), and `slot_sealed`
the slot sealed with the anonymity key: reading the table tells nobody which thread, reflection or room a draft
belongs to, so the draft of an anonymous reply cannot be tied to its target, let alone to its writer.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from community.platform.base import Base, pk


class Draft(Base):
    __tablename__ = "drafts"
    __table_args__ = (Index("ix_drafts_owner_tag", "owner_tag"), Index("ix_drafts_updated_at", "updated_at"))

    id: Mapped[int] = pk()
    owner_tag: Mapped[str] = mapped_column(String(64), nullable=False)
    slot_key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    slot_sealed: Mapped[str] = mapped_column(Text, nullable=False)
    title: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)
