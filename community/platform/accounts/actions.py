"""Accounts: invitations, registration, sign-in with throttling, sessions, one-time links, roles."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts import restrictions, scopes
from community.platform.accounts.devices import device_label
from community.platform.accounts.models import (
    ROLES,
    TRAINING_YEARS,
    Invitation,
    LoginAttempt,
    OneTimeLink,
    ResetRequest,
    SecondFactor,
    Session,
    User,
)
from community.platform.accounts.security import Passwords, new_token, password_problem, token_hash
from community.platform.errors import Forbidden, Invalid, NotFound, RateLimited, minutes_phrase
from community.platform.mail.outbox import Outbox
from community.platform.notify.notifications import target_visible_sql, visible_clause
from community.platform.review import audit
from community.platform.review.models import Notification
from community.platform.viewer import Viewer
from community.settings import Settings

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,185}\.[^@\s.]{2,}$")
CLIENT_FAILURE_FACTOR = 4  # a client (IP) may fail this many times more than one account
ACCOUNT_DELAY_CAP = 60  # seconds: the longest an account's escalating sign-in delay grows


def now() -> datetime:
    return datetime.now(UTC)


# ---- validation -------------------------------------------------------------------------------------------

def check_display_name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise Invalid(fields={"display_name": "Please enter a display name."})
    if len(value) > 60:
        raise Invalid(fields={"display_name": "Use at most 60 characters."})
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise Invalid(fields={"display_name": "The name contains characters that cannot be shown."})
    return value


def check_email(value: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid(fields={"email": "Please enter your email address."})
    if len(value) > 254 or not EMAIL_RE.match(value):
        raise Invalid(fields={"email": "This does not look like an email address."})
    return value


def check_role(value: str) -> str:
    if value not in ROLES:
        raise Invalid(fields={"role": "Choose one of: " + ", ".join(ROLES) + "."})
    return value


def check_optional(value: str, field: str, limit: int) -> str | None:
    value = " ".join(value.split())
    if len(value) > limit:
        raise Invalid(fields={field: f"Use at most {limit} characters."})
    return value or None


def check_training_year(value: str) -> str | None:
    value = value.strip()
    if value and value not in TRAINING_YEARS:
        raise Invalid(fields={"training_year": "Choose PGY-1 to PGY-7 or attending."})
    return value or None


def check_reason(value: str, *, required: bool = True) -> str | None:
    value = value.strip()
    if required and not value:
        raise Invalid(fields={"reason": "Please give a reason; it is kept in the audit log."})
    if len(value) > 1000:
        raise Invalid(fields={"reason": "Use at most 1,000 characters."})
    return value or None


def _handle_base(display_name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:24]
    return base if len(base) >= 2 else "member"


async def _unique_handle(session: AsyncSession, display_name: str) -> str:
    base = _handle_base(display_name)
    taken = set((await session.scalars(select(User.handle).where(User.handle.like(f"{base}%")))).all())
    if base not in taken:
        return base
    n = 2
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def to_viewer(user: User, session_id: int | None = None, unread: int = 0) -> Viewer:
    return Viewer(id=user.id, display_name=user.display_name, handle=user.handle, role=user.role,
                  email=user.email, timezone=user.timezone, session_id=session_id,
                  silenced_until=user.silenced_until, created_at=user.created_at, unread=unread)


# ---- invitations -------------------------------------------------------------------------------------------

def require_staff(actor: Viewer | None) -> Viewer:
    if actor is None or not actor.is_moderator:
        raise Forbidden("Only moderators and admins can do this.")
    return actor


def require_admin(actor: Viewer | None) -> Viewer:
    if actor is None or not actor.is_admin:
        raise Forbidden("Only admins can do this.")
    return actor


async def create_invitation(session: AsyncSession, actor: Viewer | None, *, role: str, cohort: str = "",
                            note: str = "", days: int = 7) -> tuple[Invitation, str]:
    """Returns the invitation and its token; only the token's hash is stored."""
    if actor is not None:
        require_staff(actor)
    role = check_role(role)
    if actor is not None and not actor.is_admin and role in ("moderator", "admin"):
        raise Forbidden("Only admins can invite moderators and admins.")
    if not 1 <= days <= 90:
        raise Invalid(fields={"days": "Choose between 1 and 90 days."})
    token = new_token()
    invitation = Invitation(token_hash=token_hash(token), role=role, cohort=check_optional(cohort, "cohort", 80),
                            note=check_optional(note, "note", 200), created_by=actor.id if actor else None,
                            expires_at=now() + timedelta(days=days))
    session.add(invitation)
    await session.flush()
    await audit.record(session, actor, "invitation.create", target_type="invitation", target_id=invitation.id,
                       target_label=f"{role}{' · ' + invitation.cohort if invitation.cohort else ''}",
                       details={"role": role, "days": days})
    return invitation, token


