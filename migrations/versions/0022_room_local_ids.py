"""rooms: room-local participant ids for frames, a sequence of their own and whole days for anonymous participants

- `room_participants.local_id`: the id a room's frames, presence lists, moderation frames and pages use for a
  participant. Random, unique within its room, so it says nothing of when someone joined or of any row elsewhere;
  the row's own id never leaves the server.
- Anonymous participants take ids from `room_participants_anon_id_seq` (from 10^11), so that their ids do not
  interleave with signed joins, and their `accepted_rules_at` keeps only the day.

Revision ID: 0022
Revises: 0021
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ANON_IDS_START = 10**11
LOCAL_IDS = 2**31 - 1  # room_participants.local_id is in [1, LOCAL_IDS]: an int a path id and JavaScript both take


def upgrade() -> None:
    op.add_column("room_participants", sa.Column("local_id", sa.BigInteger(), nullable=True))
    # Existing rows: a random number each, drawn again where two of one room collide (vanishingly rare).
    op.execute(f"UPDATE room_participants SET local_id = 1 + floor(random() * {LOCAL_IDS})::bigint")
    op.execute(f"""
        WITH dup AS (SELECT id, row_number() OVER (PARTITION BY room_id, local_id ORDER BY id) AS n
                       FROM room_participants)
        UPDATE room_participants p SET local_id = {LOCAL_IDS} + p.id FROM dup WHERE dup.id = p.id AND dup.n > 1""")
    op.alter_column("room_participants", "local_id", nullable=False)
    op.create_unique_constraint("uq_room_participants_local_id", "room_participants", ["room_id", "local_id"])
    op.execute(f"CREATE SEQUENCE room_participants_anon_id_seq AS bigint START WITH {ANON_IDS_START}")
    op.execute("""UPDATE room_participants
                     SET accepted_rules_at = date_trunc('day', accepted_rules_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                   WHERE anonymous""")


def downgrade() -> None:
    op.execute("DROP SEQUENCE room_participants_anon_id_seq")
    op.drop_constraint("uq_room_participants_local_id", "room_participants", type_="unique")
    op.drop_column("room_participants", "local_id")
