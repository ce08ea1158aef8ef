"""A member's own data: download everything they wrote (JSON, or Markdown files in a zip), or delete the account.

The member's profile is the platform's; each pillar adds its sections and deletes its writing through the
`OwnData` value it hands create_app (Pillar.own_data), in the order the app lists the pillars.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts import scopes
from community.platform.accounts.actions import revoke_sessions
from community.platform.accounts.models import RecoveryCode, SecondFactor, User
from community.platform.accounts.security import Passwords
from community.platform.anonymity import Anonymity
from community.platform.drafts import store as drafts
from community.platform.errors import Invalid, NotFound
from community.platform.pillar import OwnData
from community.platform.review import audit, checkins
from community.platform.review.models import Mention, Notification
from community.platform.viewer import Viewer

CHOICES = {"remove": "Remove my shared writing", "anonymize": "Leave my shared writing, anonymously"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


async def export_data(session: AsyncSession, viewer: Viewer, anonymity: Anonymity,
                      parts: Sequence[OwnData]) -> dict[str, Any]:
    user = await session.get(User, viewer.id)
    if user is None or user.deleted_at:
        raise NotFound()
    data: dict[str, Any] = {
        "exported_at": datetime.now(UTC).isoformat(),
        "member": {"display_name": user.display_name, "handle": user.handle, "email": user.email,
                   "role": user.role, "specialty": user.specialty, "training_year": user.training_year,
                   "pronouns": user.pronouns, "timezone": user.timezone, "joined": _jsonable(user.created_at)},
        # What they are and when they were used; never a secret or a key.
        "second_factors": [{"kind": f.kind, "label": f.label, "added": _jsonable(f.created_at),
                            "last_used": _jsonable(f.last_used_at)}
                           for f in await session.scalars(select(SecondFactor).where(
                               SecondFactor.user_id == viewer.id, SecondFactor.confirmed_at.is_not(None)))],
    }
    for part in parts:
        data.update(_jsonable(await part.export(session, viewer, anonymity)))
    data["conversations_with_moderators"] = _jsonable(await checkins.export_mine(session, viewer, anonymity))
    data["composer_drafts"] = await drafts.export_mine(session, anonymity, viewer)
    return data


def export_zip(data: dict[str, Any], parts: Sequence[OwnData]) -> bytes:
    """data.json, the pillars' Markdown files, and a README."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        for part in parts:
            if part.write_zip is not None:
                part.write_zip(archive, data)
        archive.writestr("README.txt", "Everything you wrote on Compassionate Practice, exported "
                         f"{data['exported_at']}.\ndata.json has it all; the folders hold the same writing as "
                         "Markdown.\n")
    return buffer.getvalue()


async def delete_account(session: AsyncSession, passwords: Passwords, viewer: Viewer, anonymity: Anonymity,
                         parts: Sequence[OwnData], *, password: str, choice: str) -> None:
    """Private writing is destroyed; shared writing is removed or left anonymous (unlinked for good)."""
    user = await session.get(User, viewer.id)
    if user is None or user.deleted_at:
        raise NotFound()
    errors: dict[str, str] = {}
    if choice not in CHOICES:
        errors["choice"] = "Choose what happens to your shared writing."
    if not password or not user.password_hash or not passwords.verify(user.password_hash, password[:1024]):
        errors["password"] = "Your password is not correct."
    if errors:
        raise Invalid(fields=errors)
    keep_shared = choice == "anonymize"
    tags = await scopes.tags_of(session, anonymity, viewer.id)
    for part in parts:
        await part.delete(session, viewer, anonymity, keep_shared)
    await checkins.delete_mine(session, viewer, anonymity)
    await drafts.delete_mine(session, anonymity, viewer)
    await session.execute(delete(Notification).where(or_(
        Notification.user_id == viewer.id, Notification.recipient_tag.in_(tags))))
    await session.execute(delete(Mention).where(Mention.user_id == viewer.id))  # who mentioned them, and where
    # Last, once every part has found the member's pieces through it: their keyring.
    await scopes.forget_member(session, anonymity, viewer.id)
    await revoke_sessions(session, viewer.id)
    # Their second factors and recovery codes go too (a passkey's public key names a device of theirs).
    await session.execute(delete(SecondFactor).where(SecondFactor.user_id == viewer.id))
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == viewer.id))
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.display_name, user.handle = "Former member", f"former_{user.id}"
    user.password_hash = user.specialty = user.training_year = user.pronouns = user.cohort = None
    user.deleted_at = datetime.now(UTC)
    await audit.record(session, None, "member.delete_account", target_type="user", target_id=user.id,
                       target_label="Former member", details={"shared_writing": choice})
    await session.flush()
