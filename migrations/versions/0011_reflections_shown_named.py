"""reflections: remember that a piece was ever shown under its writer's name

A piece that readers have seen under a name cannot become anonymous later: they already know who wrote it, and
the notifications and replies they got still say so. The app refuses that change and offers deletion instead;
`shown_named` is what it checks, because a piece can be named, then private, then asked to go anonymous.
Every piece that is named now has been shown named.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("reflections", sa.Column("shown_named", sa.Boolean(), server_default="false", nullable=False))
    op.execute("UPDATE reflections SET shown_named = true WHERE visibility = 'named'")


def downgrade() -> None:
    op.drop_column("reflections", "shown_named")
