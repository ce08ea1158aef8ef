"""The reflection wall: filters, keyset pages, replies with pseudonyms, reactions, notifications."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from community.platform.anonymity import Anonymity, author_tag
from community.platform.review.models import Notification
from community.reflections.models import Prompt, ReflectionReply
from community.reflections.replies import PSEUDONYMS, pseudonym
from tests.reflections.conftest import write


async def test_wall_filters_by_theme_and_prompt(member_factory, login, db):
    me = await login(await member_factory())
    async with db.transaction() as session:
        time_prompt = (await session.scalars(select(Prompt).where(Prompt.theme == "time"))).first()
        care_prompt = (await session.scalars(select(Prompt).where(Prompt.theme == "self-care"))).first()
    r_time = await write(me, body="About time.", visibility="anonymous", prompt_id=str(time_prompt.id))
    r_care = await write(me, body="About care.", visibility="named", prompt_id=str(care_prompt.id))
    r_plain = await write(me, body="No prompt.", visibility="anonymous", theme="role-models")
    r_private = await write(me, body="Private.", visibility="private", prompt_id=str(time_prompt.id))
    by_theme = (await me.get("/reflections", params={"theme": "time"})).text
    assert f"/reflections/{r_time}\"" in by_theme and f"/reflections/{r_care}\"" not in by_theme
    by_prompt = (await me.get("/reflections", params={"prompt": care_prompt.id})).text
    assert f"/reflections/{r_care}\"" in by_prompt and f"/reflections/{r_time}\"" not in by_prompt
    everything = (await me.get("/reflections")).text
    assert all(f"/reflections/{r}\"" in everything for r in (r_time, r_care, r_plain))
    assert f"/reflections/{r_private}\"" not in everything
    for params in ({"prompt": "abc"}, {"before": "-1"}, {"theme": "<script>"}, {"q": "%00"}):
        assert (await me.get("/reflections", params=params)).status_code == 200


async def test_wall_keyset_pagination_newest_first(member_factory, login):
    me = await login(await member_factory())
    ids = [await write(me, body=f"Piece {n}", visibility="anonymous") for n in range(23)]
    first = (await me.get("/reflections")).text
    shown = [int(x) for x in re.findall(r'href="/reflections/(\d+)"', first)]
    assert shown[:20] == sorted(ids, reverse=True)[:20]
    older = re.search(r'href="/reflections\?before=(\d+)', first)
    assert older
    second = (await me.get(f"/reflections?before={older.group(1)}")).text
    rest = [int(x) for x in re.findall(r'href="/reflections/(\d+)"', second)]
    assert set(sorted(ids)[:3]) <= set(rest) and not set(rest) & set(shown[:20])


async def test_pseudonyms_stable_in_a_thread_and_different_across_threads(member_factory, login, db, anon_key):
    author, replier = await member_factory(), await member_factory()
    me, them = await login(author), await login(replier)
    first = await write(me, body="Thread one.", visibility="anonymous")
    # Find a second thread where the replier's pseudonym differs (it is keyed per thread).
    others = [await write(me, body=f"Thread {n}.", visibility="anonymous") for n in range(2, 6)]
    second = next(r for r in others if pseudonym(Anonymity(anon_key), replier.id, r) != pseudonym(Anonymity(anon_key), replier.id, first))
    for rid in (first, first, second):
        response = await them.post_form(f"/reflections/{rid}/replies", {"body": "With you.", "anonymous": "yes"})
        assert response.status_code == 303
    async with db.transaction() as session:
        rows = list(await session.scalars(select(ReflectionReply).order_by(ReflectionReply.id)))
    one = [r.pseudonym for r in rows if r.reflection_id == first]
    two = [r.pseudonym for r in rows if r.reflection_id == second]
    assert len(set(one)) == 1 and one[0] in PSEUDONYMS
    assert two[0] != one[0]
    page = (await me.get(f"/reflections/{first}")).text
    assert f"Anonymous · {one[0]}" in page and replier.display_name not in page
    assert all(r.author_id is None for r in rows)


async def test_two_anonymous_repliers_never_share_a_pseudonym(member_factory, login, db):
    author = await member_factory()
    me = await login(author)
    rid = await write(me, body="Many voices.", visibility="anonymous")
    for _ in range(6):
        client = await login(await member_factory())
        await client.post_form(f"/reflections/{rid}/replies", {"body": "Here.", "anonymous": "yes"})
    async with db.transaction() as session:
        names = list(await session.scalars(select(ReflectionReply.pseudonym).where(
            ReflectionReply.reflection_id == rid)))
    assert len(names) == 6 and len(set(names)) == 6


async def test_author_replies_are_marked_author_and_stay_anonymous(member_factory, login, db):
    author, reader = await member_factory(), await member_factory()
    me, them = await login(author), await login(reader)
    rid = await write(me, body="Mine.", visibility="anonymous")
    # Even without ticking "anonymous", the author's reply on their anonymous piece stays anonymous.
    assert (await me.post_form(f"/reflections/{rid}/replies", {"body": "Thank you all."})).status_code == 303
    page = (await them.get(f"/reflections/{rid}")).text
    assert "Anonymous · author" in page and author.display_name not in page
    async with db.transaction() as session:
        reply = (await session.scalars(select(ReflectionReply).where(ReflectionReply.reflection_id == rid))).one()
    assert reply.is_author and reply.author_id is None


async def test_named_reply_shows_the_name(member_factory, login):
    author, reader = await member_factory(), await member_factory()
    me, them = await login(author), await login(reader)
    rid = await write(me, body="Open.", visibility="anonymous")
    await them.post_form(f"/reflections/{rid}/replies", {"body": "Signed reply."})
    assert reader.display_name in (await me.get(f"/reflections/{rid}")).text


async def test_reactions_toggle_and_count(member_factory, login):
    author, reader = await member_factory(), await member_factory()
    me, them = await login(author), await login(reader)
    rid = await write(me, body="React to me.", visibility="anonymous")
    assert (await them.post_form(f"/reflections/{rid}/react", {"kind": "metoo"})).status_code == 303
    page = (await them.get(f"/reflections/{rid}")).text
    assert 'value="metoo" class="button small reaction on" aria-pressed="true"' in page
    assert (await them.post_form(f"/reflections/{rid}/react", {"kind": "metoo"})).status_code == 303
    assert 'aria-pressed="true"' not in (await them.get(f"/reflections/{rid}")).text
    assert (await them.post_form(f"/reflections/{rid}/react", {"kind": "love"})).status_code == 400
    private = await write(me, body="Private piece.")
    assert (await them.post_form(f"/reflections/{private}/react", {"kind": "thanks"})).status_code == 404


async def test_author_is_notified_of_replies_through_the_tag(member_factory, login, db, anon_key):
    author, reader = await member_factory(), await member_factory()
    me, them = await login(author), await login(reader)
    rid = await write(me, title="Heavy week", body="It was heavy.", visibility="anonymous")
    await them.post_form(f"/reflections/{rid}/replies", {"body": "Sending warmth.", "anonymous": "yes"})
    async with db.transaction() as session:
        notes = list(await session.scalars(select(Notification).where(Notification.kind == "reflection_reply")))
    assert len(notes) == 1
    assert notes[0].user_id is None and notes[0].recipient_tag == author_tag(anon_key, author.id, f"reflection:{rid}")
    page = await me.get("/notifications")
    assert page.status_code == 200 and "replied to your anonymous reflection" in page.text
    assert "replied to your anonymous reflection" not in (await them.get("/notifications")).text


async def test_reply_author_deletes_own_reply(member_factory, login, db):
    author, reader, other = await member_factory(), await member_factory(), await member_factory()
    me, them = await login(author), await login(reader)
    rid = await write(me, body="Open.", visibility="named")
    await them.post_form(f"/reflections/{rid}/replies", {"body": "Oops.", "anonymous": "yes"})
    async with db.transaction() as session:
        reply = (await session.scalars(select(ReflectionReply).where(ReflectionReply.reflection_id == rid))).one()
    assert (await (await login(other)).post_form(f"/reflections/replies/{reply.id}/delete")).status_code == 404
    assert (await them.post_form(f"/reflections/replies/{reply.id}/delete")).status_code == 303
    assert "Oops." not in (await me.get(f"/reflections/{rid}")).text


async def test_a_signed_piece_does_not_go_anonymous_so_its_signed_replies_stay_as_they_were(member_factory, login,
                                                                                           db):
    author, reader = await member_factory(), await member_factory()
    me, them = await login(author), await login(reader)
    rid = await write(me, body="Signed at first.", visibility="named")
    await me.post_form(f"/reflections/{rid}/replies", {"body": "Signed reply by the author."})
    assert (await me.post_form(f"/reflections/{rid}/visibility", {"visibility": "anonymous"})).status_code == 400
    page = (await them.get(f"/reflections/{rid}")).text
    assert author.display_name in page and "Anonymous · author" not in page
    async with db.transaction() as session:
        reply = (await session.scalars(select(ReflectionReply).where(ReflectionReply.reflection_id == rid))).one()
    assert reply.author_id == author.id


async def test_wall_query_count_is_fixed(member_factory, login, db, engine):
    from tests.discussions.conftest import count_queries

    me = await login(await member_factory())
    await write(me, body="The first shared piece.", visibility="anonymous")
    await me.get("/reflections")  # warm the viewer cache
    with count_queries(engine, db) as few:
        assert (await me.get("/reflections")).status_code == 200
    for n in range(12):
        rid = await write(me, body=f"Shared piece {n}.", visibility="named" if n % 2 else "anonymous")
        if n % 3 == 0:
            await me.post_form(f"/reflections/{rid}/replies", {"body": "With you."})
    with count_queries(engine, db) as many:
        page = await me.get("/reflections")
    assert page.text.count("reflection-card") >= 13
    # The session lookup, then the cards with their counts and the prompt of the week in one statement.
    assert len(few) == len(many) <= 2, many
    assert any("FROM reflections r" in s for s in many), many


async def test_the_prompt_of_the_week_shows_with_cards_with_none_and_when_pinned(member_factory, login, db):
    """It rides on the cards' statement; an empty page (a filter that finds nothing) still shows it."""
    from community.reflections import prompts as prompt_actions
    from community.reflections.models import Prompt

    me = await login(await member_factory())
    async with db.raw() as connection:
        weekly = await prompt_actions.prompt_of_week_row(connection)
    empty = await me.get("/reflections?q=nothingmatchesthisword")
    assert empty.status_code == 200 and weekly["title"] in empty.text
    await write(me, body="A piece for the wall.", visibility="anonymous")
    assert weekly["title"] in (await me.get("/reflections")).text
    async with db.transaction() as session:
        other = (await session.scalars(select(Prompt).where(Prompt.active.is_(True), Prompt.id != weekly["id"])
                                       .order_by(Prompt.id))).first()
        other.pinned_at = func.now()
    assert other.title in (await me.get("/reflections")).text  # an admin's pin wins at once
