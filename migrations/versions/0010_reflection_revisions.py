"""reflections: earlier versions of shared reflections and of replies, for moderators

A thread post keeps its revisions (post_revisions) so that a moderator reviewing a flag sees what was flagged even
if it was rewritten since. Shared reflections and replies to them now do the same. A revision holds the text only:
no author column, and the day of the edit only (like other times written about anonymous writing). Private
journal writing keeps no revisions: it is the writer's alone.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reflection_revisions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("reflection_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["reflection_id"], ["reflections.id"],
                                name=op.f("fk_reflection_revisions_reflection_id_reflections"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflection_revisions")),
    )
    op.create_index(op.f("ix_reflection_revisions_reflection_id"), "reflection_revisions", ["reflection_id"])
    op.create_table(
        "reflection_reply_revisions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("reply_id", sa.BigInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["reply_id"], ["reflection_replies.id"],
                                name=op.f("fk_reflection_reply_revisions_reply_id_reflection_replies"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reflection_reply_revisions")),
    )
    op.create_index(op.f("ix_reflection_reply_revisions_reply_id"), "reflection_reply_revisions", ["reply_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_reflection_reply_revisions_reply_id"), table_name="reflection_reply_revisions")
    op.drop_table("reflection_reply_revisions")
    op.drop_index(op.f("ix_reflection_revisions_reflection_id"), table_name="reflection_revisions")
    op.drop_table("reflection_revisions")
