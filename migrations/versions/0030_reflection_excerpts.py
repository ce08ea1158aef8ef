"""reflections: the card's excerpt (the body's plain text, cut at 320 characters) stored when a piece is written,
so the wall and the journal read it instead of the body's Markdown and HTML, and parse nothing per request

Revision ID: 0030
Revises: 0029
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from community.platform.text import plain_text

revision: str = "0030"
down_revision: str | Sequence[str] | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXCERPT_CHARS = 320  # reflections.actions.EXCERPT_CHARS when this was written
BATCH = 2000


def upgrade() -> None:
    op.add_column("reflections", sa.Column("excerpt", sa.Text(), nullable=True))
    connection = op.get_bind()
    after = -(2**62)
    while True:  # once, at upgrade: the pieces written before excerpts were stored, a batch at a time
        rows = connection.execute(sa.text("SELECT id, body FROM reflections WHERE id > :after ORDER BY id LIMIT :n"),
                                  {"after": after, "n": BATCH}).all()
        if not rows:
            break
        connection.execute(sa.text("UPDATE reflections SET excerpt = :excerpt WHERE id = :id"),
                           [{"id": rid, "excerpt": plain_text(body, EXCERPT_CHARS)} for rid, body in rows])
        after = rows[-1][0]
    op.alter_column("reflections", "excerpt", nullable=False)


def downgrade() -> None:
    op.drop_column("reflections", "excerpt")
