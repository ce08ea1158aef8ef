"""reflections: replies remember that they were edited

The writer of a reply on a shared reflection can now edit it; `edited_at` carries the "edited" mark. For
anonymous replies it holds the day only (like other times written about hidden authors).

Revision ID: 0006
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("reflection_replies", sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("reflection_replies", "edited_at")
