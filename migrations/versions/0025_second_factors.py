"""accounts: second factors (TOTP, passkeys), recovery codes, and what a session knows of them

- `second_factors`: a member's authenticator app (the TOTP secret sealed, the last accepted time-step so each
  code works once) or passkey / security key (WebAuthn credential id, public key, signature counter).
- `recovery_codes`: one-time codes, argon2 hashes.
- `sessions.factor_pending`: a half-session (password given, second factor not yet); `sessions.factor_at`: the
  session's last second-factor check (step-up); `sessions.challenge`: the WebAuthn challenge it was last given.
- A trigger tells the viewer cache (`viewer_changes`, 'u:<member>') when a member's factors change: the loaded
  viewer says whether the member has one.

Revision ID: 0025
Revises: 0024
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "second_factors",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("sealed_secret", sa.Text(), nullable=True),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.Column("credential_id", sa.String(length=1400), nullable=True),
        sa.Column("public_key", sa.Text(), nullable=True),
        sa.Column("sign_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("kind IN ('totp','passkey')", name=op.f("ck_second_factors_kind")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_second_factors_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_second_factors")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_second_factors_credential_id")),
    )
    op.create_index("ix_second_factors_user", "second_factors", ["user_id"])
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("code_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_recovery_codes_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
    )
    op.create_index("ix_recovery_codes_user", "recovery_codes", ["user_id"])
    op.add_column("sessions", sa.Column("factor_pending", sa.Boolean(), server_default=sa.text("false"),
                                        nullable=False))
    op.add_column("sessions", sa.Column("factor_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("sessions", sa.Column("challenge", sa.String(length=128), nullable=True))
    op.add_column("sessions", sa.Column("challenge_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("""CREATE FUNCTION viewer_changes_from_second_factors() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('viewer_changes', 'u:' || CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END);
  RETURN NULL;
END $$""")
    op.execute("""CREATE TRIGGER second_factors_viewer_changes AFTER INSERT OR UPDATE OR DELETE ON second_factors
  FOR EACH ROW EXECUTE FUNCTION viewer_changes_from_second_factors()""")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS second_factors_viewer_changes ON second_factors")
    op.execute("DROP FUNCTION IF EXISTS viewer_changes_from_second_factors()")
    op.drop_column("sessions", "challenge_at")
    op.drop_column("sessions", "challenge")
    op.drop_column("sessions", "factor_at")
    op.drop_column("sessions", "factor_pending")
    op.drop_index("ix_recovery_codes_user", table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_index("ix_second_factors_user", table_name="second_factors")
    op.drop_table("second_factors")
