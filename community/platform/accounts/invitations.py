"""Invitations by mail: many at once from a pasted list or a CSV (email, role, cohort), each row checked on its
own, every good row queued with its email in one transaction; their status, resend and revoke.

A bad row (a malformed address, an unknown role or one the inviter may not give, a duplicate, an existing member,
an address with an open invitation already) is reported with its line and reason, and never stops the good rows.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts.actions import (
    EMAIL_RE,
    check_optional,
    check_role,
    invitation_state,
    now,
    require_staff,
)
from community.platform.accounts.models import ROLES, Invitation, User
from community.platform.accounts.security import new_token, token_hash
from community.platform.errors import Invalid, NotFound
from community.platform.mail.models import OutboxMessage
from community.platform.mail.outbox import Mail, Outbox
from community.platform.review import audit
from community.platform.viewer import Viewer
from community.settings import Settings

MAX_ROWS = 1000
ROLE_PHRASES = {"resident": "a resident", "attending": "an attending physician", "moderator": "a moderator",
                "admin": "an admin"}


@dataclass(frozen=True)
class Row:
    line: int
    email: str
    role: str
    cohort: str | None


@dataclass(frozen=True)
class BadRow:
    line: int
    text: str
    reason: str


@dataclass
class BulkResult:
    queued: list[Row] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


def split_rows(text: str) -> list[tuple[int, str, list[str]]]:
    """(line number, the line, its fields) for each non-blank line. A line of several addresses (a pasted list
    separated by commas, semicolons or spaces) gives one row per address; otherwise a line is CSV: email,role,cohort."""
    out: list[tuple[int, str, list[str]]] = []
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), 1):  # a spreadsheet's BOM
        if not line.strip():
            continue
        fields = next(csv.reader([line], skipinitialspace=True), [])
        fields = [f.strip() for f in fields]
        if not out and fields and fields[0].lower() == "email":
            continue  # the CSV's header
        words = [w for w in line.replace(";", " ").replace(",", " ").split() if w]
        if len(words) > 1 and all("@" in w for w in words):
            out += [(number, line.strip(), [w]) for w in words]
        else:
            out.append((number, line.strip(), fields))
    return out


def check_row(actor: Viewer, number: int, line: str, fields: list[str], *, role: str,
              cohort: str | None) -> Row | BadRow:
    """One row on its own (duplicates and existing members are checked across rows by `parse`)."""
    email = fields[0] if fields else ""
    row_role = (fields[1] if len(fields) > 1 and fields[1] else role).lower()
    row_cohort = fields[2] if len(fields) > 2 and fields[2] else cohort
    if len(fields) > 3:
        return BadRow(number, line, "Too many columns: use email, role, cohort.")
    if len(email) > 254 or not EMAIL_RE.match(email):
        return BadRow(number, line, "This does not look like an email address.")
    if row_role not in ROLES:
        return BadRow(number, line, f"Unknown role {row_role!r}: use one of {', '.join(ROLES)}.")
    if not actor.is_admin and row_role in ("moderator", "admin"):
        return BadRow(number, line, "Only admins can invite moderators and admins.")
    if row_cohort is not None and len(row_cohort) > 80:
        return BadRow(number, line, "The cohort is longer than 80 characters.")
    return Row(number, email, row_role, " ".join(row_cohort.split()) if row_cohort else None)


async def parse(session: AsyncSession, actor: Viewer, text: str, *, role: str, cohort: str | None) -> BulkResult:
    """Checks every row; `queued` holds the good ones (not yet written)."""
    result = BulkResult()
    rows = split_rows(text)
    if not rows:
        raise Invalid(fields={"addresses": "Paste at least one address, or choose a CSV file."})
    if len(rows) > MAX_ROWS:
        raise Invalid(fields={"addresses": f"At most {MAX_ROWS:,} rows at a time; this has {len(rows):,}."})
    checked = [check_row(actor, n, line, fields, role=role, cohort=cohort) for n, line, fields in rows]
    wanted = {r.email.lower() for r in checked if isinstance(r, Row)}
    members = set((await session.scalars(select(func.lower(User.email)).where(
        func.lower(User.email).in_(wanted), User.deleted_at.is_(None)))).all()) if wanted else set()
    invited = set((await session.scalars(select(func.lower(Invitation.email)).where(
        func.lower(Invitation.email).in_(wanted), Invitation.used_at.is_(None), Invitation.revoked_at.is_(None),
        Invitation.expires_at > now()))).all()) if wanted else set()
    lines = {n: line for n, line, _ in rows}
    seen: set[str] = set()
    for row in checked:
        if isinstance(row, BadRow):
            result.bad.append(row)
            continue
        key = row.email.lower()
        line = lines[row.line]
        if key in seen:
            result.bad.append(BadRow(row.line, line, "A duplicate of an address above."))
        elif key in members:
            result.bad.append(BadRow(row.line, line, "This address already belongs to a member."))
        elif key in invited:
            result.bad.append(BadRow(row.line, line, "This address has an open invitation already: resend it instead."))
        else:
            result.queued.append(row)
        seen.add(key)
    return result


def _mail(settings: Settings, actor: Viewer, row: Row, token: str, expires: datetime) -> Mail:
    return Mail(row.email, "invitation", {
        "inviter": actor.display_name, "role_phrase": ROLE_PHRASES[row.role], "cohort": row.cohort or "",
        "expires": f"{expires:%d %B %Y}", "join_url": f"{settings.base_url}/join/{token}"})


async def invite_many(session: AsyncSession, outbox: Outbox, settings: Settings, actor: Viewer, *, text: str,
                      role: str, cohort: str = "", days: int = 7) -> BulkResult:
    """Queues an invitation email per good row, in the caller's transaction (all of them, or none)."""
    require_staff(actor)
    role = check_role(role)
    if not actor.is_admin and role in ("moderator", "admin"):
        raise Invalid(fields={"role": "Only admins can invite moderators and admins."})
    if not 1 <= days <= 90:
        raise Invalid(fields={"days": "Choose between 1 and 90 days."})
    result = await parse(session, actor, text, role=role, cohort=check_optional(cohort, "cohort", 80))
    if not result.queued:
        return result
    expires = now() + timedelta(days=days)
    tokens = [new_token() for _ in result.queued]
    mail_ids = await outbox.enqueue_many(session, [_mail(settings, actor, row, token, expires)
                                                   for row, token in zip(result.queued, tokens, strict=True)])
    await session.execute(insert(Invitation), [
        {"token_hash": token_hash(token), "role": row.role, "cohort": row.cohort, "email": row.email,
         "outbox_id": mail_id, "created_by": actor.id, "expires_at": expires}
        for row, token, mail_id in zip(result.queued, tokens, mail_ids, strict=True)])
    await audit.record(session, actor, "invitation.bulk", target_type="invitation",
                       target_label=f"{len(result.queued)} by email",
                       details={"queued": len(result.queued), "bad": len(result.bad), "days": days})
    return result


