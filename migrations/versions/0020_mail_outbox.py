"""mail: the transactional outbox, password-reset requests, invitations by mail

- `mail_outbox`: one row per email, written in the same transaction as the event that caused it; the sender
  (community.platform.mail.sender) works it. A statement-level trigger sends NOTIFY `mail_outbox` on insert, so
  the sender wakes at once after the commit (and never for a rolled-back insert).
- `reset_requests`: "forgot your password?" requests, for the per-address and per-client rate limit.
- `invitations.email` and `invitations.outbox_id`: an invitation sent by mail, and the message that carries it.
- `mail_outbox.attachments`: files sent with a message (a session's .ics).
- `room_follows` and `calendar_feeds`: members follow scheduled sessions (a reminder by mail before each) and
  have a private, revocable calendar feed of them; `host_follows` and `room_announcements`: members follow a host,
  and each new session of theirs is announced once.
- `mail_preferences` (per member, per kind: immediately / daily / weekly / off) and `mail_digest_state` (how far
  notification email has read each member's notifications, and when their digests went).

Revision ID: 0020
Revises: 0019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("to_addr", sa.String(length=254), nullable=False),
        sa.Column("template", sa.String(length=60), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("headers", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("status", sa.String(length=10), server_default="queued", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued','sent','dead')", name=op.f("ck_mail_outbox_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_mail_outbox_message_id")),
    )
    op.create_index("ix_mail_outbox_due", "mail_outbox", ["next_attempt_at"],
                    postgresql_where=sa.text("status = 'queued'"))
    op.create_index("ix_mail_outbox_created", "mail_outbox", ["created_at"])
    op.execute("""CREATE FUNCTION mail_outbox_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mail_outbox', '');
  RETURN NULL;
END $$""")
    op.execute("CREATE TRIGGER mail_outbox_wake AFTER INSERT ON mail_outbox "
               "FOR EACH STATEMENT EXECUTE FUNCTION mail_outbox_wake()")

    op.create_table(
        "reset_requests",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reset_requests")),
    )
    op.create_index("ix_reset_requests_email_at", "reset_requests", ["email", "at"])
    op.create_index("ix_reset_requests_client_at", "reset_requests", ["client", "at"])

    op.add_column("invitations", sa.Column("email", sa.String(length=254), nullable=True))
    op.add_column("invitations", sa.Column("outbox_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f("fk_invitations_outbox_id_mail_outbox"), "invitations", "mail_outbox",
                          ["outbox_id"], ["id"], ondelete="SET NULL")

    op.create_table(
        "mail_preferences",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("frequency", sa.String(length=12), nullable=False),
        sa.CheckConstraint("frequency IN ('immediately','daily','weekly','off')",
                           name=op.f("ck_mail_preferences_frequency")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_mail_preferences_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_mail_preferences")),
    )
    op.create_table(
        "mail_digest_state",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("immediate_through", sa.BigInteger(), nullable=False),
        sa.Column("daily_through", sa.BigInteger(), nullable=False),
        sa.Column("weekly_through", sa.BigInteger(), nullable=False),
        sa.Column("tag_through", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("daily_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("weekly_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_mail_digest_state_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_mail_digest_state")),
    )

    op.add_column("mail_outbox", sa.Column("attachments", postgresql.JSONB(astext_type=sa.Text()),
                                           server_default=sa.text("'[]'::jsonb"), nullable=False))
    op.create_table(
        "room_follows",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("room_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_room_follows_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_room_follows_room_id_rooms"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "room_id", name=op.f("pk_room_follows")),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_calendar_feeds_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feeds_token_hash")),
    )

    op.create_table(
        "host_follows",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("host_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_host_follows_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["host_id"], ["users.id"], name=op.f("fk_host_follows_host_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", "host_id", name=op.f("pk_host_follows")),
    )
    op.create_table(
        "room_announcements",
        sa.Column("room_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["room_id"], ["rooms.id"], name=op.f("fk_room_announcements_room_id_rooms"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("room_id", name=op.f("pk_room_announcements")),
    )


def downgrade() -> None:
    op.drop_table("room_announcements")
    op.drop_table("host_follows")
    op.drop_table("calendar_feeds")
    op.drop_table("room_follows")
    op.drop_column("mail_outbox", "attachments")
    op.drop_table("mail_digest_state")
    op.drop_table("mail_preferences")
    op.drop_constraint(op.f("fk_invitations_outbox_id_mail_outbox"), "invitations", type_="foreignkey")
    op.drop_column("invitations", "outbox_id")
    op.drop_column("invitations", "email")
    op.drop_index("ix_reset_requests_client_at", table_name="reset_requests")
    op.drop_index("ix_reset_requests_email_at", table_name="reset_requests")
    op.drop_table("reset_requests")
    op.execute("DROP TRIGGER mail_outbox_wake ON mail_outbox")
    op.execute("DROP FUNCTION mail_outbox_wake()")
    op.drop_index("ix_mail_outbox_created", table_name="mail_outbox")
    op.drop_index("ix_mail_outbox_due", table_name="mail_outbox")
    op.drop_table("mail_outbox")
