"""F1 and F5: the flag page shows content only to those who may read it where it lives.

F1: a room message only to the room's participants (not once removed) and to moderators; F5: a reply inside a
removed thread to no member (moderators still see it), and likewise a reply to a removed reflection."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from community.discussions.models import Thread
from community.reflections.models import Reflection, ReflectionReply
from community.rooms import actions as rooms_actions
from community.rooms.models import Room, RoomMessage, RoomParticipant
from tests.discussions.conftest import post_ids, reply_to, start_thread
from tests.reflections.conftest import write


async def _room_with_message(db, writer_client) -> tuple[int, int]:
    now = datetime.now(UTC)
    async with db.transaction() as session:
        room = Room(kind="scheduled", title="Debrief", ground_rules="Be kind.", state="open",
                    starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=1))
        session.add(room)
        await session.flush()
        room_id = room.id
    assert (await writer_client.post_form(f"/rooms/{room_id}/join", {"accept": "1"})).status_code == 303
    async with db.transaction() as session:
        pid = (await session.scalars(select(RoomParticipant.id).where(RoomParticipant.room_id == room_id))).one()
        seq = await rooms_actions.next_seq(session, room_id)
        message = RoomMessage(room_id=room_id, seq=seq, participant_id=pid, body_text="said in the room only",
                              body_html="<p>said in the room only</p>")
        session.add(message)
        await session.flush()
        return room_id, message.id


async def test_room_messages_are_read_on_the_flag_page_by_participants_only(member_factory, login, db, moderator):
    writer, outsider, listener = (await member_factory("attending"), await member_factory("resident"),
                                  await member_factory("resident"))
    writer_client, outsider_client, listener_client = await login(writer), await login(outsider), await login(listener)
    room_id, message_id = await _room_with_message(db, writer_client)
    assert (await listener_client.post_form(f"/rooms/{room_id}/join", {"accept": "1"})).status_code == 303

    page = await outsider_client.get(f"/flag/room_message/{message_id}")
    assert page.status_code == 404 and "said in the room only" not in page.text
    assert (await outsider_client.post_form(f"/flag/room_message/{message_id}", {"reason": "spam"})).status_code == 404
    page = await listener_client.get(f"/flag/room_message/{message_id}")
    assert page.status_code == 200 and "said in the room only" in page.text
    page = await (await login(moderator)).get(f"/flag/room_message/{message_id}")
    assert page.status_code == 200 and "said in the room only" in page.text

    async with db.transaction() as session:
        await session.execute(update(RoomParticipant).where(
            RoomParticipant.room_id == room_id, RoomParticipant.label == listener.display_name)
            .values(removed_at=datetime.now(UTC)))
    page = await listener_client.get(f"/flag/room_message/{message_id}")
    assert page.status_code == 404 and "said in the room only" not in page.text


async def test_a_reply_in_a_removed_thread_is_not_readable_on_the_flag_page(member_factory, login, db, moderator):
    opener, replier, reader = (await member_factory("resident"), await member_factory("resident"),
                               await member_factory("resident"))
    thread_id, _ = await start_thread(await login(opener), "Removed later", "An opening post.")
    await reply_to(await login(replier), thread_id, "A reply that goes with its thread.")
    reply_id = (await post_ids(db, thread_id))[1]
    reader_client = await login(reader)
    assert (await reader_client.get(f"/flag/post/{reply_id}")).status_code == 200
    async with db.transaction() as session:
        await session.execute(update(Thread).where(Thread.id == thread_id).values(state="removed"))
    page = await reader_client.get(f"/flag/post/{reply_id}")
    assert page.status_code == 404 and "goes with its thread" not in page.text
    assert (await reader_client.post_form(f"/flag/post/{reply_id}", {"reason": "spam"})).status_code == 404
    page = await (await login(moderator)).get(f"/flag/post/{reply_id}")
    assert page.status_code == 200 and "goes with its thread" in page.text


async def test_a_reply_to_a_removed_reflection_is_not_readable_on_the_flag_page(member_factory, login, db,
                                                                               moderator):
    writer_client, replier_client = await login(await member_factory()), await login(await member_factory())
    reader_client = await login(await member_factory())
    rid = await write(writer_client, body="Shared for a while.", visibility="named")
    reply = await replier_client.post_form(f"/reflections/{rid}/replies", {"body": "A reply under it."})
    assert reply.status_code == 303, reply.text[:500]
    async with db.transaction() as session:
        reply_id = (await session.scalars(select(ReflectionReply.id).where(ReflectionReply.reflection_id == rid))).one()
    assert (await reader_client.get(f"/flag/reflection_reply/{reply_id}")).status_code == 200
    async with db.transaction() as session:
        await session.execute(update(Reflection).where(Reflection.id == rid).values(state="removed"))
    page = await reader_client.get(f"/flag/reflection_reply/{reply_id}")
    assert page.status_code == 404 and "A reply under it." not in page.text
    page = await (await login(moderator)).get(f"/flag/reflection_reply/{reply_id}")
    assert page.status_code == 200 and "A reply under it." in page.text
