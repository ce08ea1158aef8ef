"""Safety on reflection surfaces: crisis resources, patient-identifier confirmation, and private writing kept private."""

from __future__ import annotations

from html import escape

from sqlalchemy import select, text

from community.platform.review.models import ReviewItem
from community.settings import DEFAULT_RESOURCES
from tests.reflections.conftest import write

CRISIS = "I want to kill myself tonight. The night shift broke something."
PHI = "Mr. Jones, MRN 12345678, born 03/04/1961, asked me to stay."


async def _items(db):
    async with db.transaction() as session:
        return list(await session.scalars(select(ReviewItem)))


async def test_private_crisis_shows_resources_and_reports_nothing(member_factory, login, db):
    me = await login(await member_factory())
    before = len(await _items(db))
    response = await me.post_form("/reflections/new", {"body": CRISIS + " " + PHI, "visibility": "private",
                                                      "intent": "publish"})
    assert response.status_code == 303 and "support=1" in response.headers["location"]
    page = await me.get(response.headers["location"])
    assert 'class="crisis-panel"' in page.text
    for name, _text, _link in DEFAULT_RESOURCES:
        assert escape(name) in page.text
    assert len(await _items(db)) == before
    # Editing private writing, again with crisis words and identifiers: still nothing reported.
    rid = int(response.headers["location"].split("/")[2].split("?")[0])
    await me.post_form(f"/reflections/{rid}/edit", {"body": CRISIS + " again", "visibility": "private",
                                                   "intent": "publish"})
    assert len(await _items(db)) == before


async def test_shared_identifiers_need_confirmation(member_factory, login, db):
    me = await login(await member_factory())
    response = await me.post_form("/reflections/new", {"title": "Bed 4", "body": PHI, "visibility": "anonymous",
                                                      "intent": "publish"})
    assert response.status_code == 400
    assert "<mark" in response.text and 'name="confirm_phi"' in response.text
    assert "cannot be published on your word" in response.text and "Mr. Jones" in response.text
    assert "keep it hidden until approved" in response.text  # an MRN and a DOB: no "not identifiers" box
    # The draft is kept on the server too.
    assert "12345678" in (await me.get("/reflections/new")).text
    rid = await write(me, title="Bed 4", body=PHI, visibility="anonymous", confirm_phi="yes")
    items = [i for i in await _items(db) if i.target_kind == "reflection" and i.target_id == rid]
    assert len(items) == 1 and {"privacy", "approval"} <= set(items[0].reasons)
    async with db.transaction() as session:
        state = await session.scalar(text("SELECT state FROM reflections WHERE id = :id"), {"id": rid})
    assert state == "hidden"  # waits for a moderator, off the wall
    reader = await login(await member_factory())
    assert (await reader.get(f"/reflections/{rid}")).status_code == 404
    mod = await login(await member_factory("moderator"))
    decided = await mod.post_form(f"/review/reflection/{rid}/decide", {"action": "approve", "reason": ""})
    assert decided.status_code == 303, decided.text[:1000]
    assert (await reader.get(f"/reflections/{rid}")).status_code == 200  # a moderator let it through


async def test_weak_identifiers_are_published_on_the_writers_word(member_factory, login, db):
    me = await login(await member_factory())
    body = "Mr. Jones in bed 4 asked me to stay."
    response = await me.post_form("/reflections/new", {"title": "Bed 4", "body": body, "visibility": "anonymous",
                                                      "intent": "publish"})
    assert response.status_code == 400 and "These are not patient identifiers" in response.text
    rid = await write(me, title="Bed 4", body=body, visibility="anonymous", confirm_phi="yes")
    async with db.transaction() as session:
        state = await session.scalar(text("SELECT state FROM reflections WHERE id = :id"), {"id": rid})
    assert state == "visible"


async def test_shared_crisis_opens_an_urgent_item_and_shows_resources(member_factory, login, db):
    me = await login(await member_factory())
    response = await me.post_form("/reflections/new", {"body": CRISIS, "visibility": "anonymous",
                                                      "intent": "publish"})
    assert response.status_code == 303
    page = await me.get(response.headers["location"])
    assert 'class="crisis-panel"' in page.text
    items = [i for i in await _items(db) if i.target_kind == "reflection"]
    assert items and items[0].urgent and "crisis" in items[0].reasons


async def test_replies_are_screened(member_factory, login, db):
    author, reader = await member_factory(), await member_factory()
    me, them = await login(author), await login(reader)
    rid = await write(me, body="Open to replies.", visibility="anonymous")
    held = await them.post_form(f"/reflections/{rid}/replies", {"body": PHI})
    assert held.status_code == 400 and "<mark" in held.text and PHI[:10] in held.text
    ok = await them.post_form(f"/reflections/{rid}/replies", {"body": PHI, "confirm_phi": "yes"})
    assert ok.status_code == 303
    items = [i for i in await _items(db) if i.target_kind == "reflection_reply"]
    assert items and "privacy" in items[0].reasons


async def test_going_private_withdraws_review_items(member_factory, login, db):
    me = await login(await member_factory())
    rid = await write(me, body=CRISIS, visibility="anonymous")
    assert any(i.target_id == rid and i.resolved_at is None for i in await _items(db))
    await me.post_form(f"/reflections/{rid}/visibility", {"visibility": "private"})
    assert not any(i.target_kind == "reflection" and i.target_id == rid and i.resolved_at is None
                   for i in await _items(db))
    mod = await login(await member_factory("moderator"))
    assert (await mod.get(f"/review/reflection/{rid}")).status_code == 404
    assert (await mod.get(f"/flag/reflection/{rid}")).status_code == 404
