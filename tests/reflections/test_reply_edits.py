"""Replies are the writer's own anonymous writing too: they edit them (screened like new ones, identity untouched)
and find them all in their journal."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from community.platform.review.models import ReviewItem
from community.reflections.models import ReflectionReply
from tests.reflections.conftest import follow_pages, write
from tests.reflections.test_anonymity import author_marks
from tests.reflections.test_safety import CRISIS, PHI

ANON_REPLY = "The car is where I breathe too, after family meetings."


async def _reply(client, db, rid: int, body: str, anonymous: bool = True) -> int:
    data = {"body": body, **({"anonymous": "yes"} if anonymous else {})}
    response = await client.post_form(f"/reflections/{rid}/replies", data)
    assert response.status_code == 303, response.text[:1000]
    return int(re.search(r"#reply-(\d+)", response.headers["location"]).group(1))


async def _row(db, reply_id: int) -> ReflectionReply | None:
    async with db.transaction() as session:
        return await session.get(ReflectionReply, reply_id)


def _label(page: str, reply_id: int) -> str:
    """The writer's label on a reply, as a reflection page shows it."""
    match = re.search(rf'id="reply-{reply_id}" aria-label="Reply from ([^"]+)"', page)
    assert match, page[:2000]
    return match.group(1)


async def _scene(member_factory, login, db):
    author = await member_factory(name="Theodora Reflectwell")
    writer = await member_factory(name="Bartholomew Replyson", email="b.replyson@example.org")
    other = await member_factory(name="Other Reader")
    mod = await member_factory("moderator", name="Mod Watcher")
    a, w = await login(author), await login(writer)
    rid = await write(a, title="After the family meeting", body="I said the words and then sat in my car.",
                      visibility="anonymous")
    anon = await _reply(w, db, rid, ANON_REPLY)
    named = await _reply(w, db, rid, "Signed: same here, more than once.", anonymous=False)
    return {"author": author, "writer": writer, "other": other, "mod": mod, "a": a, "w": w, "rid": rid,
            "anon": anon, "named": named}


# ---- editing ---------------------------------------------------------------------------------------------

async def test_writer_edits_own_anonymous_reply_without_revealing_themselves(member_factory, login, db):
    s = await _scene(member_factory, login, db)
    w, rid, anon = s["w"], s["rid"], s["anon"]
    other = await login(s["other"])
    before_row = await _row(db, anon)
    before_label = _label((await other.get(f"/reflections/{rid}")).text, anon)
    assert before_label.startswith("Anonymous · ")

    page = await w.get(f"/reflections/replies/{anon}/edit")
    assert page.status_code == 200 and ANON_REPLY in page.text
    assert before_label in page.text  # the writer is told how others see them
    # The writer's own view of the thread offers the edit.
    assert f"/reflections/replies/{anon}/edit" in (await w.get(f"/reflections/{rid}")).text

    response = await w.post_form(f"/reflections/replies/{anon}/edit",
                                 {"body": "You are *not* alone. <script>alert(1)</script>"})
    assert response.status_code == 303, response.text[:1000]
    assert response.headers["location"] == f"/reflections/{rid}#reply-{anon}"
    row = await _row(db, anon)
    assert row.body.startswith("You are *not* alone.") and "<em>not</em>" in row.body_html
    assert "<script" not in row.body_html
    # Who wrote it is untouched: no member id, the same tag, seal and pseudonym; the day only for the edit.
    assert row.author_id is None and row.anonymous
    assert (row.author_tag, row.sealed_author, row.pseudonym) == (before_row.author_tag, before_row.sealed_author,
                                                                  before_row.pseudonym)
    assert row.edited_at is not None and row.edited_at.astimezone(UTC).time() == time(0, 0)

    for viewer in (s["other"], s["mod"], s["author"]):
        client = await login(viewer)
        shown = (await client.get(f"/reflections/{rid}")).text
        assert _label(shown, anon) == before_label
        assert '<span class="edited">edited</span>' in shown
        assert f"/reflections/replies/{anon}/edit" not in shown
        for mark in author_marks(s["writer"]):
            assert mark not in shown.split(f'id="reply-{s["named"]}"')[0], (viewer.role, mark)
        assert not re.search(r"\b\d{1,2}:\d{2}\b", shown)


