"""review: urgent alerts are emailed through the outbox; who has been mailed about each alert

Revision ID: 0021
Revises: 0020
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("urgent_alerts", sa.Column("mailed", postgresql.ARRAY(sa.BigInteger()), server_default="{}",
                                             nullable=False))
    op.add_column("urgent_alerts", sa.Column("escalated_mailed", sa.Boolean(), server_default="false",
                                             nullable=False))


def downgrade() -> None:
    op.drop_column("urgent_alerts", "escalated_mailed")
    op.drop_column("urgent_alerts", "mailed")