def delivery_state(invitation: Invitation, mail_status: str | None) -> str:
    """queued / sent / failed while an emailed invitation is open; accepted, expired or revoked after."""
    state = invitation_state(invitation)
    if state != "open":
        return {"used": "accepted"}.get(state, state)
    if invitation.email is None:
        return "open"  # a link handed over by hand
    return {"queued": "queued", "dead": "failed"}.get(mail_status or "sent", "sent")


async def mail_statuses(session: AsyncSession, invitations: Sequence[Invitation]) -> dict[int, str]:
    """The outbox status of each emailed invitation's message, by invitation id (one query)."""
    ids = {i.outbox_id: i.id for i in invitations if i.outbox_id is not None}
    if not ids:
        return {}
    rows = await session.execute(select(OutboxMessage.id, OutboxMessage.status).where(OutboxMessage.id.in_(ids)))
    return {ids[mail_id]: status for mail_id, status in rows}


async def resend(session: AsyncSession, outbox: Outbox, settings: Settings, actor: Viewer,
                 invitation_id: int) -> Invitation:
    """A new link by mail (the old one stops working) and a fresh expiry; not for accepted or revoked ones."""
    require_staff(actor)
    invitation = await session.get(Invitation, invitation_id, with_for_update=True)
    if invitation is None:
        raise NotFound("No such invitation.")
    if invitation.email is None:
        raise Invalid("This invitation was a link handed over by hand: it has no address to send to.")
    state = invitation_state(invitation)
    if state in ("used", "revoked"):
        raise Invalid(f"This invitation was {'accepted' if state == 'used' else 'revoked'}; it cannot be sent again.")
    if not actor.is_admin and invitation.role in ("moderator", "admin"):
        raise Invalid("Only admins can invite moderators and admins.")
    token = new_token()
    invitation.token_hash = token_hash(token)
    invitation.expires_at = now() + timedelta(days=settings.invite_days)
    row = Row(0, invitation.email, invitation.role, invitation.cohort)
    invitation.outbox_id = (await outbox.enqueue_many(session, [_mail(settings, actor, row, token,
                                                                      invitation.expires_at)]))[0]
    await audit.record(session, actor, "invitation.resend", target_type="invitation", target_id=invitation.id)
    return invitation
