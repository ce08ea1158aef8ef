"""anonymity: restrictions from decisions about anonymous writing, and a read watermark for tag notifications

- `anon_restrictions`: a silence or suspension over anonymous writing, stored under a keyed slot instead of on
  the member's row (where an admin saw it, and whose transaction id matched the decision's audit entry).
- `users.anon_read_upto`: "mark all as read" moves this watermark instead of writing the member's timestamp
  onto the rows addressed to their tag.

Rows already written on `users` by earlier anonymous decisions cannot be told apart from signed ones, and stay.

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("anon_read_upto", sa.BigInteger(), server_default="0", nullable=False))
    op.create_table(
        "anon_restrictions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("slot", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True)),
        sa.Column("sealed_reason", sa.Text()),
        sa.Column("created_day", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('silence','suspend')", name=op.f("ck_anon_restrictions_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anon_restrictions")),
        sa.UniqueConstraint("slot", name=op.f("uq_anon_restrictions_slot")),
    )


def downgrade() -> None:
    op.drop_table("anon_restrictions")
    op.drop_column("users", "anon_read_upto")
