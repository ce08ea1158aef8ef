"""Issue 16: mentions in signed reflection writing (named pieces, signed replies) link the member and tell them
once; anonymous and private writing links and tells nobody (tests/anonymity/test_grouping_and_mentions.py)."""

from sqlalchemy import select

from community.platform.review.models import Notification
from community.reflections.models import Reflection, ReflectionReply
from tests.reflections.conftest import write


async def _mentions_of(db, user_id):
    async with db.transaction() as session:
        return list(await session.scalars(select(Notification).where(Notification.user_id == user_id,
                                                                     Notification.kind == "mention")))


async def test_a_named_piece_and_a_signed_reply_mention_once(db, member_factory, login):
    writer = await member_factory(name="Rae Writer")
    sam, kim = await member_factory(name="Sam Reflect"), await member_factory(name="Kim Reflect")
    me = await login(writer)
    rid = await write(me, title="Grateful", body=f"For @{sam.handle}, who stayed late.", visibility="named")
    async with db.transaction() as session:
        html = await session.scalar(select(Reflection.body_html).where(Reflection.id == rid))
    assert f'href="/members/{sam.handle}"' in html
    [note] = await _mentions_of(db, sam.id)
    assert note.text == "Rae Writer mentioned you in “Grateful”." and note.target_kind == "reflection"
    assert "mentioned you in “Grateful”" in (await (await login(sam)).get("/notifications")).text
    edited = await me.post_form(f"/reflections/{rid}/edit", {"title": "Grateful", "visibility": "named",
                                                             "body": f"For @{sam.handle}, who stayed late again.",
                                                             "intent": "publish"})
    assert edited.status_code == 303, edited.text[:500]
    assert len(await _mentions_of(db, sam.id)) == 1 and (await _mentions_of(db, sam.id))[0].count == 1
    replier = await login(await member_factory(name="Lou Replier"))
    response = await replier.post_form(f"/reflections/{rid}/replies", {"body": f"Yes, and @{kim.handle} too."})
    assert response.status_code == 303
    [kim_note] = await _mentions_of(db, kim.id)
    assert kim_note.text == "Lou Replier mentioned you in a reply to “Grateful”."
    async with db.transaction() as session:
        reply_html = await session.scalar(select(ReflectionReply.body_html).where(ReflectionReply.reflection_id == rid))
    assert f'href="/members/{kim.handle}"' in reply_html


async def test_private_writing_mentions_nobody(db, member_factory, login):
    sam = await member_factory(name="Sam Private")
    me = await login(await member_factory())
    rid = await write(me, body=f"Only for me: @{sam.handle}.", visibility="private")
    async with db.transaction() as session:
        html = await session.scalar(select(Reflection.body_html).where(Reflection.id == rid))
    assert "/members/" not in html and await _mentions_of(db, sam.id) == []


async def test_held_writing_tells_whom_it_mentions_once_a_moderator_approves_it(db, admin, moderator, member_factory,
                                                                               login):
    from tests.moderation.test_watched_and_approval import _add

    await _add(await login(admin), "lawsuit", "approve")
    writer = await member_factory(name="Ana Held")
    sam, kim = await member_factory(name="Sam Held"), await member_factory(name="Kim Held")
    me, mod = await login(writer), await login(moderator)
    rid = await write(me, title="Paperwork", body=f"@{sam.handle} helped with the lawsuit forms.", visibility="named")
    assert await _mentions_of(db, sam.id) == []  # held: off the wall, nobody told yet
    decided = await mod.post_form(f"/review/reflection/{rid}/decide", {"action": "approve", "reason": ""})
    assert decided.status_code == 303, decided.text[:500]
    [note] = await _mentions_of(db, sam.id)
    assert note.text == "Ana Held mentioned you in “Paperwork”."  # the writer, not the moderator who approved

    replier = await login(await member_factory(name="Lou Held"))
    response = await replier.post_form(f"/reflections/{rid}/replies", {"body": f"@{kim.handle}, the lawsuit too."})
    assert response.status_code == 303
    async with db.transaction() as session:
        reply_id = await session.scalar(select(ReflectionReply.id).where(ReflectionReply.reflection_id == rid))
    assert await _mentions_of(db, kim.id) == []
    decided = await mod.post_form(f"/review/reflection_reply/{reply_id}/decide", {"action": "approve", "reason": ""})
    assert decided.status_code == 303, decided.text[:500]
    [kim_note] = await _mentions_of(db, kim.id)
    assert kim_note.text == "Lou Held mentioned you in a reply to “Paperwork”."
    # Hidden by a moderator and restored: nobody is told twice.
    for action in ("hide", "restore"):
        response = await mod.post_form(f"/review/reflection/{rid}/decide", {"action": action, "reason": "check"})
        assert response.status_code == 303, response.text[:500]
    assert len(await _mentions_of(db, sam.id)) == 1
