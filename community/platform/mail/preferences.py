"""Which notification email a member gets: per kind, immediately / daily digest / weekly digest / off; and the
signed unsubscribe links that change one kind without signing in."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts.models import User
from community.platform.errors import Invalid
from community.platform.mail.models import FREQUENCIES, MailPreference

# Kinds of notification email, what the settings page calls them, and their defaults: what someone is waiting
# for (a mention, the outcome of a flag) comes at once; replies gather in a daily digest.
KINDS = {
    "replies": "Replies to me (threads and reflections)",
    "mentions": "Mentions of me",
    "outcomes": "Outcomes of my flags and of my writing",
    "checkins": "Check-ins from moderators",
    "room_reminders": "Room reminders, new sessions by hosts I follow, and my office-hour bookings",
}
DEFAULTS = {"replies": "daily", "mentions": "immediately", "outcomes": "immediately", "checkins": "immediately",
            "room_reminders": "immediately"}
# In-app notification kind -> the kind of email it belongs to (a kind not listed here is never mailed).
NOTIFICATION_KINDS = {"reply": "replies", "reflection_reply": "replies", "mention": "mentions",
                      "moderation": "outcomes", "warning": "outcomes", "check_in": "checkins",
                      "room_reminder": "room_reminders", "room_session": "room_reminders",
                      "office_hours": "room_reminders"}
# An unsubscribe token may also name a whole digest ("daily" / "weekly"): every kind sent in it goes off.
DIGESTS = ("daily", "weekly")


async def for_member(session: AsyncSession, user_id: int) -> dict[str, str]:
    rows = await session.execute(select(MailPreference.kind, MailPreference.frequency)
                                 .where(MailPreference.user_id == user_id))
    return DEFAULTS | {kind: frequency for kind, frequency in rows if kind in KINDS}


async def for_members(session: AsyncSession, user_ids: list[int]) -> dict[int, dict[str, str]]:
    """Every member's choices in one query."""
    chosen: dict[int, dict[str, str]] = {uid: dict(DEFAULTS) for uid in user_ids}
    if user_ids:
        rows = await session.execute(select(MailPreference.user_id, MailPreference.kind, MailPreference.frequency)
                                     .where(MailPreference.user_id.in_(user_ids)))
        for user_id, kind, frequency in rows:
            if kind in KINDS:
                chosen[user_id][kind] = frequency
    return chosen


async def save(session: AsyncSession, user_id: int, choices: dict[str, str]) -> None:
    """Stores the choices given (kinds left out keep theirs); an unknown kind or frequency is a field message."""
    errors = {f"kind_{k}": "Choose immediately, daily, weekly or off." for k, v in choices.items()
              if k in KINDS and v not in FREQUENCIES}
    if errors or any(k not in KINDS for k in choices):
        raise Invalid(fields=errors or {"kinds": "Unknown kind of email."})
    for kind, frequency in choices.items():
        if frequency == DEFAULTS[kind]:
            await session.execute(delete(MailPreference).where(MailPreference.user_id == user_id,
                                                               MailPreference.kind == kind))
            continue
        await session.execute(insert(MailPreference).values(user_id=user_id, kind=kind, frequency=frequency)
                              .on_conflict_do_update(index_elements=["user_id", "kind"],
                                                     set_={"frequency": frequency}))


async def excerpts_of(session: AsyncSession, user_id: int) -> bool:
    """Whether the member's notification mail quotes a few lines of signed thread posts (off unless chosen)."""
    return bool(await session.scalar(select(User.mail_excerpts).where(User.id == user_id)))


def check_excerpts(value: str) -> bool:
    """The form's checkbox: "1" (on) or absent (off); anything else is a field message."""
    if value not in ("", "1"):
        raise Invalid(fields={"excerpts": "Tick the box to get excerpts, or leave it empty."})
    return value == "1"


async def save_excerpts(session: AsyncSession, user_id: int, on: bool) -> None:
    await session.execute(update(User).where(User.id == user_id).values(mail_excerpts=on))


async def unsubscribe(session: AsyncSession, user_id: int, what: str) -> list[str]:
    """Turns one kind off, or (a digest) every kind now sent in that digest; returns the kinds turned off."""
    if what in DIGESTS:
        current = await for_member(session, user_id)
        kinds = [kind for kind, frequency in current.items() if frequency == what]
    else:
        kinds = [what]
    await save(session, user_id, dict.fromkeys(kinds, "off"))
    return kinds


def _signer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="mail-unsubscribe")


def unsubscribe_token(secret_key: str, user_id: int, what: str) -> str:
    """A link that needs no session: it names the member and the kind (or digest), signed with SECRET_KEY."""
    assert what in KINDS or what in DIGESTS, what
    return _signer(secret_key).dumps([user_id, what])


def read_token(secret_key: str, token: str) -> tuple[int, str] | None:
    """(member id, kind or digest) from a link, or None when it was not made by us."""
    try:
        value = _signer(secret_key).loads(token)
    except BadSignature:
        return None
    if (not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], int)
            or value[1] not in (*KINDS, *DIGESTS)):
        return None
    return value[0], value[1]
