"""Second factors: authenticator apps (TOTP), passkeys and security keys (WebAuthn), one-time recovery codes.

- A TOTP code is accepted for the time-step before, at or after now (a phone's clock may be 30 s off), and only
  for a step newer than the last one accepted (`second_factors.last_step`): each code works once (ASVS 2.8.4).
  A code that was already used is refused, logged, and its holder told, in the app and by email (ASVS 2.8.5).
- Recovery codes are random, shown once, stored as argon2 hashes, each usable once.
- Passkeys: py_webauthn. The relying party is BASE_URL's host (a passkey made for one host works only there);
  the challenge a session was given is kept on its row, and is used once.
- Wrong codes are counted like failed sign-ins (login_attempts, keyed by the member): after LOGIN_MAX_FAILURES in
  LOGIN_WINDOW_MINUTES, the member waits the window out.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pyotp
import segno
from cryptography.exceptions import InvalidTag
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from community.platform.accounts.models import LoginAttempt, RecoveryCode, SecondFactor, Session, User
from community.platform.accounts.security import Passwords, seal_secret, unseal_secret
from community.platform.errors import Forbidden, Invalid, NotFound, RateLimited, minutes_phrase
from community.platform.mail.outbox import Outbox
from community.platform.notify.notifications import notify
from community.platform.review import audit
from community.platform.viewer import Viewer
from community.settings import Settings

log = logging.getLogger("community.security")

STEP_UP_MINUTES = 10  # a sensitive action needs a second-factor check this recent (the issue's "within 10 minutes")
TOTP_PERIOD = 30
RECOVERY_CODES = 10
CHALLENGE_MINUTES = 5
ISSUER = "Compassionate Practice"
REPLAY_TEXT = ("A code from your authenticator app was entered a second time and refused. If that was not you, "
               "someone may know your password and have seen a code: change your password now.")


def now() -> datetime:
    return datetime.now(UTC)


def needs_step_up(viewer: Viewer, at: datetime | None = None) -> bool:
    """True when a sensitive action must first check a second factor: whenever the member has one and this
    session has not checked it in the last STEP_UP_MINUTES. A member without one has nothing to be asked (staff
    without one reach nothing but setting one up: web.factor_guard)."""
    if not viewer.has_factor:
        return False
    return viewer.factor_at is None or viewer.factor_at < (at or now()) - timedelta(minutes=STEP_UP_MINUTES)


def qr_data_uri(uri: str) -> str:
    """The otpauth:// address as an SVG QR code in a data: URI (CSP allows data: images, no script needed)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def recovery_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read from paper
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _normal(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isascii() and ch.isalnum())[:40]


@dataclass(frozen=True)
class Enrolment:
    factor_id: int
    secret: str
    uri: str
    qr: str


