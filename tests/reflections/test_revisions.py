"""Shared reflections and replies keep their earlier wording for moderators (as thread posts do), with nothing
about who wrote it and the day only; private writing keeps none; nobody else sees them."""

from sqlalchemy import select

from community.reflections.models import ReflectionReply, ReflectionReplyRevision, ReflectionRevision
from tests.reflections.conftest import write


async def _rows(db, model, **where):
    async with db.transaction() as session:
        query = select(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return list(await session.scalars(query))


async def test_moderators_see_what_a_shared_reflection_said_before_an_edit(member_factory, moderator, login, db):
    author, reader = await member_factory(), await member_factory()
    me, them, mod = await login(author), await login(reader), await login(moderator)
    rid = await write(me, title="Night one", body="The first wording, which someone flagged.", visibility="anonymous")
    assert (await them.post_form(f"/flag/reflection/{rid}", {"reason": "concern", "note": "Worried."})
            ).status_code == 303
    response = await me.post_form(f"/reflections/{rid}/edit", {"title": "Night one", "body": "Rewritten since.",
                                                              "visibility": "anonymous", "intent": "publish"})
    assert response.status_code == 303
    [revision] = await _rows(db, ReflectionRevision, reflection_id=rid)
    assert revision.body == "The first wording, which someone flagged." and revision.title == "Night one"
    assert (revision.created_at.hour, revision.created_at.minute, revision.created_at.second) == (0, 0, 0)
    assert not {"author_id", "author_tag", "edited_by"} & set(ReflectionRevision.__table__.columns.keys())

    page = await mod.get(f"/review/reflection/{rid}")
    assert page.status_code == 200
    assert "Earlier versions: 1" in page.text and "The first wording, which someone flagged." in page.text
    assert "The first wording" not in (await them.get(f"/reflections/{rid}")).text
    assert "The first wording" not in (await me.get(f"/reflections/{rid}")).text
    assert (await them.get(f"/review/reflection/{rid}")).status_code in (403, 404)


async def test_private_writing_and_unchanged_text_keep_no_revisions(member_factory, login, db):
    me = await login(await member_factory())
    rid = await write(me, body="Only mine.", visibility="private")
    await me.post_form(f"/reflections/{rid}/edit", {"title": "", "body": "Still only mine.", "visibility": "private",
                                                    "intent": "publish"})
    # Shared for the first time: what it said while private was never read by anyone.
    await me.post_form(f"/reflections/{rid}/edit", {"title": "", "body": "Now shared.", "visibility": "anonymous",
                                                    "intent": "publish"})
    # Same text, another visibility: nothing was replaced.
    assert (await me.post_form(f"/reflections/{rid}/visibility", {"visibility": "named"})).status_code == 303
    assert await _rows(db, ReflectionRevision, reflection_id=rid) == []


async def test_moderators_see_what_a_reply_said_before_an_edit(member_factory, moderator, login, db):
    author, reader = await member_factory(), await member_factory()
    me, them, mod = await login(author), await login(reader), await login(moderator)
    rid = await write(me, body="A long night.", visibility="anonymous")
    assert (await them.post_form(f"/reflections/{rid}/replies", {"body": "Unkind first words.", "anonymous": "yes"})
            ).status_code == 303
    [reply] = await _rows(db, ReflectionReply, reflection_id=rid)
    assert (await them.post_form(f"/reflections/replies/{reply.id}/edit", {"body": "Kinder words."})).status_code == 303
    [revision] = await _rows(db, ReflectionReplyRevision, reply_id=reply.id)
    assert revision.body == "Unkind first words."
    page = await mod.get(f"/review/reflection_reply/{reply.id}")
    assert page.status_code == 200 and "Unkind first words." in page.text
    assert "Unkind first words." not in (await me.get(f"/reflections/{rid}")).text