def invitation_state(invitation: Invitation, at: datetime | None = None) -> str:
    at = at or now()
    if invitation.revoked_at:
        return "revoked"
    if invitation.used_at:
        return "used"
    if invitation.expires_at <= at:
        return "expired"
    return "open"


async def list_invitations(session: AsyncSession, actor: Viewer, limit: int = 200) -> list[Invitation]:
    require_staff(actor)
    rows = await session.scalars(select(Invitation).order_by(Invitation.created_at.desc()).limit(limit))
    return list(rows)


async def revoke_invitation(session: AsyncSession, actor: Viewer, invitation_id: int) -> None:
    require_staff(actor)
    invitation = await session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound("No such invitation.")
    if not actor.is_admin and invitation.role in ("moderator", "admin"):  # the rule create_invitation applies
        raise Forbidden("Only admins can revoke invitations for moderators and admins.")
    if invitation_state(invitation) != "open":
        raise Invalid(f"This invitation is already {invitation_state(invitation)}.")
    invitation.revoked_at = now()
    await audit.record(session, actor, "invitation.revoke", target_type="invitation", target_id=invitation.id)


async def access_invitation(session: AsyncSession, token: str, *, lock: bool = False) -> Invitation:
    """Loads an invitation by its token or explains why it cannot be used."""
    query = select(Invitation).where(Invitation.token_hash == token_hash(token))
    if lock:
        query = query.with_for_update()
    invitation = (await session.scalars(query)).first()
    if invitation is None:
        raise NotFound("This invitation link is not valid. Please ask for a new one.")
    state = invitation_state(invitation)
    messages = {
        "revoked": "This invitation was withdrawn. Please ask the person who invited you for a new one.",
        "used": "This invitation has already been used. Each link works once; please sign in instead.",
        "expired": "This invitation has expired. Please ask for a new one.",
    }
    if state in messages:
        raise Invalid(messages[state])
    return invitation


async def register(session: AsyncSession, passwords: Passwords, *, token: str, display_name: str, email: str,
                   password: str, accept: bool) -> User:
    errors: dict[str, str] = {}
    invitation = await access_invitation(session, token, lock=True)
    for check in (lambda: check_display_name(display_name), lambda: check_email(email)):
        try:
            check()
        except Invalid as exc:
            errors.update(exc.fields)
    problem = password_problem(password, email=email, display_name=display_name)
    if problem:
        errors["password"] = problem
    if not accept:
        errors["accept"] = "Please read and accept the community guidelines."
    if not errors.get("email"):
        exists = await session.scalar(select(User.id).where(func.lower(User.email) == email.strip().lower()))
        if exists:
            errors["email"] = "An account with this email already exists. Try signing in."
    if errors:
        raise Invalid(fields=errors)
    name = check_display_name(display_name)
    user = User(email=check_email(email), display_name=name, handle=await _unique_handle(session, name),
                password_hash=passwords.hash(password), role=invitation.role, cohort=invitation.cohort,
                guidelines_accepted_at=now(), password_changed_at=now(), invited_by=invitation.created_by,
                role_changed_by=invitation.created_by)
    session.add(user)
    await session.flush()
    invitation.used_at = now()
    invitation.used_by = user.id
    await audit.record(session, None, "member.register", target_type="user", target_id=user.id,
                       target_label=user.display_name, details={"invitation": invitation.id, "role": user.role})
    return user


# ---- sign-in ------------------------------------------------------------------------------------------------

def account_delay(failures: int, free: int) -> int:
    """Seconds a client that has failed must wait after an account's last failure, once the account has failed
    `free` times in the window: 2, then doubling, up to ACCOUNT_DELAY_CAP. A delay, never a lock: whoever knows an
    email can slow guesses at it, not keep its member out."""
    if failures < free:
        return 0
    return min(ACCOUNT_DELAY_CAP, 2 ** min(failures - free + 1, 16))


