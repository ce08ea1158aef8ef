"""Members, invitations, sessions, one-time links and sign-in attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from community.platform.base import Base, created_at, pk

ROLES = ("resident", "attending", "moderator", "admin")
TRAINING_YEARS = tuple(f"PGY-{n}" for n in range(1, 8)) + ("attending",)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        Index("uq_users_email_lower", func.lower(text("email")), unique=True),
        CheckConstraint("role IN ('resident','attending','moderator','admin')", name="role"),
    )

    id: Mapped[int] = pk()
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    display_name: Mapped[str] = mapped_column(String(60), nullable=False)
    handle: Mapped[str] = mapped_column(String(30), nullable=False, unique=True)
    password_hash: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20), nullable=False, default="resident")
    specialty: Mapped[str | None] = mapped_column(String(80))
    training_year: Mapped[str | None] = mapped_column(String(20))
    pronouns: Mapped[str | None] = mapped_column(String(40))
    cohort: Mapped[str | None] = mapped_column(String(80))
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, server_default="UTC")
    guidelines_accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspended_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspended_reason: Mapped[str | None] = mapped_column(Text)
    silenced_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who gave the member their current role, and when (None: the command line or the first admin), and who
    # invited them: a second admin must not be the first one's creation (accounts.two_admins).
    role_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    role_changed_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    invited_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    # "Mark all as read" for notifications addressed to the member's tags: the newest notification id then.
    anon_read_upto: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Notification mail may quote a few lines of signed thread posts (never anonymous or private writing).
    mail_excerpts: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default="false")
    # How long the member's new sessions last, when they chose shorter than SESSION_DAYS (staff sessions are
    # capped by STAFF_SESSION_HOURS whatever this says).
    session_hours: Mapped[int | None] = mapped_column(SmallInteger)
    # When the member was last mailed about a burst of wrong passwords on their account (one mail per burst).
    signin_alert_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at()


class Invitation(Base):
    __tablename__ = "invitations"

    id: Mapped[int] = pk()
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    cohort: Mapped[str | None] = mapped_column(String(80))
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Invitations sent by mail: the address, and the outbox row whose status says queued, sent or failed.
    email: Mapped[str | None] = mapped_column(String(254))
    outbox_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("mail_outbox.id", ondelete="SET NULL"))


class Session(Base):
    __tablename__ = "sessions"

    id: Mapped[int] = pk()
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                                         index=True)
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What the account page shows: "Firefox on macOS" (from the User-Agent; the header itself is not kept), and
    # the last request, written at most every accounts.actions.SEEN_EVERY. A session with idle_minutes (staff)
    # ends that long after last_seen_at.
    device: Mapped[str | None] = mapped_column(String(60))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())
    idle_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    # Second factors (accounts.factors): a half-session after the password, before the second factor, reaches
    # only the second-factor page; `factor_at` is this session's last second-factor check (step-up: within
    # factors.STEP_UP_MINUTES for sensitive actions); `challenge` is the WebAuthn challenge it was last given.
    factor_pending: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    factor_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    challenge: Mapped[str | None] = mapped_column(String(128))
    challenge_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SecondFactor(Base):
    """A member's authenticator app (TOTP) or passkey / security key (WebAuthn).

    The TOTP secret is sealed (AES-GCM under a key derived from SECRET_KEY, security.seal_secret); `last_step`
    is the newest time-step accepted, so each code works once. A TOTP row without `confirmed_at` is an
    enrolment waiting for its first code and counts for nothing."""

    __tablename__ = "second_factors"
    __table_args__ = (
        CheckConstraint("kind IN ('totp','passkey')", name="kind"),
        Index("ix_second_factors_user", "user_id"),
    )

    id: Mapped[int] = pk()
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    label: Mapped[str] = mapped_column(String(60), nullable=False)
    sealed_secret: Mapped[str | None] = mapped_column(Text)
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    credential_id: Mapped[str | None] = mapped_column(String(1400), unique=True)
    public_key: Mapped[str | None] = mapped_column(Text)
    sign_count: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default="0")
    created_at: Mapped[datetime] = created_at()
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RecoveryCode(Base):
    """One-time recovery codes, stored as argon2 hashes; a used one keeps its row with `used_at`."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_user", "user_id"),)

    id: Mapped[int] = pk()
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    code_hash: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = created_at()
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OneTimeLink(Base):
    """Password-reset and first sign-in links: handed over by an admin (or the CLI), or sent by mail."""

    __tablename__ = "one_time_links"

    id: Mapped[int] = pk()
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    purpose: Mapped[str] = mapped_column(String(20), nullable=False)  # "reset" | "setup"
    created_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ResetRequest(Base):
    """"Forgot your password?" requests, counted per address and per client for rate limiting (kept a day)."""

    __tablename__ = "reset_requests"
    __table_args__ = (
        Index("ix_reset_requests_email_at", "email", "at"),
        Index("ix_reset_requests_client_at", "client", "at"),
    )

    id: Mapped[int] = pk()
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    client: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class LoginAttempt(Base):
    """Failed sign-ins, counted per account and per client for throttling."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_client_at", "client", "at"),
    )

    id: Mapped[int] = pk()
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    client: Mapped[str] = mapped_column(String(64), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class AnonRestriction(Base):
    """A silence or suspension that follows from a decision about anonymous writing.

    It is never written on the member's row (an admin would see who was sanctioned, and a database copy could
    match the row's transaction id with the decision's audit entry). Its `slot` is a keyed hash of the member
    and a number (Anonymity.restriction_slots): the app computes a member's slots when it loads them, but two
    restrictions of one member share no value, and a copy of the database cannot turn a slot into a member.
    Times are whole days; the reason is sealed.
    """

    __tablename__ = "anon_restrictions"
    __table_args__ = (CheckConstraint("kind IN ('silence','suspend')", name="kind"),)

    id: Mapped[int] = pk()
    slot: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # None: a suspension without end
    sealed_reason: Mapped[str | None] = mapped_column(Text)
    # The piece it followed from ("reflection:12"), sealed: staff of that piece's page see it and may lift it.
    sealed_source: Mapped[str | None] = mapped_column(Text)
    created_day: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class AdminApproval(Base):
    """An admin's action on another admin (a new role, a suspension, a reset link), waiting for a second admin.

    One admin alone could otherwise take over or remove the other admins, and so decide an unmasking alone."""

    __tablename__ = "admin_approvals"
    __table_args__ = (
        CheckConstraint("action IN ('role','suspend','reset-link')", name="action"),
        CheckConstraint("decision IS NULL OR decision IN ('approved','declined')", name="decision"),
        Index("ix_admin_approvals_target", "target_id"),
    )

    id: Mapped[int] = pk()
    action: Mapped[str] = mapped_column(String(12), nullable=False)
    target_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    requested_by: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id"), nullable=False)
    created_at: Mapped[datetime] = created_at()
    decided_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision: Mapped[str | None] = mapped_column(String(10))


class AnonScope(Base):
    """The keyring: one row per anonymous scope of a member (a reflection and its writer's replies in it, their
    replies in another's reflection, a room session), holding that scope's tag under a keyed slot.

    `slot` is a keyed hash of the member and a number (Anonymity.scope_slots): the app finds a member's tags by
    computing their slots (accounts.scopes), but no two rows of one member share a value, and a copy of the
    database cannot turn a slot into a member or tell that two rows have one.
    """

    __tablename__ = "anon_scopes"

    slot: Mapped[str] = mapped_column(String(64), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)


class AnonRekeyPending(Base):
    """A row here (written by migration 0018 when a database already held anonymous rows) says that those rows
    still carry member-wide tags: `community anonymity rekey` moves them to scoped tags and deletes it, and
    `community serve` refuses to start while it is here."""

    __tablename__ = "anon_rekey_pending"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
