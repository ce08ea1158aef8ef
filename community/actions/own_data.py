"""A member's own data: download everything they wrote (JSON, or Markdown files in a zip), or delete the account.

Other pillars plug in without this module knowing them:
- `EXPORTERS`: `async (session, viewer, anon_key) -> (name, list_of_dicts)`; each adds a section to the export.
- `DELETION_HOOKS`: `async (session, user_id, anon_key, keep_shared: bool) -> None`; each removes or
  anonymizes that pillar's writing when a member deletes their account.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.actions import audit
from community.actions.accounts import revoke_sessions
from community.actions.prompts import THEMES
from community.actions.reflection_drafts import draft_tag, my_drafts
from community.actions.reflection_replies import pseudonym, reactor_tag, reply_tag
from community.actions.reflection_targets import withdraw_review_items
from community.actions.reflections import anon_tag, mine_clause
from community.errors import Invalid, NotFound
from community.models.accounts import User
from community.models.moderation import Notification
from community.models.reflections import (
    Prompt,
    Reflection,
    ReflectionDraft,
    ReflectionReaction,
    ReflectionReply,
)
from community.security import Passwords
from community.viewer import Viewer

Exporter = Callable[[AsyncSession, Viewer, str], Awaitable[tuple[str, list[dict[str, Any]]]]]
DeletionHook = Callable[[AsyncSession, int, str, bool], Awaitable[None]]
EXPORTERS: list[Exporter] = []
DELETION_HOOKS: list[DeletionHook] = []
CHOICES = {"remove": "Remove my shared writing", "anonymize": "Leave my shared writing, anonymously"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


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


async def _mine(session: AsyncSession, viewer: Viewer, anon_key: str) -> list[Reflection]:
    return list(await session.scalars(select(Reflection).where(mine_clause(viewer, anon_key))
                                      .order_by(Reflection.id)))


def _my_replies_clause(viewer: Viewer, anon_key: str):  # type: ignore[no-untyped-def]
    return or_(ReflectionReply.author_id == viewer.id, ReflectionReply.author_tag == reply_tag(anon_key, viewer.id))


async def export_data(session: AsyncSession, viewer: Viewer, anon_key: str) -> dict[str, Any]:
    user = await session.get(User, viewer.id)
    if user is None or user.deleted_at:
        raise NotFound()
    reflections = await _mine(session, viewer, anon_key)
    prompts = dict((await session.execute(select(Prompt.id, Prompt.title))).all())
    replies = list(await session.scalars(select(ReflectionReply).where(_my_replies_clause(viewer, anon_key))
                                         .order_by(ReflectionReply.id)))
    reactions = (await session.execute(select(ReflectionReaction.reflection_id, ReflectionReaction.kind).where(
        ReflectionReaction.reactor_tag == reactor_tag(anon_key, viewer.id)))).all()
    drafts = await my_drafts(session, viewer, anon_key, [r.id for r in reflections])
    data: dict[str, Any] = {
        "exported_at": datetime.now(UTC).isoformat(),
        "member": {"display_name": user.display_name, "handle": user.handle, "email": user.email,
                   "role": user.role, "specialty": user.specialty, "training_year": user.training_year,
                   "pronouns": user.pronouns, "timezone": user.timezone, "joined": _iso(user.created_at)},
        "reflections": [{
            "id": r.id, "title": r.title, "body": r.body, "visibility": r.visibility, "state": r.state,
            "theme": THEMES.get(r.theme or "", None), "prompt": prompts.get(r.prompt_id),
            "created_at": _iso(r.created_at), "updated_at": _iso(r.updated_at)} for r in reflections],
        "reflection_replies": [{
            "id": r.id, "reflection_id": r.reflection_id, "body": r.body, "anonymous": r.anonymous or
            r.author_id is None, "state": r.state, "created_at": _iso(r.created_at),
            "edited_at": _iso(r.edited_at)} for r in replies],
        "reactions": [{"reflection_id": rid, "kind": kind} for rid, kind in reactions],
        "drafts": [{"slot": slot, "title": d.title, "body": d.body, "updated_at": _iso(d.updated_at)}
                   for slot, d in drafts],
    }
    for exporter in [*EXPORTERS, _discussions_exporter]:
        name, rows = await exporter(session, viewer, anon_key)
        if rows or name not in data:
            data[name] = _jsonable(rows)
    return data


async def _discussions_exporter(session: AsyncSession, viewer: Viewer, anon_key: str
                                ) -> tuple[str, list[dict[str, Any]]]:
    """Thread posts belong to the discussions pillar: included when its tables exist (import guarded)."""
    try:
        from community.models import discussions  # type: ignore[attr-defined]
    except ImportError:
        return "threads", []
    rows: list[dict[str, Any]] = []
    for name in ("Thread", "Post"):
        model = getattr(discussions, name, None)
        author = getattr(model, "author_id", None) if model is not None else None
        if author is None:
            continue
        for row in await session.scalars(select(model).where(author == viewer.id)):
            item = {"kind": name.lower()}
            for column in model.__table__.columns:  # type: ignore[union-attr]
                if column.key not in ("author_id", "search", "author_tag", "sealed_author"):
                    item[column.key] = getattr(row, column.key, None)
            rows.append(item)
    return "threads", rows


def _slug(text: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "-", (text or "untitled").lower()).strip("-")[:50] or "untitled"


def export_zip(data: dict[str, Any]) -> bytes:
    """data.json plus one Markdown file per reflection and one for replies."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
        for r in data["reflections"]:
            lines = [f"# {r['title'] or 'Untitled reflection'}", "",
                     f"- Written: {r['created_at']}", f"- Visibility: {r['visibility']}"]
            if r.get("prompt"):
                lines.append(f"- Prompt: {r['prompt']}")
            if r.get("theme"):
                lines.append(f"- Theme: {r['theme']}")
            lines += ["", r["body"], ""]
            archive.writestr(f"reflections/{r['id']:05d}-{_slug(r['title'])}.md", "\n".join(lines))
        if data["reflection_replies"]:
            parts = ["# Your replies to reflections", ""]
            for r in data["reflection_replies"]:
                parts += [f"## Reply {r['id']} (reflection {r['reflection_id']}, {r['created_at']})", "",
                          r["body"], ""]
            archive.writestr("replies.md", "\n".join(parts))
        for d in data["drafts"]:
            archive.writestr(f"drafts/{_slug(d['slot'])}.md", f"# {d['title'] or 'Draft'}\n\n{d['body']}\n")
        archive.writestr("README.txt", "Everything you wrote on Compassionate Practice, exported "
                         f"{data['exported_at']}.\ndata.json has it all; the folders hold the same writing as "
                         "Markdown.\n")
    return buffer.getvalue()


