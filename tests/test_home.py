"""The signed-in home page reads its sections fresh on every request: nothing on it is cached, so a new thread,
a reply, a room that opens or someone entering a room shows on the very next page, for every member."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from community.rooms.models import Room, RoomParticipant, RoomPresence
from tests.discussions.conftest import reply_to, start_thread


async def _room(db, **fields) -> Room:
    now = datetime.now(UTC)
    values = {"kind": "scheduled", "title": "Debrief", "ground_rules": "Be kind.", "state": "open",
              "starts_at": now - timedelta(minutes=5), "ends_at": now + timedelta(hours=1), **fields}
    async with db.transaction() as session:
        room = Room(**values)
        session.add(room)
        await session.flush()
        return room


def _recent(page: str) -> str:
    return page.split('id="home-threads"', 1)[1]


async def test_a_new_thread_and_a_reply_show_on_everyones_next_home_page(member_factory, login):
    writer, reader = await login(await member_factory("resident")), await login(await member_factory("attending"))
    await reader.get("/")  # the page was seen before the write
    thread_id, _ = await start_thread(writer, title="Fresh on the home page")
    for c in (writer, reader):
        recent = _recent((await c.get("/")).text)
        assert f'href="/t/{thread_id}">Fresh on the home page</a>' in recent
        assert "0 replies" in recent.split(f"/t/{thread_id}", 1)[1].split("</li>", 1)[0]
    await reply_to(reader, thread_id)
    recent = _recent((await writer.get("/")).text)
    assert "· 1 reply ·" in recent.split(f"/t/{thread_id}", 1)[1].split("</li>", 1)[0]


async def test_rooms_show_live_and_coming_up_with_who_is_present_now(db, member_factory, login):
    now = datetime.now(UTC)
    c = await login(await member_factory("resident"))
    async with db.transaction() as session:  # the seeded standing rooms would fill the three places
        await session.execute(update(Room).values(state="ended"))
    live = await _room(db, title="Open right now")
    soon = await _room(db, title="Opens next week", state="scheduled", starts_at=now + timedelta(days=7),
                       ends_at=now + timedelta(days=7, hours=1))
    hidden = await _room(db, title="A private room", private=True)
    page = (await c.get("/")).text
    assert f'<a href="/rooms/{live.id}">Open right now</a> <span class="muted">· 0 here now' in page
    coming = page.split("<h3>Coming up</h3>", 1)[1]
    assert f'<a href="/rooms/{soon.id}">Opens next week</a>' in coming and f"/rooms/{live.id}" not in coming
    assert f"/rooms/{hidden.id}" not in page
    async with db.transaction() as session:
        people = [RoomParticipant(room_id=live.id, local_id=n, member_tag=f"tag-{n}", label=f"Guest {n}")
                  for n in (1, 2)]
        session.add_all(people)
        await session.flush()
        session.add_all([RoomPresence(room_id=live.id, participant_id=p.id, process="test") for p in people]
                        + [RoomPresence(room_id=live.id, participant_id=people[0].id, process="test")])
    page = (await c.get("/")).text
    assert re.search(rf'/rooms/{live.id}">Open right now</a> <span class="muted">· 2 here now', page)
