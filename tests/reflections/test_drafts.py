"""Drafts on the server: autosave (JSON with the CSRF header), restore, a failed submit keeps them."""

from __future__ import annotations

from sqlalchemy import select, text

from community.platform.anonymity import Anonymity
from community.reflections.drafts import draft_tag
from community.reflections.models import ReflectionDraft


async def _autosave(client, payload, **kwargs):
    return await client.post("/reflections/drafts", json=payload,
                             headers={"X-CSRF-Token": client.cookies.get("csrf")}, **kwargs)


async def test_autosave_and_restore(member_factory, login, db, anon_key):
    author = await member_factory()
    me = await login(author)
    response = await _autosave(me, {"slot": "new", "title": "Half a thought", "body": "Still writing this…",
                                    "visibility": "anonymous"})
    assert response.status_code == 200 and response.json()["saved"] is True
    page = await me.get("/reflections/new")
    assert "Still writing this…" in page.text and "Half a thought" in page.text
    assert "is restored below" in page.text
    # Saving again replaces the one draft for the slot.
    await _autosave(me, {"slot": "new", "body": "Second pass."})
    async with db.transaction() as session:
        rows = list(await session.scalars(select(ReflectionDraft).where(
            ReflectionDraft.owner_tag == draft_tag(Anonymity(anon_key), author.id, "new"))))
    assert [r.body for r in rows] == ["Second pass."]


async def test_draft_rows_carry_no_member_id(member_factory, login, db):
    author = await member_factory()
    me = await login(author)
    await _autosave(me, {"slot": "new", "body": "Keyed by a tag only."})
    async with db.transaction() as session:
        row = (await session.execute(text("SELECT d::text FROM reflection_drafts d WHERE body = :b"),
                                     {"b": "Keyed by a tag only."})).scalar_one()
    assert author.email not in row and author.handle not in row


async def test_autosave_without_csrf_header_is_refused(member_factory, login):
    me = await login(await member_factory())
    response = await me.post("/reflections/drafts", json={"slot": "new", "body": "x"})
    assert response.status_code == 403


async def test_autosave_signed_out_is_401(client):
    await client.ensure_csrf()
    response = await _autosave(client, {"slot": "new", "body": "x"})
    assert response.status_code == 401 and response.json()["saved"] is False


async def test_autosave_bad_input(member_factory, login):
    me = await login(await member_factory())
    token = me.cookies.get("csrf")
    cases = [
        (b"{not json", 400),
        (b"\xff\xfe", 400),
        (b"[1, 2]", 400),
        (b'{"slot": "new", "body": 12}', 400),
        (b'{"slot": "new", "body": "a\\u0000b"}', 400),
        (b'{"slot": "elsewhere", "body": "x"}', 400),
        (b'{"slot": "new", "title": "' + b"t" * 201 + b'", "body": "x"}', 400),
        (b'{"slot": "new", "body": "' + b"b" * 60001 + b'"}', 400),
        (b'{"slot": "edit:999999999", "body": "x"}', 404),
    ]
    for body, status in cases:
        response = await me.post("/reflections/drafts", content=body,
                                 headers={"X-CSRF-Token": token, "Content-Type": "application/json"})
        assert response.status_code == status, (body[:40], response.text)
        assert response.json()["saved"] is False


async def test_save_draft_button_without_javascript(member_factory, login):
    me = await login(await member_factory())
    response = await me.post_form("/reflections/new", {"title": "", "body": "Saved with the button.",
                                                      "visibility": "private", "intent": "draft"})
    assert response.status_code == 303
    assert "Saved with the button." in (await me.get("/reflections/new")).text


async def test_failed_submit_rerenders_and_saves_the_draft(member_factory, login):
    me = await login(await member_factory())
    long_title = "t" * 201
    response = await me.post_form("/reflections/new", {"title": long_title, "body": "My kept words.",
                                                      "visibility": "private", "intent": "publish"})
    assert response.status_code == 400
    assert "My kept words." in response.text and "at most 200 characters" in response.text
    assert "saved as a draft" in response.text
    page = await me.get("/reflections/new")
    assert "My kept words." in page.text


async def test_failed_edit_keeps_an_edit_draft(member_factory, login):
    from tests.reflections.conftest import write

    me = await login(await member_factory())
    rid = await write(me, body="Original.")
    response = await me.post_form(f"/reflections/{rid}/edit", {"title": "t" * 201, "body": "Edited words.",
                                                              "visibility": "private", "intent": "publish"})
    assert response.status_code == 400 and "at most 200 characters" in response.text
    page = await me.get(f"/reflections/{rid}/edit")
    assert "Edited words." in page.text and "is restored below" in page.text
    # Longer than a draft may be (20,000, as a reflection): the re-rendered form still holds all of it.
    response = await me.post_form(f"/reflections/{rid}/edit", {"body": "Edited " + "x" * 20001,
                                                              "visibility": "private", "intent": "publish"})
    assert response.status_code == 400 and "at most 20,000" in response.text and "Edited xxx" in response.text


async def test_publishing_discards_the_draft(member_factory, login):
    from tests.reflections.conftest import write

    me = await login(await member_factory())
    await _autosave(me, {"slot": "new", "body": "About to publish."})
    await write(me, body="About to publish.", slot="new")
    page = await me.get("/reflections/new")
    assert "About to publish." not in page.text