async def check_throttle(session: AsyncSession, settings: Settings, email: str, client: str) -> None:
    """Two brakes on guessing. Per client (the peer's address, or X-Forwarded-For from a trusted proxy only):
    `login_max_failures` x CLIENT_FAILURE_FACTOR failures in the window, then it waits the window out. Per account:
    an escalating delay after its last failure, for clients that have failed in the window; a client that never
    failed is not delayed, so the right password from the member's own browser still signs in."""
    window_start = now() - timedelta(minutes=settings.login_window_minutes)
    email = email.strip().lower()[:254]
    row = (await session.execute(select(
        func.count().filter(LoginAttempt.email == email),
        func.max(LoginAttempt.at).filter(LoginAttempt.email == email),
        func.count().filter(LoginAttempt.client == client),
        func.min(LoginAttempt.at).filter(LoginAttempt.client == client),
    ).where(LoginAttempt.at > window_start, or_(LoginAttempt.email == email, LoginAttempt.client == client)))).one()
    by_email, last_email, by_client, first_client = row
    limit = settings.login_max_failures
    if by_client >= limit * CLIENT_FAILURE_FACTOR:
        wait = int((first_client + timedelta(minutes=settings.login_window_minutes) - now()).total_seconds()) + 1
        raise RateLimited(f"Too many failed sign-in attempts. Please try again in {minutes_phrase(wait)}.", wait)
    delay = account_delay(by_email, limit)
    if by_client and delay and last_email is not None:
        wait = (last_email + timedelta(seconds=delay) - now()).total_seconds()
        if wait > 0:
            raise RateLimited(f"Too many failed sign-in attempts for this account. Please try again in "
                              f"{int(wait) + 1} seconds.", int(wait) + 1)


async def record_failure(session: AsyncSession, outbox: Outbox, settings: Settings, email: str,
                         client: str) -> None:
    """Records a wrong password; the failure that brings the account's delay on may also mail its member."""
    key = email.strip().lower()[:254]
    session.add(LoginAttempt(email=key, client=client[:64]))
    await session.flush()
    await alert_on_burst(session, outbox, settings, key)


# The start of the account's current burst of failures: its latest failure that no other failure preceded by
# less than the window (a burst ends when the account has been quiet for a whole window).
BURST_START_SQL = text("""
SELECT max(a.at) FROM login_attempts a
WHERE a.email = :email AND NOT EXISTS (
  SELECT 1 FROM login_attempts b
  WHERE b.email = :email AND b.at < a.at AND b.at >= a.at - make_interval(mins => :minutes))
""")


async def alert_on_burst(session: AsyncSession, outbox: Outbox, settings: Settings, key: str) -> bool:
    """Mails the member once per burst of wrong passwords on their account, when the burst reaches
    `login_max_failures` (where the delay starts). The mail says the account is not locked and what to do; it
    names no address or client. True when it was queued."""
    window = timedelta(minutes=settings.login_window_minutes)
    failures = await session.scalar(select(func.count()).where(LoginAttempt.email == key,
                                                               LoginAttempt.at > now() - window)) or 0
    if failures < settings.login_max_failures:
        return False
    user = (await session.scalars(select(User).where(func.lower(User.email) == key, User.deleted_at.is_(None))
                                  .with_for_update())).first()
    if user is None:
        return False
    started = await session.scalar(BURST_START_SQL, {"email": key, "minutes": settings.login_window_minutes})
    if user.signin_alert_at is not None and (started is None or user.signin_alert_at >= started):
        return False
    user.signin_alert_at = func.now()  # the database's clock, as login_attempts.at uses
    await outbox.enqueue(session, to=user.email, template="signin_failures",
                         context={"name": user.display_name, "failures": failures,
                                  "minutes": settings.login_window_minutes,
                                  "password_url": f"{settings.base_url}/account/password",
                                  "sessions_url": f"{settings.base_url}/account/sessions",
                                  "forgot_url": f"{settings.base_url}/forgot"})
    return True


async def authenticate(session: AsyncSession, passwords: Passwords, settings: Settings, *, email: str,
                       password: str, client: str) -> User:
    """Checks the throttle first, so a throttled client learns nothing about the password.

    On a wrong password this raises Invalid and the caller must call `record_failure` in a new transaction.
    """
    await check_throttle(session, settings, email, client)
    user = (await session.scalars(select(User).where(func.lower(User.email) == email.strip().lower(),
                                                      User.deleted_at.is_(None)))).first()
    # Verify whether or not the account exists (a dummy hash for an unknown email), so the time taken does not
    # tell who is a member: membership of this community is itself sensitive.
    verified = passwords.verify(user.password_hash if user is not None else None, password[:1024])
    if user is None or not verified:
        # The caller records the failure in its own transaction: this one is rolled back by the raise.
        raise Invalid("That email and password do not match an account.",
                      fields={"password": "That email and password do not match an account."})
    if is_suspended(user):
        raise Forbidden(suspension_message(user))
    # Only this client's failures on the account are forgiven: someone else's guesses keep their brakes.
    await session.execute(delete(LoginAttempt).where(LoginAttempt.email == user.email.lower(),
                                                     LoginAttempt.client == client[:64]))
    return user


