"""rooms: live peer-support rooms, participants, messages, events, presence

Revision ID: 0004
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "rooms",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column("theme_prompt", sa.Text(), nullable=True),
        sa.Column("ground_rules", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), server_default="30", nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("host_id", sa.BigInteger(), nullable=True),
        sa.Column("retention_hours", sa.Integer(), nullable=True),
        sa.Column("allow_anonymous", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("state", sa.String(length=20), server_default="scheduled", nullable=False),
        sa.Column("locked", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("slow_mode_seconds", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.CheckConstraint("kind IN ('standing','scheduled')", name=op.f("ck_rooms_kind")),
        sa.CheckConstraint("state IN ('scheduled','open','ended')", name=op.f("ck_rooms_state")),
        sa.ForeignKeyConstraint(["host_id"], ["users.id"], name=op.f("fk_rooms_host_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("slug", name=op.f("uq_rooms_slug")),
    )
    op.create_index("ix_rooms_state_starts_at", "rooms", ["state", "starts_at"], unique=False)

    op.create_table(
        "room_participants",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.BigInteger(), nullable=False),
        sa.Column("member_tag", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=True),
        sa.Column("anonymous", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("role", sa.String(length=20), server_default="member", nullable=False),
        sa.Column("sealed_member", sa.Text(), nullable=True),
        sa.Column("notify_tag", sa.String(length=64), nullable=True),
        sa.Column("accepted_rules_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("muted_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_room_participants_room_id_rooms"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_room_participants_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_participants")),
        sa.UniqueConstraint("room_id", "member_tag", name="uq_room_participants_member"),
    )

    op.create_table(
        "room_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["participant_id"], ["room_participants.id"],
                                name=op.f("fk_room_messages_participant_id_room_participants"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_room_messages_room_id_rooms"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_messages")),
        sa.UniqueConstraint("room_id", "seq", name="uq_room_messages_seq"),
    )
    op.create_index("ix_room_messages_created_at", "room_messages", ["created_at"], unique=False)

    op.create_table(
        "room_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.BigInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_room_events_room_id_rooms"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_events")),
        sa.UniqueConstraint("room_id", "seq", name="uq_room_events_seq"),
    )

    op.create_table(
        "room_presence",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("room_id", sa.BigInteger(), nullable=False),
        sa.Column("participant_id", sa.BigInteger(), nullable=False),
        sa.Column("process", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["room_participants.id"],
                                name=op.f("fk_room_presence_participant_id_room_participants"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_room_presence_room_id_rooms"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_presence")),
    )
    op.create_index("ix_room_presence_room_id", "room_presence", ["room_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_room_presence_room_id", table_name="room_presence")
    op.drop_table("room_presence")
    op.drop_table("room_events")
    op.drop_index("ix_room_messages_created_at", table_name="room_messages")
    op.drop_table("room_messages")
    op.drop_table("room_participants")
    op.drop_index("ix_rooms_state_starts_at", table_name="rooms")
    op.drop_table("rooms")
