"""discussions: categories, threads, posts, revisions, reactions, read state, watches, watched words

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATE = "state IN ('visible','hidden','removed','pending')"


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("thread_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_categories_slug")),
    )
    op.create_table(
        "threads",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("category_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=10), server_default="visible", nullable=False),
        sa.Column("pinned", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("locked", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("first_post_id", sa.BigInteger(), nullable=True),
        sa.Column("post_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reply_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("search", postgresql.TSVECTOR(),
                  sa.Computed("to_tsvector('english'::regconfig, (title)::text)", persisted=True), nullable=True),
        sa.CheckConstraint(STATE, name=op.f("ck_threads_state")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_threads_author_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["category_id"], ["categories.id"], name=op.f("fk_threads_category_id_categories")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threads")),
    )
    op.create_index("ix_threads_category_activity", "threads", ["category_id", "last_activity_at", "id"])
    op.create_index("ix_threads_search", "threads", ["search"], postgresql_using="gin")
    op.create_index("ix_threads_author", "threads", ["author_id"])
    op.create_table(
        "posts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("reply_to_id", sa.BigInteger(), nullable=True),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), server_default="", nullable=False),
        sa.Column("state", sa.String(length=10), server_default="visible", nullable=False),
        sa.Column("removed_reason", sa.Text(), nullable=True),
        sa.Column("deleted_by_author", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("search", postgresql.TSVECTOR(),
                  sa.Computed("to_tsvector('english'::regconfig, body_text)", persisted=True), nullable=True),
        sa.CheckConstraint(STATE, name=op.f("ck_posts_state")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_posts_author_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["thread_id"], ["threads.id"], name=op.f("fk_posts_thread_id_threads"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
    )
    op.create_index("uq_posts_thread_position", "posts", ["thread_id", "position"], unique=True)
    op.create_index("ix_posts_author_at", "posts", ["author_id", "created_at"])
    op.create_index("ix_posts_reply_to", "posts", ["reply_to_id"], postgresql_where=sa.text("reply_to_id IS NOT NULL"))
    op.create_index("ix_posts_search", "posts", ["search"], postgresql_using="gin")
    op.create_table(
        "post_revisions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("body_md", sa.Text(), nullable=False),
        sa.Column("edited_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["edited_by"], ["users.id"], name=op.f("fk_post_revisions_edited_by_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_post_revisions_post_id_posts"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_revisions")),
    )
    op.create_index(op.f("ix_post_revisions_post_id"), "post_revisions", ["post_id"])
    op.create_table(
        "reactions",
        sa.Column("post_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('thanks','me_too','helped')", name=op.f("ck_reactions_kind")),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_reactions_post_id_posts"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_reactions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", "kind", "user_id", name="pk_reactions"),
    )
    op.create_table(
        "thread_reads",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("last_read_position", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["thread_id"], ["threads.id"], name=op.f("fk_thread_reads_thread_id_threads"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_thread_reads_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "thread_id", name="pk_thread_reads"),
    )
    op.create_table(
        "thread_watches",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.CheckConstraint("level IN ('watch','mute')", name=op.f("ck_thread_watches_level")),
        sa.ForeignKeyConstraint(["thread_id"], ["threads.id"], name=op.f("fk_thread_watches_thread_id_threads"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_thread_watches_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "thread_id", name="pk_thread_watches"),
    )
    op.create_index("ix_thread_watches_thread", "thread_watches", ["thread_id"])
    op.create_table(
        "watched_words",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("phrase", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("message", sa.String(length=300), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("action IN ('block','approve','flag')", name=op.f("ck_watched_words_action")),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_watched_words_created_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watched_words")),
        sa.UniqueConstraint("phrase", name=op.f("uq_watched_words_phrase")),
    )


def downgrade() -> None:
    op.drop_table("watched_words")
    op.drop_index("ix_thread_watches_thread", table_name="thread_watches")
    op.drop_table("thread_watches")
    op.drop_table("thread_reads")
    op.drop_table("reactions")
    op.drop_index(op.f("ix_post_revisions_post_id"), table_name="post_revisions")
    op.drop_table("post_revisions")
    op.drop_index("ix_posts_search", table_name="posts")
    op.drop_index("ix_posts_reply_to", table_name="posts")
    op.drop_index("ix_posts_author_at", table_name="posts")
    op.drop_index("uq_posts_thread_position", table_name="posts")
    op.drop_table("posts")
    op.drop_index("ix_threads_author", table_name="threads")
    op.drop_index("ix_threads_search", table_name="threads")
    op.drop_index("ix_threads_category_activity", table_name="threads")
    op.drop_table("threads")
    op.drop_table("categories")