async def test_writer_edits_own_named_reply(member_factory, login, db):
    s = await _scene(member_factory, login, db)
    response = await s["w"].post_form(f"/reflections/replies/{s['named']}/edit", {"body": "Signed, and edited."})
    assert response.status_code == 303
    row = await _row(db, s["named"])
    assert row.body == "Signed, and edited." and row.author_id == s["writer"].id and not row.anonymous
    assert row.edited_at is not None and row.author_tag is None
    page = (await (await login(s["other"])).get(f"/reflections/{s['rid']}")).text
    assert _label(page, s["named"]) == s["writer"].display_name and "Signed, and edited." in page
    # Unchanged text is not an edit.
    anon_before = await _row(db, s["anon"])
    same = await s["w"].post_form(f"/reflections/replies/{s['anon']}/edit", {"body": anon_before.body})
    assert same.status_code == 303 and (await _row(db, s["anon"])).edited_at is None


async def test_others_cannot_edit_a_reply(member_factory, login, db):
    s = await _scene(member_factory, login, db)
    admin = await member_factory("admin")
    for who in (s["other"], s["mod"], s["author"], admin):
        client = await login(who)
        for reply_id in (s["anon"], s["named"]):
            assert (await client.get(f"/reflections/replies/{reply_id}/edit")).status_code == 404, who.role
            response = await client.post_form(f"/reflections/replies/{reply_id}/edit", {"body": "Overwritten."})
            assert response.status_code == 404, (who.role, response.status_code)
            # The same answer as for deleting it.
            assert (await client.post_form(f"/reflections/replies/{reply_id}/delete")).status_code == 404
    for reply_id in (s["anon"], s["named"]):
        row = await _row(db, reply_id)
        assert row.body != "Overwritten." and row.edited_at is None


async def test_moderator_removed_reply_cannot_be_edited_but_hidden_can(member_factory, login, db):
    s = await _scene(member_factory, login, db)
    mod, w = await login(s["mod"]), s["w"]
    removed = await mod.post_form(f"/reflections/moderate/reflection_reply/{s['anon']}/decide",
                                  {"decision": "remove", "reason": "Not supportive."})
    assert removed.status_code == 303, removed.text[:500]
    assert (await w.get(f"/reflections/replies/{s['anon']}/edit")).status_code == 403
    refused = await w.post_form(f"/reflections/replies/{s['anon']}/edit", {"body": "Try again."})
    assert refused.status_code == 403 and "moderator removed this reply" in refused.text
    assert (await _row(db, s["anon"])).body == ANON_REPLY
    # The writer still sees it, marked, in the thread and in the journal, with no edit link.
    thread = (await w.get(f"/reflections/{s['rid']}")).text
    assert f'id="reply-{s["anon"]}"' in thread and f"/reflections/replies/{s['anon']}/edit" not in thread
    journal = (await w.get("/journal")).text
    assert "removed by a moderator" in journal and f"/reflections/replies/{s['anon']}/edit" not in journal
    # Others do not see it at all.
    assert f'id="reply-{s["anon"]}"' not in (await (await login(s["other"])).get(f"/reflections/{s['rid']}")).text
    # A reply hidden pending review may still be edited by its writer (as thread posts may).
    hidden = await mod.post_form(f"/reflections/moderate/reflection_reply/{s['named']}/decide",
                                 {"decision": "hide", "reason": "Checking."})
    assert hidden.status_code == 303
    assert (await w.post_form(f"/reflections/replies/{s['named']}/edit", {"body": "Kinder now."})).status_code == 303
    assert (await _row(db, s["named"])).state == "hidden"


async def test_no_edit_once_the_reflection_is_closed(member_factory, login, db):
    s = await _scene(member_factory, login, db)
    assert (await s["a"].post_form(f"/reflections/{s['rid']}/visibility", {"visibility": "private"})).status_code == 303
    response = await s["w"].post_form(f"/reflections/replies/{s['anon']}/edit", {"body": "Later words."})
    assert response.status_code in (403, 404)
    journal = (await s["w"].get("/journal")).text
    # The piece is private now: its title is not shown to the reply's writer, nor a link to it.
    assert "After the family meeting" not in journal and f"/reflections/{s['rid']}" not in journal
    assert "a reflection you can no longer read" in journal and ANON_REPLY in journal


