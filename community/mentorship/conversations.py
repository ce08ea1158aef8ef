"""Mentor conversations: a member asks a listed mentor for a private written conversation (the request's first
message), and the mentor accepts or declines. It is not direct messaging between any two members: only a mentor
who takes conversations can be asked, a member has at most MAX_OPEN_REQUESTS open, and nobody can write to a
conversation that was not accepted. Every message runs the publishing pipeline (screening, crisis detection,
patient-identifier holds, watched words) and is reportable through the review queue (moderation.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from community.mentorship.models import Conversation, ConversationMessage, MentorProfile
from community.mentorship.policy import MAX_OPEN_REQUESTS, MESSAGE, MESSAGES_PER_MINUTE
from community.platform import publishing, rate_limits
from community.platform.accounts.models import User
from community.platform.errors import Conflict, Forbidden, Invalid, NotFound
from community.platform.notify.notifications import notify
from community.platform.states import State
from community.platform.text import render_markdown
from community.platform.viewer import Viewer


def now() -> datetime:
    return datetime.now(UTC)


async def _write(session: AsyncSession, viewer: Viewer, conversation: Conversation, body: str,
                 confirm: bool) -> ConversationMessage:
    body = publishing.check_body(MESSAGE, body)

    async def rate() -> None:
        await rate_limits.check_recent(session, viewer, limit=MESSAGES_PER_MINUTE, when=ConversationMessage.created_at,
                                       mine=ConversationMessage.author_id == viewer.id, what="messages")

    checked = await publishing.check(session, MESSAGE, viewer, body, confirmed=confirm, rate=rate)
    message = ConversationMessage(conversation_id=conversation.id, author_id=viewer.id, body_text=body,
                                  body_html=render_markdown(body),
                                  state=State.HIDDEN if checked.held else State.VISIBLE)
    session.add(message)
    await session.flush()
    await publishing.follow_up(session, MESSAGE, checked, message.id)
    return message


async def request(session: AsyncSession, viewer: Viewer, mentor_id: int, body: str, *,
                  confirm: bool = False) -> Conversation:
    mentor = (await session.execute(select(User, MentorProfile).join(MentorProfile, MentorProfile.user_id == User.id)
                                    .where(User.id == mentor_id, User.deleted_at.is_(None)))).first()
    if mentor is None or not mentor[1].listed:
        raise NotFound("This mentor is not in the directory.")
    if not mentor[1].takes_conversations:
        raise Forbidden("This mentor is not taking written conversations; their office hours may be open.")
    if mentor_id == viewer.id:
        raise Invalid("You cannot ask yourself for a conversation.")
    mine = await session.scalar(select(func.count()).where(
        Conversation.member_id == viewer.id, Conversation.state.in_(("requested", "open"))))
    if (mine or 0) >= MAX_OPEN_REQUESTS:
        raise Invalid(f"You have {MAX_OPEN_REQUESTS} open conversations or requests; close one first.")
    if await session.scalar(select(Conversation.id).where(
            Conversation.mentor_id == mentor_id, Conversation.member_id == viewer.id,
            Conversation.state.in_(("requested", "open")))) is not None:
        raise Conflict("You already have a conversation or a request with this mentor.")
    conversation = Conversation(mentor_id=mentor_id, member_id=viewer.id, state="requested")
    session.add(conversation)
    await session.flush()
    await _write(session, viewer, conversation, body, confirm)
    await notify(session, user_id=mentor_id, kind="office_hours",
                 text=f"{viewer.display_name} asked you for a written conversation.",
                 url=f"/mentorship/conversations/{conversation.id}")
    return conversation


async def access_conversation(session: AsyncSession, viewer: Viewer, conversation_id: int) -> Conversation:
    """Only its two members read a conversation (moderators read a reported message on its review page)."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or viewer.id not in (conversation.mentor_id, conversation.member_id):
        raise NotFound("This conversation does not exist.")
    return conversation


async def answer(session: AsyncSession, viewer: Viewer, conversation_id: int, *, accept: bool) -> Conversation:
    conversation = await access_conversation(session, viewer, conversation_id)
    if conversation.mentor_id != viewer.id:
        raise Forbidden("Only the mentor answers a request.")
    if conversation.state != "requested":
        raise Invalid("This request has been answered already.")
    conversation.state, conversation.answered_at = ("open" if accept else "declined"), now()
    await notify(session, user_id=conversation.member_id, kind="office_hours",
                 text=f"{viewer.display_name} {'accepted' if accept else 'declined'} your request for a "
                      "conversation.", url=f"/mentorship/conversations/{conversation.id}")
    return conversation


async def post(session: AsyncSession, viewer: Viewer, conversation_id: int, body: str, *,
               confirm: bool = False) -> ConversationMessage:
    conversation = await access_conversation(session, viewer, conversation_id)
    if conversation.state != "open":
        raise Forbidden("You can write here once the mentor has accepted, and until the conversation is closed.")
    message = await _write(session, viewer, conversation, body, confirm)
    other = conversation.member_id if viewer.id == conversation.mentor_id else conversation.mentor_id
    await notify(session, user_id=other, kind="office_hours", text=f"{viewer.display_name} wrote in your "
                 "conversation.", url=f"/mentorship/conversations/{conversation.id}")
    return message


async def close(session: AsyncSession, viewer: Viewer, conversation_id: int) -> Conversation:
    conversation = await access_conversation(session, viewer, conversation_id)
    if conversation.state in ("requested", "open"):
        conversation.state = "closed"
    return conversation


async def messages(session: AsyncSession, viewer: Viewer, conversation: Conversation) -> list[tuple[ConversationMessage, str]]:
    """Its messages, oldest first, with their writers' names; a hidden one only to its writer."""
    rows = (await session.execute(
        select(ConversationMessage, User.display_name).outerjoin(User, User.id == ConversationMessage.author_id)
        .where(ConversationMessage.conversation_id == conversation.id,
               or_(ConversationMessage.state == State.VISIBLE, ConversationMessage.author_id == viewer.id),
               ConversationMessage.state != State.REMOVED)
        .order_by(ConversationMessage.id).limit(1000))).all()
    return [(m, name or "Former member") for m, name in rows]


async def my_conversations(session: AsyncSession, viewer: Viewer) -> list[tuple[Conversation, str, str]]:
    mentor, member = User.__table__.alias("mentor"), User.__table__.alias("member")
    rows = (await session.execute(
        select(Conversation, mentor.c.display_name, member.c.display_name)
        .join(mentor, mentor.c.id == Conversation.mentor_id).join(member, member.c.id == Conversation.member_id)
        .where(or_(Conversation.mentor_id == viewer.id, Conversation.member_id == viewer.id))
        .order_by(Conversation.id.desc()).limit(100))).all()
    return [(c, a, b) for c, a, b in rows]
