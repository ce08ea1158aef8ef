"""Reflections: prompts, reflections (private, anonymous or named), replies, reactions, drafts, unmask requests.

Anonymity is a property of the rows, not only of the pages: an anonymous (or private) reflection has no
`author_id`; it carries `author_tag` (a keyed hash, see community.sealing) and, when the app must recover the
member for sanctions or an approved unmasking, `sealed_author` (AES-GCM with ANON_KEY, which is not in the
database). Reactions and drafts are keyed by tags too, so no table pairs a member id with an anonymous piece.
Tags are per scope (a reflection, with its writer's replies in it), so no value is shared by two pieces; private
and anonymous reflections and anonymous replies take ids from sequences of their own (ANON_SEQUENCES) and keep
only the day they were written.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from community.platform.base import Base, created_at, pk
from community.platform.states import State, Visibility

VISIBILITIES = tuple(Visibility)
SHARED = (Visibility.ANONYMOUS, Visibility.NAMED)
STATES = (State.VISIBLE, State.HIDDEN, State.REMOVED)
REACTIONS = ("thanks", "metoo", "helped")
TITLE_MAX = 200
BODY_MAX = 20_000
REPLY_MAX = 5_000
# Ids of private and anonymous reflections and anonymous replies: sequences of their own (migration 0018), so
# that their ids do not interleave with signed activity.
ANON_SEQUENCES = {"reflections": "reflections_anon_id_seq", "reflection_replies": "reflection_replies_anon_id_seq"}


def updated_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Prompt(Base):
    __tablename__ = "prompts"
    __table_args__ = (CheckConstraint("minutes IN (2, 5, 15)", name="minutes"),)

    id: Mapped[int] = pk()
    slug: Mapped[str] = mapped_column(String(80), nullable=False, unique=True)  # natural key for seeding
    theme: Mapped[str] = mapped_column(String(40), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(120), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    minutes: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="true")
    pinned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class Reflection(Base):
    __tablename__ = "reflections"
    __table_args__ = (
        CheckConstraint("visibility IN ('private','anonymous','named')", name="visibility"),
        CheckConstraint("state IN ('visible','hidden','removed')", name="state"),
        CheckConstraint("char_length(body) BETWEEN 1 AND 20000", name="body_length"),
        # Named pieces carry the member id and nothing else; tagged pieces carry no member id.
        CheckConstraint("(visibility = 'named' AND author_tag IS NULL AND sealed_author IS NULL) OR "
                        "(visibility <> 'named' AND author_id IS NULL)", name="author_link"),
        # The wall, newest first by (created_at, id): anonymous pieces' ids come from a sequence of their own.
        Index("ix_reflections_wall", "created_at", "id",
              postgresql_where=text("visibility IN ('anonymous','named') AND state = 'visible'")),
        Index("ix_reflections_search", "search", postgresql_using="gin"),
    )

    id: Mapped[int] = pk()
    author_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"),
                                                  index=True)
    author_tag: Mapped[str | None] = mapped_column(String(64), index=True)
    sealed_author: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str] = mapped_column(String(12), nullable=False)
    state: Mapped[str] = mapped_column(String(12), nullable=False, server_default="visible")
    # Ever shared under the writer's name: then it can never become anonymous (its readers know who wrote it).
    shown_named: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    prompt_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("prompts.id", ondelete="SET NULL"),
                                                  index=True)
    theme: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    # The card's excerpt (actions.excerpt_of), stored with the body so the wall and the journal parse nothing.
    excerpt: Mapped[str] = mapped_column(Text, nullable=False)
    search: Mapped[str] = mapped_column(
        TSVECTOR, Computed("to_tsvector('english', coalesce(title, '') || ' ' || body)", persisted=True))
    # The day only on private and anonymous pieces (set by actions.set_times).
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = updated_at()


class ReflectionReply(Base):
    __tablename__ = "reflection_replies"
    __table_args__ = (
        CheckConstraint("state IN ('visible','hidden','removed')", name="state"),
        CheckConstraint("char_length(body) BETWEEN 1 AND 5000", name="body_length"),
        CheckConstraint("author_id IS NULL OR author_tag IS NULL", name="author_link"),
        Index("ix_reflection_replies_thread", "reflection_id", "id"),
        Index("ix_reflection_replies_position", "reflection_id", "position", "id"),
    )

    id: Mapped[int] = pk()
    reflection_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("reflections.id", ondelete="CASCADE"),
                                               nullable=False)
    author_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"),
                                                  index=True)
    author_tag: Mapped[str | None] = mapped_column(String(64), index=True)
    sealed_author: Mapped[str | None] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    pseudonym: Mapped[str | None] = mapped_column(String(40))
    is_author: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    state: Mapped[str] = mapped_column(String(12), nullable=False, server_default="visible")
    # The reply's place in its thread (ties broken by id): the thread's order, without ids or times that would
    # place an anonymous reply among signed activity elsewhere.
    position: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    body: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    # The day only on anonymous replies.
    created_at: Mapped[datetime] = created_at()
    # Set when the writer edits the reply (the "edited" mark); the day only for anonymous replies.
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReflectionRevision(Base):
    """The text a shared reflection had before each edit, for moderators (what was flagged may since have been
    rewritten). No author column, and the day only: a revision says nothing about who wrote it or when exactly."""

    __tablename__ = "reflection_revisions"

    id: Mapped[int] = pk()
    reflection_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("reflections.id", ondelete="CASCADE"),
                                               nullable=False, index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ReflectionReplyRevision(Base):
    """The text a reply had before each edit, for moderators; like ReflectionRevision, nothing about its writer."""

    __tablename__ = "reflection_reply_revisions"

    id: Mapped[int] = pk()
    reply_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("reflection_replies.id", ondelete="CASCADE"),
                                          nullable=False, index=True)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class ReflectionReaction(Base):
    """Keyed by a reactor tag, never a member id: an author thanking their own piece must not unmask them."""

    __tablename__ = "reflection_reactions"
    __table_args__ = (
        UniqueConstraint("reflection_id", "reactor_tag", "kind", name="uq_reflection_reactions_once"),
        CheckConstraint("kind IN ('thanks','metoo','helped')", name="kind"),
    )

    id: Mapped[int] = pk()
    reflection_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("reflections.id", ondelete="CASCADE"),
                                               nullable=False)
    reactor_tag: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)


class ReflectionDraft(Base):
    """One draft per (member, slot), keyed by a tag derived from both: drafts do not link to each other."""

    __tablename__ = "reflection_drafts"

    id: Mapped[int] = pk()
    owner_tag: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    title: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    prompt_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("prompts.id", ondelete="SET NULL"))
    visibility: Mapped[str] = mapped_column(String(12), nullable=False, server_default="private")
    theme: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = updated_at()


class UnmaskRequest(Base):
    """An admin asks, with a written reason, to learn who wrote an anonymous piece; a different admin decides.

    The member id is never stored here: an approved request lets its two admins unseal it on view.
    """

    __tablename__ = "unmask_requests"
    __table_args__ = (
        Index("ix_unmask_requests_target", "target_kind", "target_id"),
        CheckConstraint("decision IS NULL OR decision IN ('approved','declined')", name="decision"),
    )

    id: Mapped[int] = pk()
    target_kind: Mapped[str] = mapped_column(String(30), nullable=False)
    target_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    requested_by: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = created_at()
    decided_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision: Mapped[str | None] = mapped_column(String(12))
    decision_reason: Mapped[str | None] = mapped_column(Text)
