"""The sender: works the outbox over SMTP (aiosmtplib), one process at a time.

It runs inside `community serve` (every worker process starts one; a PostgreSQL advisory lock lets exactly one
send while the others stand by and take over if it goes away) or alone as `community mailer`.

Delivery is at least once, and exactly once in the common case: each message is sent inside its own short
transaction that holds its row locked, and the row is marked sent in that transaction. A crash before the SMTP
server accepts the message rolls the claim back and the message is sent again later; only a crash in the moment
between the server's "250 accepted" and our COMMIT sends it twice, and then with the same Message-ID (fixed when
the row was written), which receiving systems use to drop the copy. Nothing is ever lost: a row leaves the queue
only as sent, or as a dead letter after MAIL_MAX_ATTEMPTS tries (or at once, when the server refuses the
recipient for good), which admins see on /admin/mail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import aiosmtplib
import asyncpg

from community.platform.db import asyncpg_args
from community.settings import Settings

log = logging.getLogger(__name__)

LOCK_ID = 727_016  # the advisory lock that makes one process the sender
CHANNEL = "mail_outbox"  # NOTIFY from the outbox's insert trigger (migration 0020)
MAX_BACKOFF_SECONDS = 6 * 3600
OUTAGE_ERRORS = (OSError, TimeoutError, aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected,
                 aiosmtplib.SMTPTimeoutError)

CLAIM_SQL = """
SELECT id, message_id, to_addr, subject, text_body, html_body, headers::text AS headers,
       attachments::text AS attachments, attempts, created_at
  FROM mail_outbox
 WHERE status = 'queued' AND next_attempt_at <= now()
 ORDER BY next_attempt_at, id
 LIMIT 1
   FOR UPDATE SKIP LOCKED"""
# Once sent, the bodies (which may hold one-time links) are blanked: the row keeps who, what and when.
SENT_SQL = """UPDATE mail_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL,
                                     text_body = '', html_body = '', attachments = '[]' WHERE id = $1"""
FAILED_SQL = """UPDATE mail_outbox SET attempts = $2, status = $3, last_error = $4,
                                       next_attempt_at = now() + make_interval(secs => $5) WHERE id = $1"""
NEXT_DUE_SQL = "SELECT extract(epoch FROM min(next_attempt_at) - now()) FROM mail_outbox WHERE status = 'queued'"


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to connect, read from SMTP_URL (settings checked its scheme)."""

    host: str
    port: int
    use_tls: bool
    start_tls: bool
    username: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        default_port = {"smtps": 465, "smtp+starttls": 587}.get(scheme, 25)
        return cls(host=parts.hostname or "localhost", port=parts.port or default_port, use_tls=scheme == "smtps",
                   start_tls=scheme == "smtp+starttls", username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None)

    def client(self, timeout: float) -> aiosmtplib.SMTP:
        # start_tls=False for plain smtp://: a local relay or the catcher, never upgraded behind our back.
        return aiosmtplib.SMTP(hostname=self.host, port=self.port, use_tls=self.use_tls, start_tls=self.start_tls,
                               username=self.username, password=self.password, timeout=timeout)


def _json(value: Any) -> Any:
    """A JSONB column as asyncpg reads it (text), or already decoded (a row rendered in memory)."""
    return json.loads(value) if isinstance(value, str) else value


def build_message(row: Any, mail_from: str) -> EmailMessage:
    """The MIME message for an outbox row: multipart/alternative, text then HTML, UTF-8."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = mail_from
    message["To"] = row["to_addr"]
    message["Subject"] = row["subject"]
    message["Date"] = format_datetime(row["created_at"])
    message["Message-ID"] = row["message_id"]
    message["Auto-Submitted"] = "auto-generated"
    for name, value in _json(row["headers"]).items():
        message[name] = value
    message.set_content(row["text_body"])
    message.add_alternative(row["html_body"], subtype="html")
    for attached in _json(row["attachments"]):
        maintype, _, subtype = attached["content_type"].partition("/")
        assert maintype == "text", attached["content_type"]  # only small text files are attached
        message.add_attachment(attached["content"], subtype=subtype, filename=attached["filename"])
    return message


def is_permanent(exc: BaseException) -> bool:
    """A refusal that no retry will change: the server refused the recipient or the message with a 5xx."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(r.code >= 500 for r in exc.recipients)
    if isinstance(exc, (aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError)):
        return exc.code >= 500
    return False


def backoff_seconds(attempts: int, base: float) -> float:
    """Seconds before try number attempts + 1: base, 2x, 4x... at most six hours."""
    return min(base * 2 ** max(0, attempts - 1), MAX_BACKOFF_SECONDS)