async def test_silenced_writer_cannot_edit(member_factory, login, db):
    author, writer = await member_factory(), await member_factory()
    rid = await write(await login(author), body="Open.", visibility="anonymous")
    w = await login(writer)
    reply_id = await _reply(w, db, rid, "First words.")
    async with db.transaction() as session:
        from community.platform.accounts.models import User

        (await session.get(User, writer.id)).silenced_until = datetime.now(UTC) + timedelta(days=2)
    response = await w.post_form(f"/reflections/replies/{reply_id}/edit", {"body": "New words."})
    assert response.status_code == 403 and "New words." in response.text
    assert (await _row(db, reply_id)).body == "First words."


# ---- screening ---------------------------------------------------------------------------------------------

async def _items(db, reply_id: int) -> list[ReviewItem]:
    async with db.transaction() as session:
        return list(await session.scalars(select(ReviewItem).where(
            ReviewItem.target_kind == "reflection_reply", ReviewItem.target_id == reply_id)))


async def test_edit_is_screened_for_crisis(member_factory, login, db):
    s = await _scene(member_factory, login, db)
    assert await _items(db, s["anon"]) == []
    response = await s["w"].post_form(f"/reflections/replies/{s['anon']}/edit", {"body": CRISIS})
    assert response.status_code == 303 and "support=1" in response.headers["location"]
    page = await s["w"].get(response.headers["location"])
    assert 'class="crisis-panel"' in page.text
    items = await _items(db, s["anon"])
    assert items and items[0].urgent and "crisis" in items[0].reasons


async def test_edit_with_identifiers_needs_confirmation(member_factory, login, db):
    s = await _scene(member_factory, login, db)
    held = await s["w"].post_form(f"/reflections/replies/{s['anon']}/edit", {"body": PHI})
    assert held.status_code == 400
    assert "<mark" in held.text and 'name="confirm_phi"' in held.text and PHI[:10] in held.text
    assert (await _row(db, s["anon"])).body == ANON_REPLY
    ok = await s["w"].post_form(f"/reflections/replies/{s['anon']}/edit", {"body": PHI, "confirm_phi": "yes"})
    assert ok.status_code == 303
    assert (await _row(db, s["anon"])).body == PHI
    items = await _items(db, s["anon"])
    assert items and "privacy" in items[0].reasons


