"""Moderating mentor conversations: the review queue reaches their messages through this adapter only. A flag
from either member opens a review item (platform.review); moderators read the reported message and the two before
it, never the whole conversation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from community.mentorship.models import Conversation, ConversationMessage
from community.platform.accounts.models import User
from community.platform.notify.notifications import notify
from community.platform.review.targets import TargetView
from community.platform.viewer import Viewer


class MentorMessageAdapter:
    kind = "mentor_message"

    async def review_context(self, session: AsyncSession, viewer: Viewer, target_id: int) -> dict[str, Any]:
        return {}

    async def load(self, session: AsyncSession, ids: list[int]) -> dict[int, TargetView]:
        rows = (await session.execute(
            select(ConversationMessage, User.display_name, Conversation.mentor_id, Conversation.member_id)
            .join(Conversation, Conversation.id == ConversationMessage.conversation_id)
            .outerjoin(User, User.id == ConversationMessage.author_id)
            .where(ConversationMessage.id.in_(ids)))).all()
        return {m.id: TargetView(
            kind=self.kind, id=m.id, title="Message in a mentor conversation", body_html=m.body_html,
            url=f"/mentorship/conversations/{m.conversation_id}#m{m.id}", author_label=name or "Former member",
            author_id=m.author_id, state=m.state, created_at=m.created_at,
            extra={"members": (mentor_id, member_id)}) for m, name, mentor_id, member_id in rows}

    async def readable(self, session: AsyncSession, viewer: Viewer, view: TargetView) -> bool:
        """Only the conversation's two members read its messages where they live."""
        members = view.extra["members"]
        assert isinstance(members, tuple)
        return viewer.id in members

    async def set_state(self, session: AsyncSession, target_id: int, state: str, reason: str | None) -> None:
        message = await session.get(ConversationMessage, target_id)
        if message is not None:
            message.state = state

    async def author_user_id(self, session: AsyncSession, target_id: int) -> int | None:
        return await session.scalar(select(ConversationMessage.author_id).where(ConversationMessage.id == target_id))

    async def notify_author(self, session: AsyncSession, target_id: int, kind: str, text: str,
                            url: str | None) -> None:
        author = await self.author_user_id(session, target_id)
        if author is not None:
            await notify(session, user_id=author, kind=kind, text=text, url=url)