class Sender:
    """Works the outbox until cancelled; `active` is True while this process holds the sender's lock."""

    def __init__(self, settings: Settings, database_url: str, *, standby_seconds: float = 5.0,
                 poll_seconds: float = 30.0, smtp_timeout: float = 30.0,
                 periodic: Callable[[], Awaitable[None]] | None = None, periodic_seconds: float = 60.0) -> None:
        """`periodic` (notification mail: mail.digests.job) runs every `periodic_seconds` in the sending
        process only, so one process in the whole deployment does it."""
        self.settings = settings
        self.database_url = database_url
        self.target = SmtpTarget.parse(settings.smtp_target)
        self.standby_seconds = standby_seconds
        self.poll_seconds = poll_seconds
        self.smtp_timeout = smtp_timeout
        self.active = False
        self.sent = 0
        self.periodic = periodic
        self.periodic_seconds = periodic_seconds
        self._periodic_due = 0.0
        self._smtp: aiosmtplib.SMTP | None = None

    async def run(self) -> None:
        """Connects, waits for the lock, sends; after any database trouble it reconnects and waits again."""
        while True:
            connection = None
            try:
                connection = await asyncpg.connect(**asyncpg_args(self.database_url))
                await self._serve(connection)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("mail sender: database trouble (%s); retrying", type(exc).__name__)
            finally:
                self.active = False
                await self._close_smtp()
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.shield(connection.close(timeout=2))
            await asyncio.sleep(self.standby_seconds)

    async def _serve(self, connection: Any) -> None:
        while True:  # stand by until the sending process (if any) goes away
            if await connection.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_ID):
                break
            await asyncio.sleep(self.standby_seconds)
        self.active = True
        wake = asyncio.Event()
        await connection.add_listener(CHANNEL, lambda *args: wake.set())
        outages = 0
        while True:
            wake.clear()
            await self._run_periodic()
            outage = await self.send_due(connection)
            outages = outages + 1 if outage else 0
            if outage:  # the server is unreachable: pause, whatever else arrives meanwhile
                await asyncio.sleep(backoff_seconds(outages, self.settings.mail_retry_seconds))
                continue
            due = await connection.fetchval(NEXT_DUE_SQL)
            delay = self.poll_seconds if due is None else min(self.poll_seconds, max(0.0, float(due)))
            if self.periodic is not None:
                delay = min(delay, max(0.0, self._periodic_due - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), delay)

    async def _run_periodic(self) -> None:
        if self.periodic is None or time.monotonic() < self._periodic_due:
            return
        self._periodic_due = time.monotonic() + self.periodic_seconds
        try:
            await self.periodic()
        except Exception:  # noqa: BLE001  (logged with its traceback; the next run tries again)
            log.exception("mail sender: the periodic job failed")

    async def send_due(self, connection: Any) -> bool:
        """Sends every message that is due, one transaction each; True when it stopped on an SMTP outage."""
        try:
            while True:
                async with connection.transaction():
                    row = await connection.fetchrow(CLAIM_SQL)
                    if row is None:
                        return False
                    try:
                        await self._deliver(build_message(row, self.settings.mail_from))
                    except Exception as exc:  # noqa: BLE001  (every failure is recorded on its row)
                        await self._record_failure(connection, row, exc)
                        await self._close_smtp()
                        if isinstance(exc, OUTAGE_ERRORS):
                            return True
                        continue
                    await connection.execute(SENT_SQL, row["id"])
                self.sent += 1
        finally:
            await self._close_smtp()

    async def _deliver(self, message: EmailMessage) -> None:
        if self._smtp is None or not self._smtp.is_connected:
            self._smtp = self.target.client(self.smtp_timeout)
            await self._smtp.connect()
        await self._smtp.send_message(message)

    async def _record_failure(self, connection: Any, row: Any, exc: BaseException) -> None:
        attempts = row["attempts"] + 1
        dead = is_permanent(exc) or attempts >= self.settings.mail_max_attempts
        error = f"{type(exc).__name__}: {exc}"[:500]
        log.warning("mail %s to outbox row %s: %s", "dead-lettered" if dead else "will be retried", row["id"],
                    type(exc).__name__)
        await connection.execute(FAILED_SQL, row["id"], attempts, "dead" if dead else "queued", error,
                                 backoff_seconds(attempts, self.settings.mail_retry_seconds))

    async def _close_smtp(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None and smtp.is_connected:
            with contextlib.suppress(Exception):
                await smtp.quit(timeout=5)
            smtp.close()
