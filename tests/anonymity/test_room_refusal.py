"""Finding 10: whoever a full room turns away sees nothing of it: not its transcript, not who is in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from community.rooms.models import Room, RoomMessage, RoomParticipant, RoomPresence


async def test_a_full_room_shows_the_member_it_turns_away_nothing(member_factory, login, db):
    now = datetime.now(UTC)
    async with db.transaction() as session:
        room = Room(kind="scheduled", title="A small circle", ground_rules="Be kind.", capacity=1,
                    starts_at=now - timedelta(minutes=5), ends_at=now + timedelta(hours=1), state="open",
                    opened_at=now)
        session.add(room)
        await session.flush()
        room_id = room.id
    inside_user = await member_factory(name="Already Inside")
    inside = await login(inside_user)
    late = await login(await member_factory(name="Arriving Late"))
    for client in (inside, late):
        response = await client.post_form(f"/rooms/{room_id}/join", {"accept": "1", "as": "name"})
        assert response.status_code == 303, response.text[:2000]
    async with db.transaction() as session:
        present = (await session.scalars(select(RoomParticipant).where(
            RoomParticipant.room_id == room_id, RoomParticipant.user_id == inside_user.id))).one()
        session.add(RoomMessage(room_id=room_id, seq=1, participant_id=present.id,
                                body_text="Words only those inside may read.",
                                body_html="<p>Words only those inside may read.</p>"))
        session.add(RoomPresence(room_id=room_id, participant_id=present.id, process="elsewhere"))
    page = await late.get(f"/rooms/{room_id}")
    assert page.status_code == 403 and "full right now" in page.text
    assert "Words only those inside may read." not in page.text and "Already Inside" not in page.text
    # The one inside still sees the room.
    assert "Words only those inside may read." in (await inside.get(f"/rooms/{room_id}")).text
