"""Writing reflections: visibilities, visibility changes, edits, deletes, and the private journal."""

from __future__ import annotations

import re

from community.platform.anonymity import author_tag
from tests.reflections.conftest import follow_pages, load, write


async def test_private_reflection_is_only_for_the_author(member_factory, login, db):
    author, other, mod = await member_factory(), await member_factory(), await member_factory("moderator")
    me = await login(author)
    rid = await write(me, title="Night float", body="The quiet after the code. *I cried* in the stairwell.")
    page = await me.get(f"/reflections/{rid}")
    assert page.status_code == 200
    assert "<em>I cried</em>" in page.text and "Private: only you can see this" in page.text
    for viewer in (other, mod):
        response = await (await login(viewer)).get(f"/reflections/{rid}")
        assert response.status_code == 404
    row = await load(db, rid)
    assert row.author_id is None and row.sealed_author is None and row.visibility == "private"


async def test_anonymous_and_named_rows(member_factory, login, db, anon_key):
    author = await member_factory()
    me = await login(author)
    anon = await write(me, body="Anonymous words.", visibility="anonymous")
    named = await write(me, body="Named words.", visibility="named")
    anon_row, named_row = await load(db, anon), await load(db, named)
    assert anon_row.author_id is None
    assert anon_row.author_tag == author_tag(anon_key, author.id, f"reflection:{anon}")
    assert anon_row.sealed_author and str(author.id) not in anon_row.sealed_author
    assert named_row.author_id == author.id and named_row.author_tag is None


async def test_shared_to_private_withdraws_from_wall_and_search(member_factory, login):
    author, reader = await member_factory(), await member_factory()
    me, them = await login(author), await login(reader)
    rid = await write(me, title="Lanterns", body="The lanterns in the family room kept me going.",
                      visibility="anonymous")
    wall = await them.get("/reflections")
    assert f"/reflections/{rid}" in wall.text
    found = await them.get("/reflections", params={"q": "lanterns"})
    assert f"/reflections/{rid}" in found.text
    response = await me.post_form(f"/reflections/{rid}/visibility", {"visibility": "private"})
    assert response.status_code == 303
    assert f"/reflections/{rid}" not in (await them.get("/reflections")).text
    assert f"/reflections/{rid}" not in (await them.get("/reflections", params={"q": "lanterns"})).text
    assert (await them.get(f"/reflections/{rid}")).status_code == 404
    # ...and back to shared, under the author's name this time.
    response = await me.post_form(f"/reflections/{rid}/visibility", {"visibility": "named"})
    assert response.status_code == 303
    page = await them.get(f"/reflections/{rid}")
    assert page.status_code == 200 and author.display_name in page.text


async def test_visibility_change_keeps_ownership_columns_exclusive(member_factory, login, db):
    author = await member_factory()
    me = await login(author)
    rid = await write(me, body="Changing hands.", visibility="private")
    # Once named it never goes anonymous again (tests/anonymity/test_named_stays_named.py).
    for visibility in ("anonymous", "private", "anonymous", "named", "private"):
        assert (await me.post_form(f"/reflections/{rid}/visibility", {"visibility": visibility})).status_code == 303
        row = await load(db, rid)
        assert row.visibility == visibility
        assert (row.author_id is not None) == (visibility == "named")
        assert (row.sealed_author is not None) == (visibility == "anonymous")


async def test_edit_and_delete_own_reflection(member_factory, login, db):
    author, other = await member_factory(), await member_factory()
    me, them = await login(author), await login(other)
    rid = await write(me, title="First", body="First version.", visibility="anonymous")
    assert (await them.get(f"/reflections/{rid}/edit")).status_code == 404
    assert (await them.post_form(f"/reflections/{rid}/delete")).status_code == 404
    edit = await me.get(f"/reflections/{rid}/edit")
    assert edit.status_code == 200 and "First version." in edit.text
    response = await me.post_form(f"/reflections/{rid}/edit", {"title": "Second", "body": "Second version.",
                                                              "visibility": "anonymous", "intent": "publish"})
    assert response.status_code == 303
    assert "Second version." in (await them.get(f"/reflections/{rid}")).text
    assert (await me.get(f"/reflections/{rid}/delete")).status_code == 200
    assert (await me.post_form(f"/reflections/{rid}/delete")).status_code == 303
    assert await load(db, rid) is None


