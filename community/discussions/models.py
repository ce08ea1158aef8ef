"""Discussion threads: categories, threads, posts and their revisions, reactions, read state and watches.

Posts carry their position in the thread (1 = the opening post), so a thread page is an index range scan on
(thread_id, position) however long the thread is. Full-text search uses generated tsvector columns.
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
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from community.platform.base import Base, created_at, pk
from community.platform.states import STATE_CHECK_SQL, State

POST_STATES = tuple(State)
REACTIONS = ("thanks", "me_too", "helped")
WATCH_LEVELS = ("watch", "mute")

_STATE_CHECK = STATE_CHECK_SQL


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = pk()
    slug: Mapped[str] = mapped_column(String(60), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    position: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    thread_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()


class Thread(Base):
    __tablename__ = "threads"
    __table_args__ = (
        CheckConstraint(_STATE_CHECK, name="state"),
        Index("ix_threads_category_activity", "category_id", "last_activity_at", "id"),
        # The pinned threads that open a category page: few, so without it that part scanned the category.
        Index("ix_threads_pinned_activity", "category_id", "last_activity_at", "id", postgresql_where=text("pinned")),
        Index("ix_threads_search", "search", postgresql_using="gin"),
        Index("ix_threads_author", "author_id"),
        # The home page's recent threads (reads.RECENT_THREADS_SQL), newest activity first across categories:
        # without it every home page read and sorted every thread.
        Index("ix_threads_recent_activity", "last_activity_at", "id",
              postgresql_where=text("state = 'visible' AND NOT pinned")),
        # The few threads members may not see: search asks "is this one of them?" of each hit (see search.py).
        Index("ix_threads_not_visible", "id", postgresql_where=text("state <> 'visible'")),
    )

    id: Mapped[int] = pk()
    category_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("categories.id"), nullable=False)
    author_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False, server_default="visible")
    pinned: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    locked: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    first_post_id: Mapped[int | None] = mapped_column(BigInteger)
    post_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")  # highest position
    reply_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")  # visible replies
    last_activity_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"),
                                                       nullable=False)
    created_at: Mapped[datetime] = created_at()
    search: Mapped[str] = mapped_column(TSVECTOR, Computed("to_tsvector('english'::regconfig, (title)::text)",
                                                           persisted=True))
    # A new value (from content_version_seq) whenever a post or reaction of the thread is written, set by
    # triggers (migration 0007): what cached pages of posts are validated against. Never set by the app.
    content_version: Mapped[int] = mapped_column(BigInteger, nullable=False,
                                                 server_default=text("nextval('content_version_seq')"))


class ContentEpoch(Base):
    """One row: a new value whenever a member's name, handle or role changes, or a member is deleted (triggers,
    migration 0007). Cached pages of posts show author names, so they are validated against it too."""

    __tablename__ = "content_epoch"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, nullable=False)


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        CheckConstraint(_STATE_CHECK, name="state"),
        Index("uq_posts_thread_position", "thread_id", "position", unique=True),
        Index("ix_posts_author_at", "author_id", "created_at"),
        Index("ix_posts_reply_to", "reply_to_id", postgresql_where=text("reply_to_id IS NOT NULL")),
        Index("ix_posts_search", "search", postgresql_using="gin"),
        # The posts members may not see (hidden, pending, removed): see Thread's ix_threads_not_visible.
        Index("ix_posts_not_visible", "id", postgresql_where=text("state <> 'visible'")),
    )

    id: Mapped[int] = pk()
    thread_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("threads.id", ondelete="CASCADE"), nullable=False)
    author_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    reply_to_id: Mapped[int | None] = mapped_column(BigInteger)
    body_md: Mapped[str] = mapped_column(Text, nullable=False)
    body_html: Mapped[str] = mapped_column(Text, nullable=False)
    body_text: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    state: Mapped[str] = mapped_column(String(10), nullable=False, server_default="visible")
    removed_reason: Mapped[str | None] = mapped_column(Text)
    deleted_by_author: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()
    search: Mapped[str] = mapped_column(TSVECTOR, Computed("to_tsvector('english'::regconfig, body_text)",
                                                           persisted=True))


class PostRevision(Base):
    """The text a post had before each edit (and before its author deleted it)."""

    __tablename__ = "post_revisions"

    id: Mapped[int] = pk()
    post_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("posts.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    body_md: Mapped[str] = mapped_column(Text, nullable=False)
    edited_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at()


class Reaction(Base):
    __tablename__ = "reactions"
    __table_args__ = (
        PrimaryKeyConstraint("post_id", "kind", "user_id", name="pk_reactions"),
        CheckConstraint("kind IN ('thanks','me_too','helped')", name="kind"),
    )

    post_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("posts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = created_at()


class ThreadRead(Base):
    __tablename__ = "thread_reads"
    __table_args__ = (PrimaryKeyConstraint("user_id", "thread_id", name="pk_thread_reads"),)

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("threads.id", ondelete="CASCADE"))
    last_read_position: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"),
                                                 nullable=False)


class ThreadWatch(Base):
    __tablename__ = "thread_watches"
    __table_args__ = (
        PrimaryKeyConstraint("user_id", "thread_id", name="pk_thread_watches"),
        CheckConstraint("level IN ('watch','mute')", name="level"),
        Index("ix_thread_watches_thread", "thread_id"),
    )

    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("threads.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(10), nullable=False)