async def delete_account(session: AsyncSession, passwords: Passwords, viewer: Viewer, anon_key: str, *,
                         password: str, choice: str) -> None:
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
    reflections = await _mine(session, viewer, anon_key)
    drafts = await my_drafts(session, viewer, anon_key, [r.id for r in reflections])
    await session.execute(delete(ReflectionDraft).where(
        ReflectionDraft.owner_tag.in_([draft_tag(anon_key, viewer.id, slot) for slot, _ in drafts] or [""])))
    doomed = [r.id for r in reflections if r.visibility == "private" or not keep_shared]
    for reflection in reflections:
        if reflection.id in doomed:
            continue
        # Left anonymous, for good: no id, no tag, no sealed value to unmask.
        reflection.visibility, reflection.author_id = "anonymous", None
        reflection.author_tag, reflection.sealed_author = None, None
    if doomed:
        reply_ids = list(await session.scalars(select(ReflectionReply.id).where(
            ReflectionReply.reflection_id.in_(doomed))))
        await withdraw_review_items(session, "reflection", doomed)
        await withdraw_review_items(session, "reflection_reply", reply_ids)
        await session.execute(delete(Reflection).where(Reflection.id.in_(doomed)))
    replies = list(await session.scalars(select(ReflectionReply).where(_my_replies_clause(viewer, anon_key))))
    if keep_shared:
        for reply in replies:
            if reply.author_id is not None:
                reply.pseudonym = pseudonym(anon_key, viewer.id, reply.reflection_id)
            reply.author_id, reply.author_tag, reply.sealed_author, reply.anonymous = None, None, None, True
    elif replies:
        await withdraw_review_items(session, "reflection_reply", [r.id for r in replies])
        await session.execute(delete(ReflectionReply).where(ReflectionReply.id.in_([r.id for r in replies])))
    await session.execute(delete(ReflectionReaction).where(
        ReflectionReaction.reactor_tag == reactor_tag(anon_key, viewer.id)))
    await session.execute(delete(Notification).where(or_(
        Notification.user_id == viewer.id, Notification.recipient_tag == anon_tag(anon_key, viewer.id))))
    for hook in [*DELETION_HOOKS, _discussions_deletion, _rooms_deletion]:
        await hook(session, viewer.id, anon_key, keep_shared)
    await revoke_sessions(session, viewer.id)
    user.email = f"deleted-{user.id}@deleted.invalid"
    user.display_name, user.handle = "Former member", f"former_{user.id}"
    user.password_hash = user.specialty = user.training_year = user.pronouns = user.cohort = None
    user.deleted_at = datetime.now(UTC)
    await audit.record(session, None, "member.delete_account", target_type="user", target_id=user.id,
                       target_label="Former member", details={"shared_writing": choice})
    await session.flush()


async def _discussions_deletion(session: AsyncSession, user_id: int, anon_key: str, keep_shared: bool) -> None:
    """Thread posts: removed (shown as "removed by the author" where replies depend on them), or left to
    stand under "Former member" once the account row is scrubbed."""
    try:
        from community.models.discussions import Post
    except ImportError:
        return
    if not keep_shared:
        await session.execute(update(Post).where(Post.author_id == user_id, Post.state != "removed")
                              .values(state="removed", deleted_by_author=True))


async def _rooms_deletion(session: AsyncSession, user_id: int, anon_key: str, keep_shared: bool) -> None:
    """Room messages: deleted from transcripts, or kept under "Former member"; the name snapshot goes."""
    try:
        from community.models.rooms import RoomMessage, RoomParticipant
    except ImportError:
        return
    participant_ids = list(await session.scalars(select(RoomParticipant.id).where(RoomParticipant.user_id == user_id)))
    if not participant_ids:
        return
    if not keep_shared:
        await session.execute(update(RoomMessage).where(RoomMessage.participant_id.in_(participant_ids),
                                                        RoomMessage.deleted_at.is_(None))
                              .values(deleted_at=datetime.now(UTC)))
    await session.execute(update(RoomParticipant).where(RoomParticipant.id.in_(participant_ids),
                                                        RoomParticipant.anonymous.is_(False))
                          .values(label="Former member"))
