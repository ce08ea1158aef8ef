"""accounts: who made each member what they are, and admins' actions on admins waiting for a second admin

- `users.role_changed_at`, `users.role_changed_by`, `users.invited_by`: "two admins" must be two people, so a
  second admin may not have become one recently, nor be the first admin's creation (accounts.two_admins).
  Filled from invitations and from the audit log's role changes.
- `admin_approvals`: a new role, a suspension or a reset link for an admin, waiting for a second admin.
- `anon_restrictions.sealed_source`: the piece a restriction followed from, sealed, so that staff on that piece's
  page see that its writer is restricted (not who) and can lift it early.

Revision ID: 0016
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("users", sa.Column("role_changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                                     nullable=False))
    op.add_column("users", sa.Column("role_changed_by", sa.BigInteger(), nullable=True))
    op.add_column("users", sa.Column("invited_by", sa.BigInteger(), nullable=True))
    op.create_foreign_key(op.f("fk_users_role_changed_by_users"), "users", "users", ["role_changed_by"], ["id"])
    op.create_foreign_key(op.f("fk_users_invited_by_users"), "users", "users", ["invited_by"], ["id"])
    op.execute("UPDATE users SET role_changed_at = created_at")
    op.execute("""UPDATE users u SET invited_by = i.created_by, role_changed_by = i.created_by
                  FROM invitations i WHERE i.used_by = u.id""")
    op.execute("""UPDATE users u SET role_changed_at = a.at, role_changed_by = a.actor_id
                  FROM (SELECT DISTINCT ON (target_id) target_id, at, actor_id FROM audit_log
                         WHERE action = 'member.role' AND target_type = 'user' ORDER BY target_id, at DESC) a
                  WHERE a.target_id = u.id::text AND (a.actor_id IS NULL OR a.actor_id IN (SELECT id FROM users))""")
    op.create_table(
        "admin_approvals",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("target_id", sa.BigInteger(), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"),
                  nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.CheckConstraint("action IN ('role','suspend','reset-link')", name=op.f("ck_admin_approvals_action")),
        sa.CheckConstraint("decision IS NULL OR decision IN ('approved','declined')",
                           name=op.f("ck_admin_approvals_decision")),
        sa.ForeignKeyConstraint(["target_id"], ["users.id"], name=op.f("fk_admin_approvals_target_id_users")),
        sa.ForeignKeyConstraint(["requested_by"], ["users.id"], name=op.f("fk_admin_approvals_requested_by_users")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"], name=op.f("fk_admin_approvals_decided_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_approvals")),
    )
    op.create_index("ix_admin_approvals_target", "admin_approvals", ["target_id"])
    op.add_column("anon_restrictions", sa.Column("sealed_source", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("anon_restrictions", "sealed_source")
    op.drop_table("admin_approvals")
    op.drop_constraint(op.f("fk_users_invited_by_users"), "users", type_="foreignkey")
    op.drop_constraint(op.f("fk_users_role_changed_by_users"), "users", type_="foreignkey")
    op.drop_column("users", "invited_by")
    op.drop_column("users", "role_changed_by")
    op.drop_column("users", "role_changed_at")
