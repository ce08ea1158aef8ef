"""rooms: a send is stored once per client id, and presence is a lease

`(room_id, participant_id, client_id)` is unique, so a client that resends a message it is not sure was
committed gets the original's seq back instead of a second copy. Earlier duplicates keep their rows (they were
shown); only the first keeps its client id.

`room_presence.expires_at`: a presence row counts only until its lease runs out; the process holding the socket
renews it, and any process deletes expired rows and tells the room.

Revision ID: 0019
Revises: 0018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("""
        UPDATE room_messages m SET client_id = NULL
         WHERE client_id IS NOT NULL AND EXISTS (
               SELECT 1 FROM room_messages o
                WHERE o.room_id = m.room_id AND o.participant_id = m.participant_id
                  AND o.client_id = m.client_id AND o.id < m.id)
    """)
    op.create_unique_constraint("uq_room_messages_client", "room_messages", ["room_id", "participant_id", "client_id"])
    op.add_column("room_presence", sa.Column("expires_at", sa.DateTime(timezone=True),
                                             server_default=sa.text("now() + interval '20 seconds'"), nullable=False))
    op.create_index("ix_room_presence_expires_at", "room_presence", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_room_presence_expires_at", table_name="room_presence")
    op.drop_column("room_presence", "expires_at")
    op.drop_constraint("uq_room_messages_client", "room_messages", type_="unique")