def is_suspended(user: User, at: datetime | None = None) -> bool:
    if user.suspended_at is None:
        return False
    return user.suspended_until is None or user.suspended_until > (at or now())


def suspension_message(user: User) -> str:
    until = f" until {user.suspended_until:%d %B %Y}" if user.suspended_until else ""
    return f"This account is suspended{until}. Reason given: {user.suspended_reason or 'not stated'}."


# last_seen_at is written at most this often (not on every request), so a staff session's idle limit holds to
# within it: the session ends between STAFF_IDLE_MINUTES minus this and STAFF_IDLE_MINUTES after its last request.
SEEN_EVERY = timedelta(minutes=2)
# What a member may choose for their sessions on the account page, in hours (None: SESSION_DAYS).
SESSION_CHOICES: tuple[tuple[int | None, str], ...] = ((None, "the usual length"), (168, "7 days"),
                                                       (24, "1 day"), (8, "8 hours"))


@dataclass(frozen=True)
class SessionTerms:
    """How long a new session lasts, and after how long without a request it ends (None: no idle limit)."""

    lifetime: timedelta
    idle_minutes: int | None


def session_terms(settings: Settings, role: str, chosen_hours: int | None) -> SessionTerms:
    """Staff (ASVS L2 3.3.2): at most STAFF_SESSION_HOURS, and STAFF_IDLE_MINUTES idle. Members: SESSION_DAYS,
    or the shorter length they chose."""
    chosen = timedelta(hours=chosen_hours) if chosen_hours else None
    if role in ("moderator", "admin"):
        lifetime = timedelta(hours=settings.staff_session_hours)
        return SessionTerms(min(lifetime, chosen) if chosen else lifetime, settings.staff_idle_minutes)
    lifetime = timedelta(days=settings.session_days)
    return SessionTerms(min(lifetime, chosen) if chosen else lifetime, None)


async def create_session(session: AsyncSession, user_id: int, days: float, *, replace_token: str | None = None,
                         device: str | None = None, idle_minutes: int | None = None, factor_pending: bool = False,
                         factor_at: datetime | None = None) -> str:
    """A fresh session token (rotation): the previous session of this browser, if any, is revoked.

    `factor_pending`: a half-session that reaches only the second-factor page (accounts.factors); `factor_at`:
    when this browser last checked a second factor (kept across a password change)."""
    if replace_token:
        await session.execute(delete(Session).where(Session.token_hash == token_hash(replace_token)))
    token = new_token()
    session.add(Session(token_hash=token_hash(token), user_id=user_id, expires_at=now() + timedelta(days=days),
                        device=device, idle_minutes=idle_minutes, factor_pending=factor_pending,
                        factor_at=factor_at))
    await session.flush()
    return token


async def needs_second_factor(session: AsyncSession, user_id: int) -> bool:
    """Whether signing in as this member takes a second factor after the password (they have one)."""
    return bool(await session.scalar(select(SecondFactor.id).where(SecondFactor.user_id == user_id,
                                                                   SecondFactor.confirmed_at.is_not(None)).limit(1)))


async def start_session(session: AsyncSession, settings: Settings, user_id: int, *, user_agent: str | None,
                        replace_token: str | None = None, factor_pending: bool = False,
                        factor_at: datetime | None = None) -> tuple[str, int]:
    """A session on the member's terms (session_terms); returns its token and its lifetime in seconds (the
    cookie's Max-Age)."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("No such member.")
    terms = session_terms(settings, user.role, user.session_hours)
    token = await create_session(session, user_id, terms.lifetime / timedelta(days=1), replace_token=replace_token,
                                 device=device_label(user_agent), idle_minutes=terms.idle_minutes,
                                 factor_pending=factor_pending, factor_at=factor_at)
    return token, int(terms.lifetime.total_seconds())


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(Session).where(Session.token_hash == token_hash(token)))


async def revoke_sessions(session: AsyncSession, user_id: int, *, keep_id: int | None = None) -> int:
    query = delete(Session).where(Session.user_id == user_id)
    if keep_id is not None:
        query = query.where(Session.id != keep_id)
    result = await session.execute(query)
    return result.rowcount or 0


def session_alive_clause() -> Any:
    """A session that has neither expired nor sat idle past its limit (the same rule VIEWER_SQL applies)."""
    return (Session.expires_at > func.now()) & or_(
        Session.idle_minutes.is_(None),
        text("sessions.last_seen_at + sessions.idle_minutes * interval '1 minute' > now()"))


async def list_sessions(session: AsyncSession, viewer: Viewer) -> list[Session]:
    """The member's live sessions, the most recently used first."""
    rows = await session.scalars(select(Session).where(Session.user_id == viewer.id, session_alive_clause())
                                 .order_by(Session.last_seen_at.desc(), Session.id.desc()))
    return list(rows)