async def test_bad_input_keeps_the_draft(member_factory, login, db):
    s = await _scene(member_factory, login, db)
    w, url = s["w"], f"/reflections/replies/{s['anon']}/edit"
    token = w.cookies.get("csrf")
    cases = [
        ({"body": ""}, "Please write something first", None),
        ({"body": "  \n "}, "Please write something first", None),
        ({"body": "kept words " + "y" * 5000}, "at most 5,000", "kept words yyy"),
        ({"body": "<img src=x onerror=alert(1)>", "confirm_phi": "maybe"}, None, None),
    ]
    for data, message, kept in cases:
        response = await w.post_form(url, data)
        if message is None:
            assert response.status_code == 303
            assert "<img" not in (await _row(db, s["anon"])).body_html  # escaped by community.text
            continue
        assert response.status_code == 400, (data, response.status_code)
        assert message in response.text
        if kept:
            assert kept in response.text
    for raw, message in ((b"body=caf%FF+latte", "not valid UTF-8"), (b"body=a%00b+kept", "NUL"),
                         (b"body[]=x", "Please write something first"), (b"%FF=1&body=", "")):
        response = await w.post(url, content=raw + b"&csrf_token=" + token.encode(),
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code == 400, (raw, response.status_code)
        assert message in response.text
    draft = await w.post(url, content=b"body=a%00b+kept&csrf_token=" + token.encode(),
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert "b kept" in draft.text
    assert (await _row(db, s["anon"])).body == "<img src=x onerror=alert(1)>"
    # Odd ids: not found, never a 500.
    for odd in ("0", "-1", "abc", "99999999999", "1" * 30):
        assert (await w.get(f"/reflections/replies/{odd}/edit")).status_code == 404
        assert (await w.post_form(f"/reflections/replies/{odd}/edit", {"body": "x"})).status_code == 404


# ---- the journal lists them -----------------------------------------------------------------------------

async def test_journal_lists_own_replies_only_newest_first(member_factory, login, db):
    s = await _scene(member_factory, login, db)
    other = await login(s["other"])
    theirs = await _reply(other, db, s["rid"], "Someone else's kind words.")
    second = await write(s["a"], title="", body="Second piece, untitled, about the pager at 3am.",
                         visibility="named")
    # Signed: an anonymous reply keeps only its day, so within a day it comes after the signed ones.
    newest = await _reply(s["w"], db, second, "Newest reply of mine.", anonymous=False)
    await s["w"].post_form(f"/reflections/replies/{s['anon']}/edit", {"body": "Edited in place."})

    journal = (await s["w"].get("/journal")).text
    section = journal.split('id="my-replies"', 1)[1]
    positions = [section.index(f'id="my-reply-{r}"') for r in (newest, s["named"], s["anon"])]
    assert positions == sorted(positions)
    assert f'id="my-reply-{theirs}"' not in section and "Someone else" not in section
    assert "After the family meeting" in section and "Second piece, untitled" in section  # title or excerpt
    for reply_id, rid in ((newest, second), (s["named"], s["rid"]), (s["anon"], s["rid"])):
        assert f'href="/reflections/{rid}#reply-{reply_id}"' in section
        assert f'href="/reflections/replies/{reply_id}/edit"' in section
        assert f'action="/reflections/replies/{reply_id}/delete"' in section
    assert "Edited in place." in section and '<span class="edited">edited</span>' in section
    assert "Under your name" in section and "Anonymous · " in section
    assert not re.search(r"\b\d{1,2}:\d{2}\b", section)

    # Deleting from the journal comes back to it.
    gone = await s["w"].post_form(f"/reflections/replies/{newest}/delete", {"next": "journal"})
    assert gone.status_code == 303 and gone.headers["location"] == "/journal#my-replies"
    assert await _row(db, newest) is None
    # Any other "next" is ignored: back to the reflection, never an outside address.
    elsewhere = await s["w"].post_form(f"/reflections/replies/{s['named']}/delete", {"next": "https://evil.test/"})
    assert elsewhere.headers["location"] == f"/reflections/{s['rid']}"


async def test_journal_of_others_shows_nothing_of_the_writer(member_factory, login, db):
    s = await _scene(member_factory, login, db)
    admin = await member_factory("admin")
    for who in (s["other"], s["mod"], admin, s["author"]):
        client = await login(who)
        journal = (await client.get("/journal")).text
        for reply_id in (s["anon"], s["named"]):
            assert f"my-reply-{reply_id}" not in journal and f"/reflections/replies/{reply_id}" not in journal
        assert ANON_REPLY not in journal and "Signed: same here" not in journal
        for mark in author_marks(s["writer"]):
            assert mark not in journal, (who.role, mark)
        assert "You have not replied to a reflection yet." in journal


async def test_every_reply_is_reachable_from_the_journal(member_factory, login, db, monkeypatch):
    """The journal shows the newest replies and links to all of them, a page at a time, only the writer's own."""
    from community.reflections import replies

    monkeypatch.setattr(replies, "MY_REPLIES_ON_JOURNAL", 2)
    monkeypatch.setattr(replies, "MY_REPLIES_PAGE", 2)
    s = await _scene(member_factory, login, db)
    third = await _reply(s["w"], db, s["rid"], "A third reply, signed.", anonymous=False)
    theirs = await _reply(await login(s["other"]), db, s["rid"], "Someone else's reply.")
    journal = (await s["w"].get("/journal")).text
    assert len(re.findall(r'id="my-reply-\d+"', journal)) == 2 and 'href="/journal/replies"' in journal
    seen = await follow_pages(s["w"], "/journal/replies", r'id="my-reply-(\d+)"',
                              r'href="(/journal/replies\?before=\d+)">Older replies', most=4)
    assert sorted(seen) == sorted([s["anon"], s["named"], third]) and theirs not in seen
    # Deleting from that page comes back to it.
    gone = await s["w"].post_form(f"/reflections/replies/{third}/delete", {"next": "replies"})
    assert gone.status_code == 303 and gone.headers["location"] == "/journal/replies"
    # Someone else's reply as the cursor shows nothing.
    cursor = await s["w"].get("/journal/replies", params={"before": str(theirs)})
    assert cursor.status_code == 200 and not re.findall(r'id="my-reply-\d+"', cursor.text)
