"""drafts: one table for the drafts of every composer (threads, replies, edits, reflection replies, room messages);
rooms: ground rules rendered from Markdown at write time (existing rooms rendered here); site settings an admin
changes (new-member approval)

Revision ID: 0027
Revises: 0026
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from community.platform.text import render_markdown

revision: str = "0027"
down_revision: str | Sequence[str] | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "drafts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("owner_tag", sa.String(length=64), nullable=False),
        sa.Column("slot_key", sa.String(length=64), nullable=False),
        sa.Column("slot_sealed", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("body", sa.Text(), server_default="", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slot_key"),
    )
    op.create_index("ix_drafts_owner_tag", "drafts", ["owner_tag"])
    op.create_index("ix_drafts_updated_at", "drafts", ["updated_at"])
    op.add_column("rooms", sa.Column("ground_rules_html", sa.Text(), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, ground_rules FROM rooms")).all()
    for room_id, rules in rows:  # once, at upgrade: rooms written before rules were rendered
        connection.execute(sa.text("UPDATE rooms SET ground_rules_html = :html WHERE id = :id"),
                           {"html": render_markdown(rules), "id": room_id})


    op.create_table(
        "site_settings",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "member_standing",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("shared", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id"),
    )
    # What members have already shared under their names counts (anonymous writing cannot be counted here:
    # finding it needs the anonymity key, so it counts from now on).
    op.execute("""
        INSERT INTO member_standing (user_id, shared)
        SELECT author_id, count(*) FROM (
            SELECT author_id FROM posts WHERE author_id IS NOT NULL AND state <> 'pending'
            UNION ALL SELECT author_id FROM reflections WHERE author_id IS NOT NULL AND visibility = 'named'
            UNION ALL SELECT author_id FROM reflection_replies WHERE author_id IS NOT NULL
        ) shared GROUP BY author_id
    """)


def downgrade() -> None:
    op.drop_table("member_standing")
    op.drop_table("site_settings")
    op.drop_column("rooms", "ground_rules_html")
    op.drop_index("ix_drafts_updated_at", table_name="drafts")
    op.drop_index("ix_drafts_owner_tag", table_name="drafts")
    op.drop_table("drafts")
