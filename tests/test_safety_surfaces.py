"""Safety on every writing surface: crisis language on a thread post, an anonymous reflection and an anonymous
room message each opens an urgent item at the top of the queue without hiding the writing; a moderator's
private check-in reaches each writer (anonymous ones through their sealed tag) without unmasking them."""

from sqlalchemy import select

from community.discussions.models import Thread
from community.platform.accounts.actions import to_viewer
from community.platform.accounts.models import User
from community.platform.anonymity import Anonymity, author_tag
from community.platform.review.models import Notification, ReviewItem
from community.rooms import actions as rooms
from community.rooms.models import Room
from tests.discussions.conftest import start_thread
from tests.reflections.conftest import write

CRISIS = "Honestly I can't do this anymore, I want to disappear."
CHECK_IN = "We noticed your words and we are here for you. Would you like to talk?"


async def first_post_id(db, thread_id: int) -> int:
    async with db.transaction() as session:
        return (await session.get(Thread, thread_id)).first_post_id


async def test_crisis_on_every_surface_reaches_moderators_and_check_in_reaches_writers(
        member_factory, login, db, settings):
    poster = await member_factory(name="Petra Poster")
    writer = await member_factory(name="Wren Writer")
    chatter = await member_factory(name="Chidi Chatter")
    moderator = await login(await member_factory("moderator"))

    ordinary, _ = await start_thread(await login(poster), title="Ordinary", body="An ordinary post.")
    flag = await (await login(await member_factory())).post_form(
        f"/flag/post/{await first_post_id(db, ordinary)}", {"reason": "off_topic"})
    assert flag.status_code == 303
    thread_id, _ = await start_thread(await login(poster), title="A hard week", body=CRISIS,
                                      confirm_phi="yes")
    reflection_id = await write(await login(writer), title="Night", body=CRISIS, visibility="anonymous")
    async with db.transaction() as session:
        room = (await session.scalars(select(Room).where(Room.kind == "standing"))).first()
        viewer = to_viewer(await session.get(User, chatter.id))
        participant = await rooms.join_room(session, Anonymity(settings.anon_key), viewer, room.id, accept=True, anonymous=True)
        await rooms.post_message(session, Anonymity(settings.anon_key), viewer, room.id, participant.id, CRISIS, client_id="c1")
    async with db.transaction() as session:
        items = list(await session.scalars(select(ReviewItem).where(ReviewItem.resolved_at.is_(None))
                                           .order_by(ReviewItem.priority, ReviewItem.created_at)))
    # The off-topic flag came first, yet every crisis item is ahead of it.
    assert [item.urgent for item in items] == sorted((item.urgent for item in items), reverse=True)
    assert not items[-1].urgent and "off_topic" in items[-1].reasons
    kinds = {item.target_kind: item for item in items if item.urgent}
    assert set(kinds) == {"post", "reflection", "room_message"}
    assert all(kinds[k].urgent and "crisis" in kinds[k].reasons for k in ("post", "reflection", "room_message"))

    queue = await moderator.get("/review")
    assert queue.status_code == 200
    for hidden_name in ("Wren Writer", "Chidi Chatter", writer.email, chatter.email, writer.handle, chatter.handle):
        assert hidden_name not in queue.text
    # The writing stays visible to other members while it waits.
    reader = await login(await member_factory())
    assert CRISIS[:20] in (await reader.get(f"/t/{thread_id}")).text.replace("&#39;", "'")
    assert (await reader.get(f"/reflections/{reflection_id}")).status_code == 200

    for kind, item in kinds.items():
        detail = await moderator.get(f"/review/{kind}/{item.target_id}")
        assert detail.status_code == 200
        assert "Wren Writer" not in detail.text and "Chidi Chatter" not in detail.text
        response = await moderator.post_form(f"/review/{kind}/{item.target_id}/decide",
                                             {"action": "check_in", "reason": CHECK_IN})
        assert response.status_code in (200, 303), (kind, response.text[:500])

    async with db.transaction() as session:
        every = list(await session.scalars(select(Notification)))
    sealed = Anonymity(settings.anon_key)  # texts addressed to a tag are sealed
    notes = [n for n in every if CHECK_IN[:30] in (sealed.unseal(n.text) if n.recipient_tag else n.text)]
    by_user = {n.user_id for n in notes if n.user_id}
    by_tag = {n.recipient_tag for n in notes if n.recipient_tag}
    assert poster.id in by_user
    # Each to the tag of its own scope: the reflection, the room session.
    assert author_tag(settings.anon_key, writer.id, f"reflection:{reflection_id}") in by_tag
    assert author_tag(settings.anon_key, chatter.id, f"room:{room.id}") in by_tag
    assert writer.id not in by_user and chatter.id not in by_user  # anonymous writers: the tag only
    for member in (poster, writer, chatter):
        page = await (await login(member)).get("/notifications")
        assert CHECK_IN[:30] in page.text.replace("&#39;", "'"), member.display_name
