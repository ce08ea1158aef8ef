"""review: urgent items reach a person (on-call hours, alerts, escalation, time to a human)

- `oncall_hours`: when each moderator is on call, in their own time zone (a weekday, a start minute and an end
  minute; an end at or before the start runs past midnight into the next day).
- `urgent_alerts`: one row per urgent review item, written when the item becomes urgent: who was told, when it
  escalated to every moderator and admin (set once, by an UPDATE ... WHERE escalated_at IS NULL, so several
  processes never escalate twice), and the first human action on it (acknowledge, claim or decision), for the
  time-to-a-human figures.
- `checkins` and `checkin_messages`: a check-in (and a warning or silence) becomes a private conversation between
  its moderator and the writer; an anonymous writer is addressed only by a tag scoped to the piece.

Revision ID: 0017
Revises: 0016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oncall_hours",
        sa.Column("id", sa.BigInteger(), autoincrement=True, primary_key=True),
        sa.Column("user_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("weekday", sa.SmallInteger(), nullable=False),
        sa.Column("start_minute", sa.SmallInteger(), nullable=False),
        sa.Column("end_minute", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="ck_oncall_hours_weekday"),
        sa.CheckConstraint("start_minute BETWEEN 0 AND 1439 AND end_minute BETWEEN 0 AND 1440 "
                           "AND start_minute <> end_minute", name="ck_oncall_hours_minutes"),
        sa.UniqueConstraint("user_id", "weekday", name="uq_oncall_hours_day"),
    )
    op.create_table(
        "urgent_alerts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, primary_key=True),
        sa.Column("item_id", sa.BigInteger(), sa.ForeignKey("review_items.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("raised_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("notified", postgresql.ARRAY(sa.BigInteger()), server_default="{}", nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True)),
        sa.Column("first_action_at", sa.DateTime(timezone=True)),
        sa.Column("first_action_by", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("first_action", sa.String(30)),
    )
    op.create_index("ix_urgent_alerts_waiting", "urgent_alerts", ["raised_at"],
                    postgresql_where=sa.text("escalated_at IS NULL"))
    op.create_index("ix_urgent_alerts_raised", "urgent_alerts", ["raised_at"])
    op.create_table(
        "checkins",
        sa.Column("id", sa.BigInteger(), autoincrement=True, primary_key=True),
        sa.Column("target_kind", sa.String(30), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("writer_label", sa.String(80), nullable=False),
        sa.Column("moderator_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("writer_id", sa.BigInteger(), sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column("writer_tag", sa.String(64)),
        sa.Column("opened_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_by", sa.String(20)),
        sa.CheckConstraint("(writer_id IS NULL) <> (writer_tag IS NULL)", name="ck_checkins_one_address"),
    )
    op.create_index("ix_checkins_moderator", "checkins", ["moderator_id", "opened_at"])
    op.create_index("ix_checkins_writer", "checkins", ["writer_id"], postgresql_where=sa.text("writer_id IS NOT NULL"))
    op.create_table(
        "checkin_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=True, primary_key=True),
        sa.Column("checkin_id", sa.BigInteger(), sa.ForeignKey("checkins.id", ondelete="CASCADE"), nullable=False),
        sa.Column("from_writer", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.create_index("ix_checkin_messages_checkin", "checkin_messages", ["checkin_id", "id"])


def downgrade() -> None:
    op.drop_table("checkin_messages")
    op.drop_table("checkins")
    op.drop_table("urgent_alerts")
    op.drop_table("oncall_hours")