async def end_one_session(session: AsyncSession, viewer: Viewer, session_id: int) -> None:
    """Signs out one of the member's own sessions (any other member's, or none: NotFound)."""
    result = await session.execute(delete(Session).where(Session.id == session_id, Session.user_id == viewer.id))
    if not result.rowcount:
        raise NotFound("That session has already ended.")


async def set_session_length(session: AsyncSession, settings: Settings, viewer: Viewer, value: str) -> int | None:
    """The member's choice of session length (hours, or "" for the usual); their live sessions are shortened to
    it at once, measured from when each began."""
    choices = {str(hours or ""): hours for hours, _ in SESSION_CHOICES}
    if value not in choices:
        raise Invalid(fields={"hours": "Choose one of the lengths listed."})
    hours = choices[value]
    user = await session.get(User, viewer.id)
    if user is None:
        raise NotFound()
    user.session_hours = hours
    terms = session_terms(settings, user.role, hours)
    await session.execute(update(Session).where(Session.user_id == user.id).values(
        expires_at=func.least(Session.expires_at, Session.created_at + terms.lifetime)))
    return hours


async def apply_staff_terms(session: AsyncSession, settings: Settings, user: User) -> None:
    """After a role change: a new moderator's or admin's live sessions take the staff limits at once."""
    if user.role not in ("moderator", "admin"):
        return
    terms = session_terms(settings, user.role, user.session_hours)
    await session.execute(update(Session).where(Session.user_id == user.id).values(
        expires_at=func.least(Session.expires_at, Session.created_at + terms.lifetime),
        idle_minutes=terms.idle_minutes))


TOUCH_SQL = "UPDATE sessions SET last_seen_at = now() WHERE id = $1"


async def touch_session(connection: Any, viewer: Viewer) -> bool:
    """Records the request on the session when its last_seen_at is SEEN_EVERY old; True when it wrote."""
    seen = viewer.session_seen_at
    if viewer.session_id is None or seen is None or now() - seen < SEEN_EVERY:
        return False
    await connection.execute(TOUCH_SQL, viewer.session_id)
    return True


# The unread count leaves out notifications about content the member may no longer see (hidden, removed).
# $2: the member's keyring slots (accounts.scopes.viewer_slots), $3: their restriction slots; NULL when not known.
VIEWER_SQL = """
SELECT u.id, u.display_name, u.handle, u.role, u.email, u.timezone, u.silenced_until, u.created_at,
       u.suspended_at, u.suspended_until, s.id AS session_id, s.last_seen_at AS session_seen_at,
       CASE WHEN s.idle_minutes IS NULL THEN s.expires_at
            ELSE least(s.expires_at, s.last_seen_at + s.idle_minutes * interval '1 minute') END AS session_expires_at,
       k.tags AS anon_tags,
       s.factor_at, s.factor_pending,
       EXISTS (SELECT 1 FROM second_factors f WHERE f.user_id = u.id AND f.confirmed_at IS NOT NULL) AS has_factor,
       (SELECT count(*) FROM notifications n
         WHERE n.read_at IS NULL AND (n.user_id = u.id OR (n.recipient_tag = ANY(k.tags) AND n.last_id > u.anon_read_upto))
           AND """ + target_visible_sql("n", "u.id", "k.tags", "u.role IN ('moderator', 'admin')") + """) AS unread,
""" + restrictions.IN_FORCE_COLUMNS.format(slots="$3::text[]") + """
FROM sessions s JOIN users u ON u.id = s.user_id
""" + scopes.VIEWER_TAGS.format(slots="$2::text[]") + """
WHERE s.token_hash = $1 AND s.expires_at > now() AND u.deleted_at IS NULL
  AND (s.idle_minutes IS NULL OR s.last_seen_at + s.idle_minutes * interval '1 minute' > now())
"""


@dataclass(frozen=True, slots=True)
class Loaded:
    """A loaded viewer, with the tags of their anonymous scopes that the slots given found."""

    viewer: Viewer
    tags: tuple[str, ...]


async def load_viewer(connection: Any, token: str, slots: list[str] | None = None,
                      restriction_slots: list[str] | None = None) -> Viewer | None:
    """One statement per request, on a raw asyncpg connection (Database.raw): the session joined to its
    member, with the unread notification count and the restrictions on their anonymous writing.

    Notifications about anonymous content are addressed to the tags of the writer's scopes, which the keyring
    holds under keyed slots, and restrictions are stored under keyed slots too (accounts.scopes,
    accounts.restrictions); the caller passes both when it knows them (see web.middleware), so the load stays one
    round trip. None when there is no such session, or the member is suspended.
    """
    loaded = await load_viewer_and_tags(connection, token, slots, restriction_slots)
    return None if loaded is None else loaded.viewer


