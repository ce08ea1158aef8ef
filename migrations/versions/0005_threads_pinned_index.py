"""threads: a partial index for the pinned threads of a category

The first page of a category lists its pinned threads first. Without this index that part scanned every thread
of the category (few are pinned), so the page slowed down as the category grew (db.category.ratio_1m_10k).

Revision ID: 0005
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_threads_pinned_activity", "threads", ["category_id", "last_activity_at", "id"],
                    postgresql_where=sa.text("pinned"))


def downgrade() -> None:
    op.drop_index("ix_threads_pinned_activity", table_name="threads")
