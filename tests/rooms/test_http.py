"""The rooms' HTTP routes: who may see, schedule and moderate; ground rules first; retention purge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from community.rooms import actions as rooms_actions
from community.rooms.models import Room, RoomMessage, RoomParticipant, RoomPresence
from tests.conftest import make_settings


async def _room(db, **fields) -> Room:
    now = datetime.now(UTC)
    values = {"kind": "scheduled", "title": "Debrief", "ground_rules": "Be kind.", "state": "open",
              "starts_at": now - timedelta(minutes=5), "ends_at": now + timedelta(hours=1), **fields}
    async with db.transaction() as session:
        room = Room(**values)
        session.add(room)
        await session.flush()
        return room


async def test_permission_matrix(client, login, member_factory, db):
    assert (await client.get("/rooms")).status_code == 303  # signed out -> sign in
    resident, attending = await member_factory("resident"), await member_factory("attending")
    moderator, other_host = await member_factory("moderator"), await member_factory("attending")
    r_client, a_client = await login(resident), await login(attending)
    m_client, o_client = await login(moderator), await login(other_host)
    for c in (r_client, a_client, m_client):
        page = await c.get("/rooms")
        assert page.status_code == 200 and "Night-float lounge" in page.text
    assert (await r_client.get("/rooms/new")).status_code == 403
    assert (await a_client.get("/rooms/new")).status_code == 200
    start = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    end = (datetime.now() + timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M")
    form = {"title": "After the code", "description": "", "theme_prompt": "", "starts_at": start, "ends_at": end,
            "capacity": "8", "allow_anonymous": "1", "ground_rules": "Speak from your own experience, no identifiers.", "retention": "24"}
    assert (await r_client.post_form("/rooms/new", form)).status_code == 403
    bad = await a_client.post_form("/rooms/new", {**form, "capacity": "abc", "ends_at": start, "title": "\x00"})
    assert bad.status_code == 400 and "After the code" not in bad.text or bad.status_code == 400
    created = await a_client.post_form("/rooms/new", form)
    assert created.status_code == 303
    room_id = int(created.headers["location"].rsplit("/", 1)[1])
    assert "After the code" in (await r_client.get("/rooms")).text

    # Ground rules first; then the room page (with recent history and a <noscript> explanation).
    rules = await r_client.get(f"/rooms/{room_id}")
    assert rules.status_code == 200 and "Ground rules" in rules.text and "pseudonym" in rules.text
    assert (await r_client.post_form(f"/rooms/{room_id}/join", {})).status_code == 400
    assert (await a_client.post_form(f"/rooms/{room_id}/join", {"accept": "1", "as": "pseudonym"})).status_code == 400
    assert (await r_client.post_form(f"/rooms/{room_id}/join", {"accept": "1"})).status_code == 303
    page = await r_client.get(f"/rooms/{room_id}")
    assert "<noscript>" in page.text and "js/room.js" in page.text

    paths = [f"/rooms/{room_id}/lock", f"/rooms/{room_id}/slow", f"/rooms/{room_id}/end"]
    data = {f"/rooms/{room_id}/lock": {"locked": "1"}, f"/rooms/{room_id}/slow": {"seconds": "10"},
            f"/rooms/{room_id}/end": {}}
    for path in paths[:2]:
        assert (await r_client.post_form(path, data[path])).status_code == 403
        assert (await o_client.post_form(path, data[path])).status_code == 403  # another attending
        assert (await a_client.post_form(path, data[path])).status_code == 303  # the host
        assert (await m_client.post_form(path, data[path])).status_code == 303  # a moderator
    async with db.transaction() as session:
        pid = (await session.scalars(select(RoomParticipant.local_id).where(RoomParticipant.room_id == room_id))).one()
    assert (await r_client.post_form(f"/rooms/{room_id}/participants/{pid}/mute", {"minutes": "5"})).status_code == 403
    assert (await a_client.post_form(f"/rooms/{room_id}/participants/{pid}/mute", {"minutes": "5"})).status_code == 303
    assert (await m_client.post_form(f"/rooms/{room_id}/participants/{pid}/remove", {})).status_code == 303
    assert (await r_client.get(f"/rooms/{room_id}")).status_code == 403  # removed: cannot rejoin
    assert (await r_client.post_form(f"/rooms/{room_id}/join", {"accept": "1"})).status_code == 403
    assert (await a_client.post_form(paths[2], {})).status_code == 303
    assert (await m_client.get("/rooms/999999")).status_code == 404


async def test_times_are_shown_in_the_members_time_zone(login, member_factory, db):
    viewer = await member_factory("resident", timezone="Asia/Tokyo")
    starts = datetime(2031, 3, 4, 10, 0, tzinfo=UTC)
    await _room(db, title="Tokyo timing", state="scheduled", starts_at=starts, ends_at=starts + timedelta(hours=1))
    page = await (await login(viewer)).get("/rooms")
    assert "19:00" in page.text and "Tokyo timing" in page.text


async def test_retention_purge(db, tmp_path):
    settings = make_settings("", tmp_path)
    now = datetime.now(UTC)
    kept = await _room(db, title="Keep", state="ended", ended_at=now - timedelta(days=3), retention_hours=None)
    gone = await _room(db, title="Forget", state="ended", ended_at=now - timedelta(hours=25), retention_hours=24)
    young = await _room(db, title="Not yet", state="ended", ended_at=now - timedelta(hours=2), retention_hours=24)
    overdue = await _room(db, title="Overdue", state="open", ends_at=now - timedelta(minutes=1), retention_hours=0,
                          starts_at=now - timedelta(hours=1))
    async with db.transaction() as session:
        for room in (kept, gone, young, overdue):
            participant = RoomParticipant(room_id=room.id, local_id=1, member_tag=f"t{room.id}", label="Someone")
            session.add(participant)
            await session.flush()
            seq = await rooms_actions.next_seq(session, room.id)
            session.add(RoomMessage(room_id=room.id, seq=seq, participant_id=participant.id, body_text="x",
                                    body_html="<p>x</p>"))
    assert settings.anon_key
    async with db.transaction() as session:
        counts = await rooms_actions.purge_expired(session)
    assert counts["room sessions ended"] >= 1 and counts["room transcripts purged"] >= 1
    async with db.transaction() as session:
        left = dict((await session.execute(select(RoomMessage.room_id, func.count()).group_by(RoomMessage.room_id)
                                           .where(RoomMessage.room_id.in_([kept.id, gone.id, young.id,
                                                                           overdue.id])))).all())
        # The overdue session is ended by the job, and with retention 0 its transcript goes at once.
        assert left == {kept.id: 1, young.id: 1}
        assert (await session.get(Room, overdue.id)).state == "ended"


async def test_the_home_section_shows_the_first_rooms_of_each_list(db, member_factory):
    """home_section reads its three-and-three in one prepared statement: the same rooms, in the same order, with
    the same counts, as the first ones of list_rooms' lists (the rooms page)."""
    now = datetime.now(UTC)
    for n in range(5):
        await _room(db, title=f"Soon {n}", state="scheduled", starts_at=now + timedelta(days=1 + n),
                    ends_at=now + timedelta(days=1 + n, hours=1))
        await _room(db, title=f"Open {n}", starts_at=now - timedelta(minutes=n))
    await _room(db, title="Over", state="ended")
    viewer = await member_factory("resident")
    async with db.transaction() as session:
        listed = await rooms_actions.list_rooms(session, viewer)
    async with db.raw() as connection:
        home = await rooms_actions.home_section(connection, viewer)
    assert [r["id"] for r, _ in home["live_rooms"]] == [r.id for r, _ in listed["live"][:3]]
    assert [r["id"] for r, _ in home["upcoming_rooms"]] == [r.id for r, _ in listed["upcoming"][:3]]
    assert len(home["upcoming_rooms"]) == 3 and all(c == n for (_, c), (_, n) in zip(
        home["live_rooms"], listed["live"], strict=False))


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
    assert f'/rooms/{live.id}">Open right now</a> <span class="muted">· 2 here now' in page
