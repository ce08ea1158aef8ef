"""threads: an index for the home page's recent threads (visible, not pinned, newest activity first across
categories), which read and sorted every thread

Revision ID: 0028
Revises: 0027
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0028"
down_revision: str | Sequence[str] | None = "0027"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_threads_recent_activity", "threads", ["last_activity_at", "id"],
                    postgresql_where=sa.text("state = 'visible' AND NOT pinned"))


def downgrade() -> None:
    op.drop_index("ix_threads_recent_activity", table_name="threads")
