"""mentorship: member cards, the mentor directory, office hours and bookings, mentor conversations; private rooms

- `member_cards`: who may see each profile field on a member's card.
- `mentor_profiles`: a member's directory entry (listed or not), specialties, interests, what they can help with.
- `office_hours`: weekly windows in the mentor's time zone, cut into slots.
- `mentor_bookings`: a slot booked, signed or anonymously (no member id: a room-scoped tag and a seal); at most one
  booked row per mentor and start (a partial unique index); anonymous bookings take ids from a sequence of their own.
- `mentor_conversations`, `mentor_messages`: a private written conversation a mentor accepted.
- `rooms.private` and `room_participants.entered`: the rooms pillar's private rooms for two (an office hour).

Revision ID: 0024
Revises: 0023
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANON_IDS_START = 10**11


def _user(column: str, nullable: bool = False, ondelete: str = "CASCADE", table: str = "") -> sa.Column:
    return sa.Column(column, sa.BigInteger(), sa.ForeignKey("users.id", ondelete=ondelete,
                                                            name=f"fk_{table}_{column}_users"), nullable=nullable)


def _now(column: str) -> sa.Column:
    return sa.Column(column, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    op.add_column("rooms", sa.Column("private", sa.Boolean(), server_default="false", nullable=False))
    op.add_column("room_participants", sa.Column("entered", sa.Boolean(), server_default="false", nullable=False))
    op.create_table(
        "member_cards",
        _user("user_id", table="member_cards"),
        sa.Column("visibility", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        _now("updated_at"),
        sa.PrimaryKeyConstraint("user_id", name="pk_member_cards"),
    )
    op.create_table(
        "mentor_profiles",
        _user("user_id", table="mentor_profiles"),
        sa.Column("listed", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("final_year", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("specialties", postgresql.ARRAY(sa.String(length=80)), server_default="{}", nullable=False),
        sa.Column("interests", postgresql.ARRAY(sa.String(length=80)), server_default="{}", nullable=False),
        sa.Column("help_with", sa.Text(), server_default="", nullable=False),
        sa.Column("takes_conversations", sa.Boolean(), server_default="true", nullable=False),
        _now("updated_at"),
        sa.PrimaryKeyConstraint("user_id", name="pk_mentor_profiles"),
    )
    op.create_index("ix_mentor_profiles_specialties", "mentor_profiles", ["specialties"], postgresql_using="gin")
    op.create_table(
        "office_hours",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        _user("mentor_id", table="office_hours"),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("retention_hours", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default="true", nullable=False),
        _now("created_at"),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_office_hours_weekday"),
        sa.CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND start_minute < end_minute",
                           name="ck_office_hours_window"),
        sa.CheckConstraint("slot_minutes BETWEEN 10 AND 120", name="ck_office_hours_slot"),
        sa.PrimaryKeyConstraint("id", name="pk_office_hours"),
    )
    op.create_index("ix_office_hours_mentor_id", "office_hours", ["mentor_id"])
    _bookings()
    _conversations()


def _bookings() -> None:
    op.create_table(
        "mentor_bookings",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("office_hours_id", sa.BigInteger(),
                  sa.ForeignKey("office_hours.id", ondelete="SET NULL",
                                name="fk_mentor_bookings_office_hours_id_office_hours"), nullable=True),
        _user("mentor_id", table="mentor_bookings"),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=20), server_default="booked", nullable=False),
        sa.Column("anonymous", sa.Boolean(), server_default="false", nullable=False),
        _user("booker_id", nullable=True, table="mentor_bookings"),
        sa.Column("booker_tag", sa.String(length=64), nullable=True),
        sa.Column("sealed_booker", sa.Text(), nullable=True),
        sa.Column("label", sa.String(length=60), server_default="", nullable=False),
        sa.Column("room_id", sa.BigInteger(), sa.ForeignKey("rooms.id", ondelete="SET NULL",
                                                            name="fk_mentor_bookings_room_id_rooms"), nullable=True),
        sa.Column("reminded", sa.Boolean(), server_default="false", nullable=False),
        _now("created_at"),
        sa.CheckConstraint("state IN ('booked','cancelled','no_show','done')", name="ck_mentor_bookings_state"),
        sa.CheckConstraint("(anonymous AND booker_id IS NULL) OR (NOT anonymous AND booker_tag IS NULL "
                           "AND sealed_booker IS NULL)", name="ck_mentor_bookings_anonymous_has_no_member"),
        sa.PrimaryKeyConstraint("id", name="pk_mentor_bookings"),
    )
    op.create_index("uq_mentor_bookings_slot", "mentor_bookings", ["mentor_id", "starts_at"], unique=True,
                    postgresql_where=sa.text("state = 'booked'"))
    op.create_index("ix_mentor_bookings_booker_tag", "mentor_bookings", ["booker_tag"])
    op.create_index("ix_mentor_bookings_booker_id", "mentor_bookings", ["booker_id"])
    op.execute(f"CREATE SEQUENCE mentor_bookings_anon_id_seq AS bigint START WITH {ANON_IDS_START}")


def _conversations() -> None:
    op.create_table(
        "mentor_conversations",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        _user("mentor_id", table="mentor_conversations"),
        _user("member_id", table="mentor_conversations"),
        sa.Column("state", sa.String(length=20), server_default="requested", nullable=False),
        _now("created_at"),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('requested','open','declined','closed')",
                           name="ck_mentor_conversations_state"),
        sa.PrimaryKeyConstraint("id", name="pk_mentor_conversations"),
    )
    op.create_index("uq_mentor_conversations_pair", "mentor_conversations", ["mentor_id", "member_id"],
                    unique=True, postgresql_where=sa.text("state IN ('requested','open')"))
    op.create_table(
        "mentor_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("conversation_id", sa.BigInteger(),
                  sa.ForeignKey("mentor_conversations.id", ondelete="CASCADE",
                                name="fk_mentor_messages_conversation_id_mentor_conversations"), nullable=False),
        _user("author_id", nullable=True, ondelete="SET NULL", table="mentor_messages"),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), server_default="visible", nullable=False),
        _now("created_at"),
        sa.CheckConstraint("state IN ('visible','hidden','removed','pending')", name="ck_mentor_messages_state"),
        sa.PrimaryKeyConstraint("id", name="pk_mentor_messages"),
    )
    op.create_index("ix_mentor_messages_conversation_id", "mentor_messages", ["conversation_id", "id"])


def downgrade() -> None:
    for table in ("mentor_messages", "mentor_conversations", "mentor_bookings", "office_hours", "mentor_profiles",
                  "member_cards"):
        op.drop_table(table)
    op.execute("DROP SEQUENCE mentor_bookings_anon_id_seq")
    op.drop_column("room_participants", "entered")
    op.drop_column("rooms", "private")
