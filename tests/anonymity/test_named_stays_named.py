"""Finding 7: a piece ever shown under a name cannot become anonymous later (its readers already know who wrote
it, and their notifications still say so); the writer is told why and offered privacy or deletion."""

from __future__ import annotations

from sqlalchemy import select

from community.platform.review.models import Notification
from community.reflections.models import Reflection
from tests.reflections.conftest import write


async def _load(db, rid):
    async with db.transaction() as session:
        return await session.get(Reflection, rid)


async def test_a_named_piece_cannot_become_anonymous_even_by_way_of_private(member_factory, login, db):
    writer_user = await member_factory(name="Signed Writer")
    me = await login(writer_user)
    rid = await write(me, title="Under my name", body="Words I signed.", visibility="named")
    reader = await login(await member_factory(name="A Reader"))
    assert (await reader.post_form(f"/reflections/{rid}/replies", {"body": "Thank you."})).status_code == 303

    straight = await me.post_form(f"/reflections/{rid}/visibility", {"visibility": "anonymous"})
    assert straight.status_code == 400 and "already know you wrote it" in straight.text
    assert "Words I signed." in straight.text  # the piece is still there, in the form
    edit = await me.post_form(f"/reflections/{rid}/edit", {"title": "Under my name", "body": "Words I signed, edited.",
                                                          "visibility": "anonymous", "intent": "publish"})
    assert edit.status_code == 400 and "Words I signed, edited." in edit.text  # the draft is kept
    assert (await me.post_form(f"/reflections/{rid}/visibility", {"visibility": "private"})).status_code == 303
    by_way_of_private = await me.post_form(f"/reflections/{rid}/visibility", {"visibility": "anonymous"})
    assert by_way_of_private.status_code == 400
    form = (await me.get(f"/reflections/{rid}/edit")).text
    assert 'value="anonymous"' in form and "disabled" in form and "You can make it private, or delete it." in form
    reflection = await _load(db, rid)
    assert reflection.visibility == "private" and reflection.author_tag is not None and reflection.shown_named
    # The reader's notification still names the writer: that is why the piece cannot hide behind "Anonymous".
    async with db.transaction() as session:
        notes = list(await session.scalars(select(Notification.text).where(Notification.user_id == writer_user.id)))
    assert notes  # the writer was told of the reply, by name
    # Deleting stays open.
    assert (await me.post_form(f"/reflections/{rid}/delete", {})).status_code == 303
    assert await _load(db, rid) is None


async def test_a_private_or_anonymous_piece_can_still_be_shared_anonymously(member_factory, login, db):
    me = await login(await member_factory())
    rid = await write(me, body="Kept to myself first.", visibility="private")
    assert (await me.post_form(f"/reflections/{rid}/visibility", {"visibility": "anonymous"})).status_code == 303
    assert (await _load(db, rid)).visibility == "anonymous"
