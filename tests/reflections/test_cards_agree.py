"""The wall and the reflection page (each one raw statement of its own) build the same card for the same
reflection: same author label, excerpt, counts, reactions, prompt and "mine" (only the page reads the whole piece)."""

from __future__ import annotations

from dataclasses import replace

from community.platform.accounts.actions import to_viewer
from community.platform.accounts.models import User
from community.platform.anonymity import Anonymity
from community.reflections import actions, replies
from tests.reflections.conftest import write


async def test_wall_and_orm_cards_agree(member_factory, login, db, settings, any_prompt):
    writer, other = await member_factory(name="Wanda Writer"), await member_factory(name="Otto Other")
    w, o = await login(writer), await login(other)
    ids = [await write(w, title="Named one", body="Under my name.", visibility="named"),
           await write(w, title="Hidden one", body="Anonymously.", visibility="anonymous",
                       prompt_id=str(any_prompt.id)),
           await write(o, title="Theirs", body="Someone else's, with a *little* Markdown.", visibility="anonymous")]
    assert (await o.post_form(f"/reflections/{ids[0]}/replies", {"body": "Thank you for this."})).status_code == 303
    assert (await o.post_form(f"/reflections/{ids[1]}/react", {"kind": "thanks"})).status_code == 303
    anonymity = Anonymity(settings.anon_key)
    for member in (writer, other):
        async with db.transaction() as session:
            viewer = to_viewer(await session.get(User, member.id))
        async with db.raw() as connection:
            wall = {card.id: card for card in (await actions.wall_page(connection, viewer, anonymity)).cards}
            assert set(ids) <= set(wall)
            for rid in ids:
                page = await replies.reflection_page(connection, viewer, anonymity, rid)
                assert page.card.body_html and wall[rid].body_html is None
                assert replace(page.card, body_html=None) == wall[rid], rid
        assert [wall[i].mine for i in ids] == ([True, True, False] if member is writer else [False, False, True])
    assert wall[ids[0]].author_name == "Wanda Writer" and wall[ids[1]].author_name is None
    assert wall[ids[0]].replies == 1 and wall[ids[1]].reactions == {"thanks": 1}
