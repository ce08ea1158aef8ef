"""accounts: sessions a member can see and end (device, last seen, staff idle limit), a chosen session length,
and the mark that says a burst of wrong passwords was mailed

Revision ID: 0026
Revises: 0025
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("device", sa.String(60), nullable=True))
    op.add_column("sessions", sa.Column("last_seen_at", sa.DateTime(timezone=True), server_default=sa.func.now(),
                                        nullable=False))
    op.add_column("sessions", sa.Column("idle_minutes", sa.SmallInteger(), nullable=True))
    op.add_column("users", sa.Column("session_hours", sa.SmallInteger(), nullable=True))
    op.add_column("users", sa.Column("signin_alert_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "signin_alert_at")
    op.drop_column("users", "session_hours")
    op.drop_column("sessions", "idle_minutes")
    op.drop_column("sessions", "last_seen_at")
    op.drop_column("sessions", "device")
