"""anonymity: a tag per scope, a keyring to find them, sequences of their own and whole days on anonymous rows

- `anon_scopes(slot, tag)`: the keyring. Each anonymous scope of a member (a reflection and its writer's replies
  in it, a member's replies in another's reflection, a room session) has its own tag; the app finds a member's
  tags by computing their slots (keyed hashes of the member and a number, Anonymity.scope_slots). No two rows of
  one member share a value, and a copy of the database cannot turn a slot into a member.
- Sequences of their own for private and anonymous reflections, anonymous replies and tag-addressed notifications,
  starting at 10^11, so that their ids do not interleave with signed activity.
- `reflection_replies.position`: a reply's place in its thread (replies were ordered by id, which no longer says
  anything about anonymous replies' order).
- Times on private and anonymous reflections, anonymous replies and tag-addressed notifications are cut to the day.
- The wall is ordered by (created_at, id).

Existing rows still carry member-wide tags: the tags are keyed hashes, and a migration has no key. When there are
any, `anon_rekey_pending` gets a row, `community serve` refuses to start until `community anonymity rekey` (which
reads ANON_KEY) has moved them to scoped tags and filled the keyring. Their ids stay as they are.

Revision ID: 0018
Revises: 0017
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQUENCES = ("reflections_anon_id_seq", "reflection_replies_anon_id_seq", "notifications_anon_id_seq")
ANON_IDS_START = 10**11

DAY = "date_trunc('day', {column} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"


def _to_the_day(table: str, where: str, *columns: str) -> str:
    sets = ", ".join(f"{c} = {DAY.format(column=c)}" for c in columns)
    return f"UPDATE {table} SET {sets} WHERE {where}"


# What existing rows need, after the schema change (tests/anonymity/test_scopes.py runs these on older rows).
DATA = [
    """INSERT INTO anon_rekey_pending (id) SELECT 1 WHERE (
        EXISTS (SELECT 1 FROM reflections WHERE author_tag IS NOT NULL)
        OR EXISTS (SELECT 1 FROM reflection_replies WHERE author_tag IS NOT NULL)
        OR EXISTS (SELECT 1 FROM reflection_reactions)
        OR EXISTS (SELECT 1 FROM notifications WHERE recipient_tag IS NOT NULL)
        OR EXISTS (SELECT 1 FROM room_participants WHERE notify_tag IS NOT NULL))
      ON CONFLICT DO NOTHING""",
    """UPDATE reflection_replies x SET position = o.n FROM (
        SELECT id, row_number() OVER (PARTITION BY reflection_id ORDER BY id) AS n FROM reflection_replies) o
        WHERE o.id = x.id""",
    _to_the_day("reflections", "visibility <> 'named'", "created_at", "updated_at"),
    _to_the_day("reflection_replies", "author_id IS NULL", "created_at"),
    _to_the_day("notifications", "recipient_tag IS NOT NULL", "created_at"),
]


def upgrade() -> None:
    op.create_table(
        "anon_scopes",
        sa.Column("slot", sa.String(64), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_anon_scopes")),
        sa.UniqueConstraint("tag", name=op.f("uq_anon_scopes_tag")),
    )
    op.create_table("anon_rekey_pending", sa.Column("id", sa.SmallInteger(), nullable=False),
                    sa.PrimaryKeyConstraint("id", name=op.f("pk_anon_rekey_pending")))
    for name in SEQUENCES:
        op.execute(f"CREATE SEQUENCE {name} AS bigint START WITH {ANON_IDS_START}")
    op.add_column("reflection_replies", sa.Column("position", sa.BigInteger(), server_default="0", nullable=False))
    op.create_index("ix_reflection_replies_position", "reflection_replies", ["reflection_id", "position", "id"])
    for statement in DATA:
        op.execute(statement)
    op.drop_index("ix_reflections_wall", table_name="reflections")
    op.create_index("ix_reflections_wall", "reflections", ["created_at", "id"],
                    postgresql_where=sa.text("visibility IN ('anonymous','named') AND state = 'visible'"))


def downgrade() -> None:
    op.drop_index("ix_reflections_wall", table_name="reflections")
    op.create_index("ix_reflections_wall", "reflections", ["id"],
                    postgresql_where=sa.text("visibility IN ('anonymous','named') AND state = 'visible'"))
    op.drop_index("ix_reflection_replies_position", table_name="reflection_replies")
    op.drop_column("reflection_replies", "position")
    for name in SEQUENCES:
        op.execute(f"DROP SEQUENCE {name}")
    op.drop_table("anon_rekey_pending")
    op.drop_table("anon_scopes")