async def load_viewer_and_tags(connection: Any, token: str, slots: list[str] | None = None,
                               restriction_slots: list[str] | None = None) -> Loaded | None:
    """load_viewer, with the tags found under `slots` (the viewer cache indexes its entries by them)."""
    row = await connection.fetchrow(VIEWER_SQL, token_hash(token), slots, restriction_slots)
    if row is None:
        return None
    if row["suspended_at"] is not None and (row["suspended_until"] is None or row["suspended_until"] > now()):
        return None
    if row["anon_suspended"]:
        return None
    silenced = max((t for t in (row["silenced_until"], row["anon_silenced_until"]) if t is not None), default=None)
    return Loaded(Viewer(id=row["id"], display_name=row["display_name"], handle=row["handle"], role=row["role"],
                         email=row["email"], timezone=row["timezone"], session_id=row["session_id"],
                         silenced_until=silenced, created_at=row["created_at"], unread=row["unread"],
                         session_expires_at=row["session_expires_at"], session_seen_at=row["session_seen_at"],
                         has_factor=row["has_factor"], factor_at=row["factor_at"],
                         factor_pending=row["factor_pending"]), tuple(row["anon_tags"]))


async def count_tagged_unread(session: AsyncSession, tags: list[str], viewer: Viewer) -> int:
    """Unread notifications addressed to the member's scope tags (past their "mark all as read" watermark)."""
    if not tags:
        return 0
    upto = select(User.anon_read_upto).where(User.id == viewer.id).scalar_subquery()
    return await session.scalar(select(func.count()).select_from(Notification).where(
        Notification.recipient_tag.in_(tags), Notification.read_at.is_(None), Notification.last_id > upto,
        visible_clause(viewer.id, viewer.is_moderator, tags))) or 0


# ---- passwords and one-time links ---------------------------------------------------------------------------

async def change_password(session: AsyncSession, passwords: Passwords, viewer: Viewer, *, current: str,
                          new: str, confirm: str) -> None:
    user = await session.get(User, viewer.id)
    if user is None:
        raise NotFound()
    errors: dict[str, str] = {}
    if not passwords.verify(user.password_hash, current[:1024]):
        errors["current"] = "Your current password is not correct."
    problem = password_problem(new, email=user.email, display_name=user.display_name)
    if problem:
        errors["new"] = problem
    elif new != confirm:
        errors["confirm"] = "The two new passwords do not match."
    if errors:
        raise Invalid(fields=errors)
    user.password_hash = passwords.hash(new)
    user.password_changed_at = now()
    await revoke_sessions(session, user.id)


async def create_link(session: AsyncSession, actor: Viewer | None, user_id: int, purpose: str,
                      hours: int = 48) -> str:
    if actor is not None:
        require_admin(actor)
    user = await session.get(User, user_id)
    if user is None or user.deleted_at:
        raise NotFound("No such member.")
    token = new_token()
    # A new link replaces any unused one for the same purpose.
    await session.execute(delete(OneTimeLink).where(OneTimeLink.user_id == user_id, OneTimeLink.used_at.is_(None),
                                                    OneTimeLink.purpose == purpose))
    session.add(OneTimeLink(token_hash=token_hash(token), user_id=user_id, purpose=purpose,
                            created_by=actor.id if actor else None, expires_at=now() + timedelta(hours=hours)))
    await audit.record(session, actor, f"member.{purpose}_link", target_type="user", target_id=user_id,
                       target_label=user.display_name)
    return token


async def access_link(session: AsyncSession, token: str) -> tuple[OneTimeLink, User]:
    link = (await session.scalars(select(OneTimeLink).where(OneTimeLink.token_hash == token_hash(token))
                                  .with_for_update())).first()
    if link is None or link.used_at is not None or link.expires_at <= now():
        raise Invalid("This link is no longer valid: it was used already or it expired. You can ask for a new one "
                      "with \"Forgot your password?\" on the sign-in page.")
    user = await session.get(User, link.user_id)
    if user is None or user.deleted_at:
        raise Invalid("This link is no longer valid.")
    return link, user


