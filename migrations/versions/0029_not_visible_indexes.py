"""posts, threads: partial indexes of what members may not see, so that search's visibility check of its hits
asks a small index instead of reading each hit's row

Revision ID: 0029
Revises: 0028
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0029"
down_revision: str | Sequence[str] | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_threads_not_visible", "threads", ["id"], postgresql_where=sa.text("state <> 'visible'"))
    op.create_index("ix_posts_not_visible", "posts", ["id"], postgresql_where=sa.text("state <> 'visible'"))


def downgrade() -> None:
    op.drop_index("ix_posts_not_visible", table_name="posts")
    op.drop_index("ix_threads_not_visible", table_name="threads")
