"""reflections: prompts, reflections, replies, reactions, drafts, unmask requests

Revision ID: 0003
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "prompts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("theme", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("minutes", sa.SmallInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("minutes IN (2, 5, 15)", name=op.f("ck_prompts_minutes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prompts")),
        sa.UniqueConstraint("slug", name=op.f("uq_prompts_slug")),
    )
    op.create_index(op.f("ix_prompts_theme"), "prompts", ["theme"], unique=False)

    op.create_table(
        "reflections",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("author_tag", sa.String(length=64), nullable=True),
        sa.Column("sealed_author", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=12), nullable=False),
        sa.Column("state", sa.String(length=12), server_default="visible", nullable=False),
        sa.Column("prompt_id", sa.BigInteger(), nullable=True),
        sa.Column("theme", sa.String(length=40), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("search", postgresql.TSVECTOR(),
                  sa.Computed("to_tsvector('english', coalesce(title, '') || ' ' || body)", persisted=True),
                  nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("visibility IN ('private','anonymous','named')", name=op.f("ck_reflections_visibility")),
        sa.CheckConstraint("state IN ('visible','hidden','removed')", name=op.f("ck_reflections_state")),
        sa.CheckConstraint("char_length(body) BETWEEN 1 AND 20000", name=op.f("ck_reflections_body_length")),
        sa.CheckConstraint("(visibility = 'named' AND author_tag IS NULL AND sealed_author IS NULL) OR "
                           "(visibility <> 'named' AND author_id IS NULL)", name=op.f("ck_reflections_author_link")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_reflections_author_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompts.id"], name=op.f("fk_reflections_prompt_id_prompts"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflections")),
    )
    op.create_index(op.f("ix_reflections_author_id"), "reflections", ["author_id"], unique=False)
    op.create_index(op.f("ix_reflections_author_tag"), "reflections", ["author_tag"], unique=False)
    op.create_index(op.f("ix_reflections_prompt_id"), "reflections", ["prompt_id"], unique=False)
    op.create_index("ix_reflections_wall", "reflections", ["id"], unique=False,
                    postgresql_where=sa.text("visibility IN ('anonymous','named') AND state = 'visible'"))
    op.create_index("ix_reflections_search", "reflections", ["search"], unique=False, postgresql_using="gin")

    op.create_table(
        "reflection_replies",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("reflection_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=True),
        sa.Column("author_tag", sa.String(length=64), nullable=True),
        sa.Column("sealed_author", sa.Text(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("pseudonym", sa.String(length=40), nullable=True),
        sa.Column("is_author", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("state", sa.String(length=12), server_default="visible", nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("state IN ('visible','hidden','removed')", name=op.f("ck_reflection_replies_state")),
        sa.CheckConstraint("char_length(body) BETWEEN 1 AND 5000", name=op.f("ck_reflection_replies_body_length")),
        sa.CheckConstraint("author_id IS NULL OR author_tag IS NULL", name=op.f("ck_reflection_replies_author_link")),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_reflection_replies_author_id_users"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["reflection_id"], ["reflections.id"],
                                name=op.f("fk_reflection_replies_reflection_id_reflections"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflection_replies")),
    )
    op.create_index(op.f("ix_reflection_replies_author_id"), "reflection_replies", ["author_id"], unique=False)
    op.create_index(op.f("ix_reflection_replies_author_tag"), "reflection_replies", ["author_tag"], unique=False)
    op.create_index("ix_reflection_replies_thread", "reflection_replies", ["reflection_id", "id"], unique=False)

    op.create_table(
        "reflection_reactions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("reflection_id", sa.BigInteger(), nullable=False),
        sa.Column("reactor_tag", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.CheckConstraint("kind IN ('thanks','metoo','helped')", name=op.f("ck_reflection_reactions_kind")),
        sa.ForeignKeyConstraint(["reflection_id"], ["reflections.id"],
                                name=op.f("fk_reflection_reactions_reflection_id_reflections"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflection_reactions")),
        sa.UniqueConstraint("reflection_id", "reactor_tag", "kind", name="uq_reflection_reactions_once"),
    )
    op.create_index(op.f("ix_reflection_reactions_reactor_tag"), "reflection_reactions", ["reactor_tag"],
                    unique=False)

    op.create_table(
        "reflection_drafts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("owner_tag", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column("prompt_id", sa.BigInteger(), nullable=True),
        sa.Column("visibility", sa.String(length=12), server_default="private", nullable=False),
        sa.Column("theme", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["prompt_id"], ["prompts.id"], name=op.f("fk_reflection_drafts_prompt_id_prompts"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflection_drafts")),
        sa.UniqueConstraint("owner_tag", name=op.f("uq_reflection_drafts_owner_tag")),
    )

    op.create_table(
        "unmask_requests",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("target_kind", sa.String(length=30), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=12), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("decision IS NULL OR decision IN ('approved','declined')",
                           name=op.f("ck_unmask_requests_decision")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_unmask_requests_decided_by_users")),
        sa.ForeignKeyConstraint(["requested_by"], ["users.id"], name=op.f("fk_unmask_requests_requested_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmask_requests")),
    )
    op.create_index("ix_unmask_requests_target", "unmask_requests", ["target_kind", "target_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_unmask_requests_target", table_name="unmask_requests")
    op.drop_table("unmask_requests")
    op.drop_table("reflection_drafts")
    op.drop_index(op.f("ix_reflection_reactions_reactor_tag"), table_name="reflection_reactions")
    op.drop_table("reflection_reactions")
    op.drop_index("ix_reflection_replies_thread", table_name="reflection_replies")
    op.drop_index(op.f("ix_reflection_replies_author_tag"), table_name="reflection_replies")
    op.drop_index(op.f("ix_reflection_replies_author_id"), table_name="reflection_replies")
    op.drop_table("reflection_replies")
    op.drop_index("ix_reflections_search", table_name="reflections")
    op.drop_index("ix_reflections_wall", table_name="reflections")
    op.drop_index(op.f("ix_reflections_prompt_id"), table_name="reflections")
    op.drop_index(op.f("ix_reflections_author_tag"), table_name="reflections")
    op.drop_index(op.f("ix_reflections_author_id"), table_name="reflections")
    op.drop_table("reflections")
    op.drop_index(op.f("ix_prompts_theme"), table_name="prompts")
    op.drop_table("prompts")
