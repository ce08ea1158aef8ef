"""Moderation adapters for "reflection" and "reflection_reply": the review queue acts without learning authors.

For anonymous content the TargetView carries no author id, a coarse (day) time, and the label "Anonymous";
`author_user_id` unseals the member id internally, only so that a sanction or a message can reach them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.actions.notifications import notify
from community.anon_key import require_anon_key
from community.models.accounts import User
from community.models.moderation import ReviewItem
from community.models.reflections import STATES, Reflection, ReflectionReply
from community.moderation_targets import TargetView, register
from community.sealing import author_tag, unseal


def day_of(value: datetime) -> datetime:
    """Coarsens a time to the start of its day (UTC): nothing to match against activity by the minute."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def _unseal_id(sealed: str | None) -> int | None:
    if not sealed:
        return None
    try:
        return int(unseal(require_anon_key(), sealed))
    except (ValueError, TypeError):
        return None
    except Exception:  # a sealed value from another key (rotated ANON_KEY): the author cannot be reached
        return None


async def withdraw_review_items(session: AsyncSession, kind: str, target_ids: list[int]) -> None:
    """Writing that became private or was deleted leaves the queue: moderators never see private writing."""
    if target_ids:
        await session.execute(update(ReviewItem).where(
            ReviewItem.target_kind == kind, ReviewItem.target_id.in_(target_ids),
            ReviewItem.resolved_at.is_(None)).values(resolved_at=datetime.now(UTC), decision="withdrawn",
                                                     decision_reason="Withdrawn by its author."))


class ReflectionAdapter:
    kind = "reflection"

    async def load(self, session: AsyncSession, ids: list[int]) -> dict[int, TargetView]:
        rows = (await session.execute(
            select(Reflection, User.display_name).outerjoin(User, User.id == Reflection.author_id)
            .where(Reflection.id.in_(ids)))).all()
        views: dict[int, TargetView] = {}
        for reflection, name in rows:
            if reflection.visibility == "private":
                continue  # private writing is never moderated: to the queue it does not exist
            anonymous = reflection.visibility == "anonymous"
            views[reflection.id] = TargetView(
                kind=self.kind, id=reflection.id,
                title=f"Reflection “{reflection.title}”" if reflection.title else "Untitled reflection",
                body_html=reflection.body_html, url=f"/reflections/{reflection.id}",
                author_label="Anonymous" if anonymous else (name or "Former member"),
                author_id=None if anonymous else reflection.author_id, state=reflection.state,
                created_at=day_of(reflection.created_at) if anonymous else reflection.created_at,
                anonymous=anonymous)
        return views

    async def set_state(self, session: AsyncSession, target_id: int, state: str, reason: str | None) -> None:
        reflection = await session.get(Reflection, target_id)
        if reflection is None or reflection.visibility == "private":
            return
        reflection.state = state if state in STATES else "hidden"

    async def author_user_id(self, session: AsyncSession, target_id: int) -> int | None:
        reflection = await session.get(Reflection, target_id)
        if reflection is None or reflection.visibility == "private":
            return None
        if reflection.visibility == "named":
            return reflection.author_id
        return _unseal_id(reflection.sealed_author)

    async def notify_author(self, session: AsyncSession, target_id: int, kind: str, text: str,
                            url: str | None) -> None:
        reflection = await session.get(Reflection, target_id)
        if reflection is None:
            return
        if reflection.visibility == "named" and reflection.author_id:
            await notify(session, user_id=reflection.author_id, kind=kind, text=text, url=url)
        elif reflection.visibility == "anonymous" and reflection.author_tag:
            await notify(session, tag=reflection.author_tag, kind=kind, text=text, url=url)


class ReplyAdapter:
    kind = "reflection_reply"

    async def load(self, session: AsyncSession, ids: list[int]) -> dict[int, TargetView]:
        rows = (await session.execute(
            select(ReflectionReply, Reflection.title, User.display_name)
            .join(Reflection, Reflection.id == ReflectionReply.reflection_id)
            .outerjoin(User, User.id == ReflectionReply.author_id)
            .where(ReflectionReply.id.in_(ids), Reflection.visibility != "private"))).all()
        views: dict[int, TargetView] = {}
        for reply, parent_title, name in rows:
            anonymous = reply.anonymous or reply.author_id is None
            label = ("Anonymous · author" if reply.is_author else f"Anonymous · {reply.pseudonym or 'member'}") \
                if anonymous else (name or "Former member")
            views[reply.id] = TargetView(
                kind=self.kind, id=reply.id,
                title=f"Reply to “{parent_title}”" if parent_title else "Reply to a reflection",
                body_html=reply.body_html, url=f"/reflections/{reply.reflection_id}#reply-{reply.id}",
                author_label=label, author_id=None if anonymous else reply.author_id, state=reply.state,
                created_at=day_of(reply.created_at) if anonymous else reply.created_at, anonymous=anonymous)
        return views

    async def set_state(self, session: AsyncSession, target_id: int, state: str, reason: str | None) -> None:
        reply = await session.get(ReflectionReply, target_id)
        if reply is not None:
            reply.state = state if state in STATES else "hidden"

    async def author_user_id(self, session: AsyncSession, target_id: int) -> int | None:
        reply = await session.get(ReflectionReply, target_id)
        if reply is None:
            return None
        if reply.author_id is not None:
            return reply.author_id
        return _unseal_id(reply.sealed_author)

    async def notify_author(self, session: AsyncSession, target_id: int, kind: str, text: str,
                            url: str | None) -> None:
        reply = await session.get(ReflectionReply, target_id)
        if reply is None:
            return
        if reply.author_id is not None:
            await notify(session, user_id=reply.author_id, kind=kind, text=text, url=url)
            return
        member = _unseal_id(reply.sealed_author)
        if member is not None:
            await notify(session, tag=author_tag(require_anon_key(), member), kind=kind, text=text, url=url)


reflection_adapter = register(ReflectionAdapter())
reply_adapter = register(ReplyAdapter())
