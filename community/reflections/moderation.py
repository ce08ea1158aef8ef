"""Moderation adapters for "reflection" and "reflection_reply": the review queue acts without learning authors.

For anonymous content the TargetView carries no author id, a coarse (day) time, and the label "Anonymous";
`author_user_id` unseals the member id internally, only so that a sanction or a message can reach them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import literal as sa_literal
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from community.platform.accounts.models import User
from community.platform.anonymity import Anonymity
from community.platform.errors import Forbidden
from community.platform.notify.notifications import notify
from community.platform.review.models import ReviewItem
from community.platform.review.targets import TargetView
from community.platform.viewer import Viewer
from community.reflections import mentioning
from community.reflections.models import (
    STATES,
    Reflection,
    ReflectionReply,
    ReflectionReplyRevision,
    ReflectionRevision,
)


async def _revisions(session: AsyncSession, viewer: Viewer, kind: str, target_id: int) -> list[Any]:
    """Earlier versions of a shared reflection or of a reply, newest first: for moderators only (the review page).
    Each has `title` (reflections only), `body` and `created_at` (the day of the edit)."""
    if not viewer.is_moderator:
        raise Forbidden("Only moderators see earlier versions.")
    if kind == "reflection":
        query = (select(ReflectionRevision.title, ReflectionRevision.body, ReflectionRevision.created_at)
                 .where(ReflectionRevision.reflection_id == target_id)
                 .order_by(ReflectionRevision.id.desc()))
    elif kind == "reflection_reply":
        query = (select(sa_literal(None).label("title"), ReflectionReplyRevision.body,
                        ReflectionReplyRevision.created_at)
                 .where(ReflectionReplyRevision.reply_id == target_id)
                 .order_by(ReflectionReplyRevision.id.desc()))
    else:
        return []
    return list((await session.execute(query)).all())


async def withdraw_review_items(session: AsyncSession, kind: str, target_ids: list[int]) -> None:
    """Writing that became private or was deleted leaves the queue: moderators never see private writing."""
    if target_ids:
        await session.execute(update(ReviewItem).where(
            ReviewItem.target_kind == kind, ReviewItem.target_id.in_(target_ids),
            ReviewItem.resolved_at.is_(None)).values(resolved_at=datetime.now(UTC), decision="withdrawn",
                                                     decision_reason="Withdrawn by its author."))


class _WritingAdapter:
    """What both adapters share: the anonymity service (to reach hidden writers) and earlier versions."""

    kind: str

    def __init__(self, anonymity: Anonymity) -> None:
        self.anonymity = anonymity

    async def readable(self, session: AsyncSession, viewer: Viewer, view: TargetView) -> bool:
        """Shared writing that is visible is on the wall for every member (private writing never loads)."""
        return view.state == "visible"

    async def review_context(self, session: AsyncSession, viewer: Viewer, target_id: int) -> dict[str, Any]:
        return {"revisions": await _revisions(session, viewer, self.kind, target_id)}


class ReflectionAdapter(_WritingAdapter):
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
                body_html=reflection.body_html, url=f"/reflections/{reflection.id}", back_url="/reflections",
                author_label="Anonymous" if anonymous else (name or "Former member"),
                author_id=None if anonymous else reflection.author_id, state=reflection.state,
                created_at=self.anonymity.day_of(reflection.created_at) if anonymous else reflection.created_at,
                anonymous=anonymous)
        return views

    async def set_state(self, session: AsyncSession, target_id: int, state: str, reason: str | None) -> None:
        reflection = await session.get(Reflection, target_id)
        if reflection is None or reflection.visibility == "private":
            return
        reflection.state = state if state in STATES else "hidden"
        if reflection.state == "visible":
            await mentioning.reflection_approved(session, reflection)

    async def author_user_id(self, session: AsyncSession, target_id: int) -> int | None:
        reflection = await session.get(Reflection, target_id)
        if reflection is None or reflection.visibility == "private":
            return None
        if reflection.visibility == "named":
            return reflection.author_id
        return self.anonymity.unseal_id(reflection.sealed_author)

    async def notify_author(self, session: AsyncSession, target_id: int, kind: str, text: str,
                            url: str | None) -> None:
        reflection = await session.get(Reflection, target_id)
        if reflection is None:
            return
        if reflection.visibility == "named" and reflection.author_id:
            await notify(session, user_id=reflection.author_id, kind=kind, text=text, url=url)
        elif reflection.visibility == "anonymous" and reflection.author_tag:
            await notify(session, tag=reflection.author_tag, anonymity=self.anonymity, kind=kind, text=text, url=url)


class ReplyAdapter(_WritingAdapter):
    kind = "reflection_reply"

    async def load(self, session: AsyncSession, ids: list[int]) -> dict[int, TargetView]:
        rows = (await session.execute(
            select(ReflectionReply, Reflection.title, Reflection.state, User.display_name)
            .join(Reflection, Reflection.id == ReflectionReply.reflection_id)
            .outerjoin(User, User.id == ReflectionReply.author_id)
            .where(ReflectionReply.id.in_(ids), Reflection.visibility != "private"))).all()
        views: dict[int, TargetView] = {}
        for reply, parent_title, parent_state, name in rows:
            anonymous = reply.anonymous or reply.author_id is None
            label = ("Anonymous · author" if reply.is_author else f"Anonymous · {reply.pseudonym or 'member'}") \
                if anonymous else (name or "Former member")
            views[reply.id] = TargetView(
                kind=self.kind, id=reply.id,
                title=f"Reply to “{parent_title}”" if parent_title else "Reply to a reflection",
                body_html=reply.body_html, url=f"/reflections/{reply.reflection_id}#reply-{reply.id}",
                back_url=f"/reflections/{reply.reflection_id}",
                author_label=label, author_id=None if anonymous else reply.author_id, state=reply.state,
                created_at=self.anonymity.day_of(reply.created_at) if anonymous else reply.created_at, anonymous=anonymous,
                extra={"reflection_state": parent_state})
        return views

    async def readable(self, session: AsyncSession, viewer: Viewer, view: TargetView) -> bool:
        """A reply is read under its reflection: one that was hidden or removed takes its replies with it."""
        return view.state == "visible" and view.extra.get("reflection_state") == "visible"

    async def set_state(self, session: AsyncSession, target_id: int, state: str, reason: str | None) -> None:
        reply = await session.get(ReflectionReply, target_id)
        if reply is not None:
            reply.state = state if state in STATES else "hidden"
            if reply.state == "visible":
                await mentioning.reply_approved(session, reply)

    async def author_user_id(self, session: AsyncSession, target_id: int) -> int | None:
        reply = await session.get(ReflectionReply, target_id)
        if reply is None:
            return None
        if reply.author_id is not None:
            return reply.author_id
        return self.anonymity.unseal_id(reply.sealed_author)

    async def notify_author(self, session: AsyncSession, target_id: int, kind: str, text: str,
                            url: str | None) -> None:
        reply = await session.get(ReflectionReply, target_id)
        if reply is None:
            return
        if reply.author_id is not None:
            await notify(session, user_id=reply.author_id, kind=kind, text=text, url=url)
            return
        if reply.author_tag is not None:
            # The reply's own scope tag (its writer's keyring holds it): nothing about their other writing.
            await notify(session, tag=reply.author_tag, anonymity=self.anonymity, kind=kind, text=text, url=url)


def adapters(anonymity: Anonymity) -> tuple[ReflectionAdapter, ReplyAdapter]:
    return ReflectionAdapter(anonymity), ReplyAdapter(anonymity)