async def use_link(session: AsyncSession, passwords: Passwords, token: str, *, new: str, confirm: str) -> User:
    link, user = await access_link(session, token)
    problem = password_problem(new, email=user.email, display_name=user.display_name)
    if problem:
        raise Invalid(fields={"new": problem})
    if new != confirm:
        raise Invalid(fields={"confirm": "The two passwords do not match."})
    user.password_hash = passwords.hash(new)
    user.password_changed_at = now()
    link.used_at = now()
    await revoke_sessions(session, user.id)
    return user


RESET_HOURS = 1  # a link sent by mail works for an hour (an admin's or the CLI's: 48 hours)


async def check_reset_rate(session: AsyncSession, settings: Settings, email: str, client: str) -> None:
    """At most RESET_MAX_PER_HOUR requests per address and 4x as many per client, counted whether or not the
    address belongs to a member, so that the limit says nothing about who is one."""
    hour_ago = now() - timedelta(hours=1)
    by_email, first_email, by_client, first_client = (await session.execute(select(
        func.count().filter(ResetRequest.email == email), func.min(ResetRequest.at).filter(ResetRequest.email == email),
        func.count().filter(ResetRequest.client == client),
        func.min(ResetRequest.at).filter(ResetRequest.client == client),
    ).where(ResetRequest.at > hour_ago, or_(ResetRequest.email == email, ResetRequest.client == client)))).one()
    limit = settings.reset_max_per_hour
    oldest = first_email if by_email >= limit else first_client if by_client >= limit * CLIENT_FAILURE_FACTOR else None
    if oldest is not None:
        wait = int((oldest + timedelta(hours=1) - now()).total_seconds()) + 1
        raise RateLimited("Several reset links were asked for already. Please check your inbox (and spam folder), "
                          f"or try again in {minutes_phrase(wait)}.", wait)


async def request_reset(session: AsyncSession, outbox: Outbox, settings: Settings, *, email: str,
                        client: str) -> None:
    """"Forgot your password?": mails a one-time link (1 hour) when the address is a member's. The caller gives
    the same answer either way; only the rate limit can refuse, and it counts addresses, not accounts."""
    address = check_email(email)
    key = address.lower()[:254]
    await check_reset_rate(session, settings, key, client[:64])
    session.add(ResetRequest(email=key, client=client[:64]))
    user = (await session.scalars(select(User).where(func.lower(User.email) == key, User.deleted_at.is_(None))
                                  )).first()
    if user is None or is_suspended(user):
        return
    token = await create_link(session, None, user.id, "reset", hours=RESET_HOURS)
    await outbox.enqueue(session, to=user.email, template="password_reset",
                         context={"name": user.display_name, "reset_url": f"{settings.base_url}/link/{token}"})


# ---- profile and administration -----------------------------------------------------------------------------

async def update_profile(session: AsyncSession, viewer: Viewer, *, display_name: str, specialty: str,
                         training_year: str, pronouns: str, timezone: str) -> User:
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    checks = {
        "display_name": lambda: check_display_name(display_name),
        "specialty": lambda: check_optional(specialty, "specialty", 80),
        "training_year": lambda: check_training_year(training_year),
        "pronouns": lambda: check_optional(pronouns, "pronouns", 40),
        "timezone": lambda: check_timezone(timezone),
    }
    for name, check in checks.items():
        try:
            values[name] = check()
        except Invalid as exc:
            errors.update(exc.fields)
    if errors:
        raise Invalid(fields=errors)
    user = await session.get(User, viewer.id)
    if user is None:
        raise NotFound()
    for name, value in values.items():
        setattr(user, name, value)
    return user


def check_timezone(value: str) -> str:
    value = value.strip() or "UTC"
    try:
        if len(value) > 64 or "\x00" in value:
            raise ValueError
        ZoneInfo(value)
    except (ValueError, KeyError, OSError):
        raise Invalid(fields={"timezone": "Choose a time zone from the list, for example America/Chicago."}) from None
    return value


@dataclass
class MemberPage:
    members: list[User]
    total: int


async def search_members(session: AsyncSession, actor: Viewer, *, q: str = "", role: str = "",
                         status: str = "", limit: int = 50, offset: int = 0) -> MemberPage:
    require_admin(actor)
    query = select(User).where(User.deleted_at.is_(None))
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(User.display_name.ilike(like), User.email.ilike(like), User.handle.ilike(like)))
    if role in ROLES:
        query = query.where(User.role == role)
    if status == "suspended":
        query = query.where(User.suspended_at.is_not(None))
    elif status == "active":
        query = query.where(User.suspended_at.is_(None))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.order_by(User.created_at.desc(), User.id.desc()).limit(limit).offset(offset))
    return MemberPage(list(rows), total)


