"""review: urgent items reach a person (on-call hours, alerts, escalation, time to a human)

- `oncall_hours`: when each moderator is on call, in their own time zone (a weekday, a start minute and an end
  minute; an end at or before the start runs past midnight into the next day).
- `urgent_alerts`: one row per urgent review item, written when the item becomes urgent: who was told, when it
  escalated to every moderator and admin (set once, by an UPDATE ... WHERE escalated_at IS NULL, so several
  processes never escalate twice), and the first human action on it (acknowledge, claim or decision), for the
  time-to-a-human figures.

Revision ID: 0014
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0011"
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


def downgrade() -> None:
    op.drop_table("urgent_alerts")
    op.drop_table("oncall_hours")