class Factors:
    """What second factors need, built once by create_app: the sealing key, a hasher for recovery codes,
    the relying party for passkeys, the outbox (replay warnings) and a clock (tests control it)."""

    def __init__(self, settings: Settings, outbox: Outbox, clock: object = time.time) -> None:
        self.settings = settings
        # Recovery codes are random (about 59 bits), not chosen by people: argon2id at OWASP's lightest settings
        # (19 MiB, 2 passes) is plenty, and ten of them are hashed at once (settings may go lower, for tests).
        self.passwords = Passwords(min(settings.argon2_time_cost, 2), min(settings.argon2_memory_kib, 19456))
        self.outbox = outbox
        self.clock = clock
        self.origin = settings.origin
        self.rp_id = urlsplit(settings.base_url).hostname or "localhost"

    def time(self) -> float:
        return self.clock()  # type: ignore[operator]

    # ---- reading ------------------------------------------------------------------------------------------
    async def list(self, session: AsyncSession, user_id: int) -> list[SecondFactor]:
        return list(await session.scalars(select(SecondFactor).where(
            SecondFactor.user_id == user_id, SecondFactor.confirmed_at.is_not(None)).order_by(SecondFactor.id)))

    async def recovery_left(self, session: AsyncSession, user_id: int) -> int:
        return await session.scalar(select(func.count()).select_from(RecoveryCode).where(
            RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))) or 0

    # ---- TOTP ---------------------------------------------------------------------------------------------
    async def start_totp(self, session: AsyncSession, viewer: Viewer) -> Enrolment:
        """An enrolment waiting for its first code (the same one again while it waits)."""
        if await session.scalar(select(SecondFactor.id).where(
                SecondFactor.user_id == viewer.id, SecondFactor.kind == "totp", SecondFactor.confirmed_at.is_not(None))):
            raise Invalid("You already have an authenticator app. Remove it first to set up another.")
        row = (await session.scalars(select(SecondFactor).where(
            SecondFactor.user_id == viewer.id, SecondFactor.kind == "totp", SecondFactor.confirmed_at.is_(None)))).first()
        if row is None:
            row = SecondFactor(user_id=viewer.id, kind="totp", label="Authenticator app",
                               sealed_secret=seal_secret(self.settings.secret_key, pyotp.random_base32()))
            session.add(row)
            await session.flush()
        secret = unseal_secret(self.settings.secret_key, row.sealed_secret or "")
        uri = pyotp.TOTP(secret).provisioning_uri(name=viewer.email, issuer_name=ISSUER)
        return Enrolment(row.id, secret, uri, qr_data_uri(uri))

    def _step(self, secret: str, code: str) -> int | None:
        """The time-step (previous, current or next) whose code this is, or None."""
        if len(code) != 6 or not code.isdigit():
            return None
        totp = pyotp.TOTP(secret)
        current = int(self.time() // TOTP_PERIOD)
        for step in (current - 1, current, current + 1):
            if secrets.compare_digest(totp.at(step * TOTP_PERIOD), code):
                return step
        return None

    async def confirm_totp(self, session: AsyncSession, viewer: Viewer, code: str,
                           session_id: int | None) -> list[str]:
        """The first code proves the app holds the secret. Returns new recovery codes when this is the member's
        first factor (shown once), else an empty list."""
        row = (await session.scalars(select(SecondFactor).where(
            SecondFactor.user_id == viewer.id, SecondFactor.kind == "totp", SecondFactor.confirmed_at.is_(None))
            .with_for_update())).first()
        if row is None:
            raise Invalid("Start the set-up again: this page is out of date.")
        step = self._step(unseal_secret(self.settings.secret_key, row.sealed_secret or ""), _normal(code))
        if step is None:
            raise Invalid(fields={"code": "That code does not match. Enter the 6 digits your app shows now."})
        first = not await self.list(session, viewer.id)
        row.confirmed_at, row.last_step, row.last_used_at = now(), step, now()
        return await self._enrolled(session, viewer, "totp", first, session_id)

    async def _enrolled(self, session: AsyncSession, viewer: Viewer, kind: str, first: bool,
                        session_id: int | None) -> list[str]:
        await audit.record(session, viewer, "member.factor_add", target_type="user", target_id=viewer.id,
                           target_label=viewer.display_name, details={"kind": kind})
        if session_id is not None:
            await self.mark_passed(session, session_id)
        return await self.new_recovery_codes(session, viewer.id) if first else []

    # ---- recovery codes -----------------------------------------------------------------------------------
    async def new_recovery_codes(self, session: AsyncSession, user_id: int) -> list[str]:
        """Replaces the member's recovery codes; the new ones are returned once and kept only as hashes."""
        await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        codes = [recovery_code() for _ in range(RECOVERY_CODES)]
        session.add_all(RecoveryCode(user_id=user_id, code_hash=self.passwords.hash(_normal(c))) for c in codes)
        await session.flush()
        return codes

    # ---- checking a code at sign-in or step-up ------------------------------------------------------------
    async def check_code(self, session: AsyncSession, user: User, code: str, session_id: int,
                         client: str) -> str | None:
        """Checks a TOTP or recovery code. Returns None (passed: the session is marked) or why it was refused.

        Never raises for a wrong code, so that what a refusal writes (the failure count, a replay's log entry,
        notification and email) commits with the caller's transaction; a throttled member gets RateLimited."""
        await self.check_throttle(session, user.id, client)
        normal = _normal(code)
        if not normal:
            return "Enter the 6-digit code from your app, or a recovery code."
        if len(normal) == 6 and normal.isdigit():
            problem = await self._check_totp(session, user, normal)
        else:
            problem = await self._check_recovery(session, user, normal)
        if problem is None:
            await self._passed(session, user, session_id, client)
        else:
            session.add(LoginAttempt(email=_throttle_key(user.id), client=client[:64]))
        return problem

    async def _check_totp(self, session: AsyncSession, user: User, code: str) -> str | None:
        rows = list(await session.scalars(select(SecondFactor).where(
            SecondFactor.user_id == user.id, SecondFactor.kind == "totp", SecondFactor.confirmed_at.is_not(None))
            .with_for_update()))
        for row in rows:
            try:
                step = self._step(unseal_secret(self.settings.secret_key, row.sealed_secret or ""), code)
            except (InvalidTag, ValueError):
                log.error({"event": "second_factor.unreadable", "user": user.id, "factor": row.id})
                continue
            if step is None:
                continue
            if row.last_step is not None and step <= row.last_step:
                await self._replayed(session, user, row)
                return "This code was already used. Wait for your app to show a new one."
            row.last_step, row.last_used_at = step, now()
            return None
        return "That code is not right. Check your app and try again." if rows else \
            "Enter a recovery code (you have no authenticator app)."

    async def _replayed(self, session: AsyncSession, user: User, row: SecondFactor) -> None:
        """ASVS 2.8.5: the replayed code is logged, and the holder is told in the app and by email."""
        log.warning({"event": "second_factor.replay", "user": user.id, "factor": row.id})
        await audit.record(session, None, "member.factor_replay", target_type="user", target_id=user.id,
                           target_label=user.display_name)
        await notify(session, user_id=user.id, kind="security", text=REPLAY_TEXT, url="/account/security")
        await self.outbox.enqueue(session, to=user.email, template="factor_replay",
                                  context={"name": user.display_name,
                                           "security_url": f"{self.settings.base_url}/account/security",
                                           "password_url": f"{self.settings.base_url}/account/password"})

    async def _check_recovery(self, session: AsyncSession, user: User, code: str) -> str | None:
        rows = list(await session.scalars(select(RecoveryCode).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)).with_for_update()))
        for row in rows:
            if self.passwords.verify(row.code_hash, code):
                row.used_at = now()
                await audit.record(session, None, "member.recovery_code_used", target_type="user",
                                   target_id=user.id, target_label=user.display_name,
                                   details={"left": len(rows) - 1})
                return None
        return "That recovery code is not right, or it was used already."

    async def check_throttle(self, session: AsyncSession, user_id: int, client: str) -> None:
        window = timedelta(minutes=self.settings.login_window_minutes)
        count, first = (await session.execute(select(func.count(), func.min(LoginAttempt.at)).where(
            LoginAttempt.email == _throttle_key(user_id), LoginAttempt.at > now() - window))).one()
        if count >= self.settings.login_max_failures:
            wait = int((first + window - now()).total_seconds()) + 1
            raise RateLimited(f"Too many wrong codes. Please try again in {minutes_phrase(wait)}.", wait)

    async def _passed(self, session: AsyncSession, user: User, session_id: int, client: str) -> None:
        await session.execute(delete(LoginAttempt).where(LoginAttempt.email == _throttle_key(user.id),
                                                         LoginAttempt.client == client[:64]))
        await self.mark_passed(session, session_id)

    async def mark_passed(self, session: AsyncSession, session_id: int) -> None:
        await session.execute(update(Session).where(Session.id == session_id).values(
            factor_at=func.now(), factor_pending=False, challenge=None, challenge_at=None))

    # ---- passkeys -----------------------------------------------------------------------------------------
    async def _challenge(self, session: AsyncSession, session_id: int, challenge: bytes) -> None:
        await session.execute(update(Session).where(Session.id == session_id).values(
            challenge=bytes_to_base64url(challenge), challenge_at=func.now()))

    async def _take_challenge(self, session: AsyncSession, session_id: int) -> bytes | None:
        """The session's challenge, used once; None when there is none or it is older than CHALLENGE_MINUTES."""
        row = (await session.execute(select(Session.challenge, Session.challenge_at).where(
            Session.id == session_id).with_for_update())).one_or_none()
        await session.execute(update(Session).where(Session.id == session_id).values(challenge=None,
                                                                                     challenge_at=None))
        if row is None or row.challenge is None or row.challenge_at < now() - timedelta(minutes=CHALLENGE_MINUTES):
            return None
        return base64url_to_bytes(row.challenge)

    async def registration_options(self, session: AsyncSession, viewer: Viewer, session_id: int) -> str:
        existing = [f for f in await self.list(session, viewer.id) if f.kind == "passkey"]
        options = generate_registration_options(
            rp_id=self.rp_id, rp_name=ISSUER, user_name=viewer.email, user_display_name=viewer.display_name,
            user_id=f"member-{viewer.id}".encode(),
            authenticator_selection=AuthenticatorSelectionCriteria(
                resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED),
            exclude_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(f.credential_id or ""))
                                 for f in existing])
        await self._challenge(session, session_id, options.challenge)
        return options_to_json(options)

    async def register_passkey(self, session: AsyncSession, viewer: Viewer, session_id: int, credential: str,
                               label: str) -> list[str]:
        """Verifies a new passkey against the session's challenge and keeps it; recovery codes as confirm_totp."""
        label = " ".join(label.split())[:60] or "Passkey"
        challenge = await self._take_challenge(session, session_id)
        if challenge is None:
            raise Invalid("The request for a passkey expired. Please try again.")
        try:
            verified = verify_registration_response(credential=credential, expected_challenge=challenge,
                                                    expected_rp_id=self.rp_id, expected_origin=self.origin)
        except (InvalidRegistrationResponse, InvalidJSONStructure, ValueError, KeyError, TypeError) as exc:
            log.info({"event": "second_factor.passkey_refused", "user": viewer.id, "why": str(exc)[:200]})
            raise Invalid("Your browser's answer could not be checked. Please try again.") from None
        credential_id = bytes_to_base64url(verified.credential_id)
        if await session.scalar(select(SecondFactor.id).where(SecondFactor.credential_id == credential_id)):
            raise Invalid("This passkey is already registered.")
        first = not await self.list(session, viewer.id)
        session.add(SecondFactor(user_id=viewer.id, kind="passkey", label=label, credential_id=credential_id,
                                 public_key=bytes_to_base64url(verified.credential_public_key),
                                 sign_count=verified.sign_count, confirmed_at=now(), last_used_at=now()))
        await session.flush()
        return await self._enrolled(session, viewer, "passkey", first, session_id)

    async def authentication_options(self, session: AsyncSession, user_id: int, session_id: int) -> str:
        keys = [f for f in await self.list(session, user_id) if f.kind == "passkey"]
        if not keys:
            raise NotFound("You have no passkey here.")
        options = generate_authentication_options(
            rp_id=self.rp_id, user_verification=UserVerificationRequirement.PREFERRED,
            allow_credentials=[PublicKeyCredentialDescriptor(id=base64url_to_bytes(f.credential_id or ""))
                               for f in keys])
        await self._challenge(session, session_id, options.challenge)
        return options_to_json(options)

    async def check_passkey(self, session: AsyncSession, user: User, assertion: str, session_id: int,
                            client: str) -> str | None:
        """As check_code, for a passkey's signed answer to the session's challenge."""
        await self.check_throttle(session, user.id, client)
        problem = await self._verify_assertion(session, user, assertion, session_id)
        if problem is None:
            await self._passed(session, user, session_id, client)
        else:
            session.add(LoginAttempt(email=_throttle_key(user.id), client=client[:64]))
        return problem

    async def _verify_assertion(self, session: AsyncSession, user: User, assertion: str,
                                session_id: int) -> str | None:
        challenge = await self._take_challenge(session, session_id)
        if challenge is None:
            return "The passkey request expired. Please try again."
        try:
            credential_id = str(json.loads(assertion).get("id", ""))[:1400]
        except (ValueError, AttributeError):
            return "Your browser's answer could not be read. Please try again."
        row = (await session.scalars(select(SecondFactor).where(
            SecondFactor.user_id == user.id, SecondFactor.kind == "passkey",
            SecondFactor.credential_id == credential_id).with_for_update())).first()
        if row is None:
            return "This passkey is not one of yours here."
        try:
            verified = verify_authentication_response(
                credential=assertion, expected_challenge=challenge, expected_rp_id=self.rp_id,
                expected_origin=self.origin, credential_public_key=base64url_to_bytes(row.public_key or ""),
                credential_current_sign_count=row.sign_count)
        except (InvalidAuthenticationResponse, InvalidJSONStructure, ValueError, KeyError, TypeError) as exc:
            log.info({"event": "second_factor.passkey_refused", "user": user.id, "why": str(exc)[:200]})
            return "The passkey's answer could not be checked. Please try again."
        row.sign_count, row.last_used_at = verified.new_sign_count, now()
        return None

    # ---- removing -----------------------------------------------------------------------------------------
    async def remove(self, session: AsyncSession, viewer: Viewer, factor_id: int) -> None:
        """Moderators and admins keep at least one factor; a member who removes their last loses the recovery
        codes too (they would have nothing to recover)."""
        row = await session.get(SecondFactor, factor_id)
        if row is None or row.user_id != viewer.id:
            raise NotFound("No such second factor.")
        left = [f for f in await self.list(session, viewer.id) if f.id != row.id]
        if viewer.is_moderator and not left and row.confirmed_at is not None:
            raise Forbidden("Moderators and admins must keep a second factor: add another before removing this one.")
        await session.delete(row)
        if not left:
            await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == viewer.id))
        await audit.record(session, viewer, "member.factor_remove", target_type="user", target_id=viewer.id,
                           target_label=viewer.display_name, details={"kind": row.kind})


async def reset_all(session: AsyncSession, user: User) -> int:
    """`community reset-factors`: for a member who lost every factor and recovery code. Removes them all and ends
    every session; a moderator or admin sets a new one up at their next sign-in. Returns how many were removed."""
    removed = await session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id))
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await session.execute(delete(Session).where(Session.user_id == user.id))
    await audit.record(session, None, "member.factors_reset", target_type="user", target_id=user.id,
                       target_label=user.display_name, details={"removed": removed.rowcount or 0})
    return removed.rowcount or 0


def _throttle_key(user_id: int) -> str:
    """Wrong second-factor codes are counted in login_attempts under this key (never an email address)."""
    return f"factor:{user_id}"
