"""notifications: grouped rows (one per recipient, subject and kind while unread), mentions once per piece,
and members' opt-in to excerpts in notification mail

Revision ID: 0023
Revises: 0022
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("group_key", sa.String(80)))
    op.add_column("notifications", sa.Column("count", sa.Integer(), server_default="1", nullable=False))
    op.add_column("notifications", sa.Column("actor_ids", postgresql.ARRAY(sa.BigInteger()), server_default="{}",
                                             nullable=False))
    op.add_column("notifications", sa.Column("subject", sa.String(200)))
    op.add_column("notifications", sa.Column("event_ids", postgresql.ARRAY(sa.BigInteger()), server_default="{}",
                                             nullable=False))
    op.add_column("notifications", sa.Column("last_id", sa.BigInteger()))
    op.execute("UPDATE notifications SET last_id = id")
    op.alter_column("notifications", "last_id", nullable=False)
    # A row written without it (one event so far) takes its own id.
    op.execute("""CREATE FUNCTION notifications_last_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.last_id := coalesce(NEW.last_id, NEW.id);
  RETURN NEW;
END $$""")
    op.execute("CREATE TRIGGER notifications_last_id BEFORE INSERT ON notifications FOR EACH ROW "
               "EXECUTE FUNCTION notifications_last_id()")
    op.create_index("uq_notifications_group_member", "notifications", ["user_id", "group_key"], unique=True,
                    postgresql_where=sa.text("read_at IS NULL AND group_key IS NOT NULL AND user_id IS NOT NULL"))
    op.create_index("uq_notifications_group_tag", "notifications", ["recipient_tag", "group_key"], unique=True,
                    postgresql_where=sa.text("read_at IS NULL AND group_key IS NOT NULL "
                                             "AND recipient_tag IS NOT NULL"))
    op.create_table(
        "mentions",
        sa.Column("target_kind", sa.String(30), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_mentions_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("target_kind", "target_id", "user_id", name=op.f("pk_mentions")),
    )
    op.add_column("users", sa.Column("mail_excerpts", sa.Boolean(), server_default="false", nullable=False))


def downgrade() -> None:
    op.drop_column("users", "mail_excerpts")
    op.drop_table("mentions")
    op.drop_index("uq_notifications_group_tag", table_name="notifications")
    op.drop_index("uq_notifications_group_member", table_name="notifications")
    op.execute("DROP TRIGGER notifications_last_id ON notifications")
    op.execute("DROP FUNCTION notifications_last_id()")
    for column in ("last_id", "event_ids", "subject", "actor_ids", "count", "group_key"):
        op.drop_column("notifications", column)