async def access_member(session: AsyncSession, actor: Viewer, user_id: int) -> User:
    require_admin(actor)
    user = await session.get(User, user_id)
    if user is None or user.deleted_at:
        raise NotFound("No such member.")
    return user


async def change_role(session: AsyncSession, actor: Viewer, user_id: int, role: str, reason: str, *,
                      settings: Settings) -> User:
    user = await access_member(session, actor, user_id)
    role = check_role(role)
    reason_text = check_reason(reason)
    if user.id == actor.id and role != "admin":
        raise Invalid("You cannot remove your own admin role; ask another admin.")
    old = user.role
    if role != old:
        user.role, user.role_changed_at, user.role_changed_by = role, now(), actor.id
        await apply_staff_terms(session, settings, user)
    await audit.record(session, actor, "member.role", target_type="user", target_id=user.id,
                       target_label=user.display_name, reason=reason_text, details={"from": old, "to": role})
    return user


async def suspend(session: AsyncSession, actor: Viewer, user_id: int, reason: str, days: int | None = None) -> User:
    """Suspends a member and revokes every session they have. Moderators may suspend too."""
    require_staff(actor)
    user = await session.get(User, user_id)
    if user is None or user.deleted_at:
        raise NotFound("No such member.")
    reason_text = check_reason(reason)
    if user.id == actor.id:
        raise Invalid("You cannot suspend yourself.")
    if user.role == "admin" and not actor.is_admin:
        raise Forbidden("Only an admin can suspend an admin.")
    if days is not None and not 1 <= days <= 3650:
        raise Invalid(fields={"days": "Choose between 1 and 3,650 days, or leave empty for indefinitely."})
    user.suspended_at = now()
    user.suspended_until = now() + timedelta(days=days) if days else None
    user.suspended_reason = reason_text
    await revoke_sessions(session, user.id)
    await audit.record(session, actor, "member.suspend", target_type="user", target_id=user.id,
                       target_label=user.display_name, reason=reason_text, details={"days": days})
    return user


async def unsuspend(session: AsyncSession, actor: Viewer, user_id: int, reason: str) -> User:
    require_staff(actor)
    user = await session.get(User, user_id)
    if user is None or user.deleted_at:
        raise NotFound("No such member.")
    reason_text = check_reason(reason)
    user.suspended_at = None
    user.suspended_until = None
    user.suspended_reason = None
    await audit.record(session, actor, "member.unsuspend", target_type="user", target_id=user.id,
                       target_label=user.display_name, reason=reason_text)
    return user


async def unsilence(session: AsyncSession, actor: Viewer, user_id: int, reason: str) -> User:
    """Lifts a silence imposed over the member's signed writing (silences over anonymous writing stay sealed in
    anon_restrictions and are lifted from that writing's review page, never from the member page)."""
    require_staff(actor)
    user = await session.get(User, user_id)
    if user is None or user.deleted_at:
        raise NotFound("No such member.")
    reason_text = check_reason(reason)
    if user.silenced_until is None or user.silenced_until <= now():
        raise Invalid("This member is not silenced.")
    until = user.silenced_until
    user.silenced_until = None
    await audit.record(session, actor, "member.unsilence", target_type="user", target_id=user.id,
                       target_label=user.display_name, reason=reason_text,
                       details={"was_until": until.isoformat()})
    return user


async def ensure_admin(session: AsyncSession, *, email: str = "admin@community.local",
                       display_name: str = "Admin") -> tuple[User, bool]:
    """Makes sure at least one admin exists; returns (admin, created)."""
    existing = (await session.scalars(select(User).where(User.role == "admin", User.deleted_at.is_(None))
                                      .order_by(User.id).limit(1))).first()
    if existing is not None:
        return existing, False
    user = User(email=check_email(email), display_name=check_display_name(display_name),
                handle=await _unique_handle(session, display_name), role="admin", guidelines_accepted_at=now())
    session.add(user)
    await session.flush()
    await audit.record(session, None, "member.create_admin", target_type="user", target_id=user.id,
                       target_label=user.display_name)
    return user, True


async def mark_used_sessions_clean(session: AsyncSession) -> int:
    """Housekeeping: drops expired sessions and old sign-in failures."""
    result = await session.execute(delete(Session).where(Session.expires_at < func.now()))
    await session.execute(delete(LoginAttempt).where(LoginAttempt.at < func.now() - timedelta(days=1)))
    await session.execute(delete(ResetRequest).where(ResetRequest.at < func.now() - timedelta(days=1)))
    return result.rowcount or 0


async def set_silenced(session: AsyncSession, user_id: int, until: datetime | None) -> None:
    await session.execute(update(User).where(User.id == user_id).values(silenced_until=until))