async def test_journal_lists_all_visibilities_by_date_and_theme(member_factory, login, any_prompt):
    author, other = await member_factory(), await member_factory()
    me = await login(author)
    ids = [await write(me, title=f"Entry {v}", body=f"Body {v}", visibility=v) for v in
           ("private", "anonymous", "named")]
    themed = await write(me, title="Prompted", body="To a prompt.", prompt_id=str(any_prompt.id))
    page = await me.get("/journal")
    for rid in [*ids, themed]:
        assert f"/reflections/{rid}" in page.text
    by_theme = await me.get("/journal", params={"view": "theme"})
    assert by_theme.status_code == 200 and "No theme" in by_theme.text
    filtered = await me.get("/journal", params={"theme": any_prompt.theme})
    assert f"/reflections/{themed}" in filtered.text and f"/reflections/{ids[0]}" not in filtered.text
    # Another member's journal is their own: none of these appear there.
    theirs = await (await login(other)).get("/journal")
    assert all(f"/reflections/{rid}" not in theirs.text for rid in ids)


async def test_journal_search_is_private(member_factory, login):
    author, other = await member_factory(), await member_factory()
    me, them = await login(author), await login(other)
    mine = await write(me, body="The marigolds on the windowsill of bed nine.")
    await write(them, body="Marigolds again, in my own journal.")
    found = await me.get("/journal", params={"q": "marigold"})
    assert f"/reflections/{mine}" in found.text and "1 entry" in found.text
    theirs = await them.get("/journal", params={"q": "marigold"})
    assert f"/reflections/{mine}" not in theirs.text
    # Private writing never shows in the wall's search either.
    assert f"/reflections/{mine}" not in (await them.get("/reflections", params={"q": "marigolds"})).text
    # Odd search syntax is harmless.
    for q in ('"unclosed', "a & | ! (", "'; drop table reflections; --", "x" * 500):
        assert (await me.get("/journal", params={"q": q})).status_code == 200


async def test_silenced_member_can_write_privately_but_not_share(member_factory, login):
    from datetime import UTC, datetime, timedelta

    author = await member_factory(silenced_until=datetime.now(UTC) + timedelta(days=2))
    me = await login(author)
    await write(me, body="Still allowed in my journal.")
    response = await me.post_form("/reflections/new", {"body": "Shared?", "visibility": "anonymous",
                                                      "intent": "publish"})
    assert response.status_code == 403
    assert "Shared?" in response.text


async def test_journal_pages_through_every_entry(member_factory, login, monkeypatch):
    """Nothing is out of reach: the journal shows a page of entries and "Older entries" goes on from the last one
    until every entry has been shown once, in every view and filter; a search pages by rank."""
    from community.reflections import actions

    monkeypatch.setattr(actions, "JOURNAL_PAGE", 2)
    author, other = await member_factory(), await member_factory()
    me, them = await login(author), await login(other)
    ids = [await write(me, title=f"Lantern {n}", body=f"Entry number {n} about the lantern.", visibility=v)
           for n, v in enumerate(("private", "anonymous", "named", "private", "anonymous"))]
    theirs = await write(them, body="Their own lantern entry.")
    for params in ({}, {"view": "theme"}, {"visibility": "private"}, {"q": "lantern"}):
        seen = await follow_pages(me, "/journal", r'id="r-(\d+)-title"',
                                  r'<nav class="pager" aria-label="More of your journal"><a href="([^"]+)"', params)
        expected = [i for n, i in enumerate(ids) if params != {"visibility": "private"} or n in (0, 3)]
        assert sorted(seen) == sorted(expected), params
        assert theirs not in seen
    # A page holds JOURNAL_PAGE entries; the replies and the prompt of the week are on the first page only.
    first = (await me.get("/journal")).text
    assert len(re.findall(r'id="r-(\d+)-title"', first)) == 2 and 'id="my-replies"' in first
    older = re.search(r'href="(/journal\?view=date(?:&amp;|&)before=\d+)"', first).group(1).replace("&amp;", "&")
    assert 'id="my-replies"' not in (await me.get(older)).text
    # Another member's entry as the cursor shows nothing (and nothing of theirs).
    cursor = await me.get("/journal", params={"before": str(theirs)})
    assert cursor.status_code == 200 and "There are no older entries." in cursor.text
    assert not re.findall(r'id="r-(\d+)-title"', cursor.text)
    # Nonsense cursors are ignored, never a 500.
    for bad in ("-1", "abc", "9" * 40, "1e9"):
        assert (await me.get("/journal", params={"before": bad, "start": bad})).status_code == 200


def test_journal_page_sizes_are_stated():
    from community.reflections import actions, replies

    assert actions.JOURNAL_PAGE == 50 and replies.MY_REPLIES_ON_JOURNAL == 20 and replies.MY_REPLIES_PAGE == 50
