"""notifications: what a notification is about (target kind and id)

A notification's text is frozen when it is written (author name, thread title). With its target known, the list
and the unread count show it only while the recipient may still see that content (hidden, removed and
restored content; see actions.notifications.target_visible_sql).

Backfill: rows whose kind and link say unambiguously what they are about (thread mentions and replies linking
to /p/<post>, reflection replies linking to #reply-<id>) get that target, so older notifications about content
removed since stop showing its title too. Every other row keeps no target and shows as before.

Revision ID: 0008
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Kept as constants so that tests can run them on rows of their own.
BACKFILL = (
    r"""UPDATE notifications
           SET target_kind = 'post', target_id = substring(url FROM '^/p/([0-9]{1,18})$')::bigint
         WHERE target_kind IS NULL AND kind IN ('mention', 'reply') AND url ~ '^/p/[0-9]{1,18}$'""",
    r"""UPDATE notifications
           SET target_kind = 'reflection_reply', target_id = substring(url FROM '#reply-([0-9]{1,18})$')::bigint
         WHERE target_kind IS NULL AND kind = 'reflection_reply'
           AND url ~ '^/reflections/[0-9]{1,18}#reply-[0-9]{1,18}$'""",
)


def upgrade() -> None:
    op.add_column("notifications", sa.Column("target_kind", sa.String(length=30), nullable=True))
    op.add_column("notifications", sa.Column("target_id", sa.BigInteger(), nullable=True))
    op.create_check_constraint(op.f("ck_notifications_target_pair"), "notifications",
                               "(target_kind IS NULL) = (target_id IS NULL)")
    for statement in BACKFILL:
        op.execute(statement)


def downgrade() -> None:
    op.drop_constraint(op.f("ck_notifications_target_pair"), "notifications", type_="check")
    op.drop_column("notifications", "target_id")
    op.drop_column("notifications", "target_kind")
