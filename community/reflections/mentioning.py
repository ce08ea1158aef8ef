"""Whom a shared reflection or a signed reply mentions is told once per piece: when it is published visible, or
when a moderator approves it after a hold (a watched word, a strong patient identifier). Only signed writing
resolves mentions (platform.mentions.render_signed): anonymous and private writing names nobody."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from community.platform import mentions
from community.platform.notify.notifications import group_key
from community.platform.states import Visibility
from community.reflections.models import Reflection, ReflectionReply


async def tell_reflection(session: AsyncSession, writer: mentions.Writer, reflection: Reflection,
                          mentioned: mentions.Resolved) -> None:
    """A named piece on the wall tells whom it mentions, once per piece."""
    if reflection.visibility != Visibility.NAMED or reflection.state != "visible" or not mentioned.members:
        return
    about = f"“{reflection.title}”" if reflection.title else "a reflection"
    await mentions.tell(session, ("reflection", reflection.id), mentioned, writer_id=writer.id,
                        text=f"{writer.display_name} mentioned you in {about}.",
                        url=f"/reflections/{reflection.id}", group=group_key("mention", "reflection", reflection.id),
                        subject=reflection.title)


async def tell_reply(session: AsyncSession, writer: mentions.Writer, reflection: Reflection, reply: ReflectionReply,
                     mentioned: mentions.Resolved) -> None:
    """A signed, visible reply tells whom it mentions (once per reply); a named reflection's title is named, an
    anonymous one's is not."""
    if reply.author_id is None or reply.state != "visible" or not mentioned.members:
        return
    about = f"a reply to “{reflection.title}”" if reflection.visibility == "named" and reflection.title \
        else "a reply to a reflection"
    await mentions.tell(session, ("reflection_reply", reply.id), mentioned, writer_id=writer.id,
                        text=f"{writer.display_name} mentioned you in {about}.",
                        url=f"/reflections/{reflection.id}#reply-{reply.id}",
                        group=group_key("mention", "reflection", reflection.id),
                        subject=reflection.title if reflection.visibility == "named" else None)


async def reflection_approved(session: AsyncSession, reflection: Reflection) -> None:
    """A named piece let onto the wall by a moderator tells whom it mentions, as publishing would have; those
    told before (a piece hidden by flags, then restored) are not told again."""
    if reflection.visibility != Visibility.NAMED or reflection.author_id is None:
        return
    writer = await mentions.writer(session, reflection.author_id)
    if writer is not None:
        await tell_reflection(session, writer, reflection, await mentions.resolve(session, reflection.body))


async def reply_approved(session: AsyncSession, reply: ReflectionReply) -> None:
    """A signed reply approved by a moderator tells whom it mentions (once per reply)."""
    if reply.author_id is None:
        return
    reflection = await session.get(Reflection, reply.reflection_id)
    writer = await mentions.writer(session, reply.author_id)
    if reflection is not None and writer is not None:
        await tell_reply(session, writer, reflection, reply, await mentions.resolve(session, reply.body))
