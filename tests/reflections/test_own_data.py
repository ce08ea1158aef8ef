"""Own data: the export (JSON and a zip of Markdown) and account deletion with both choices."""

from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import func, select

from community.platform.accounts.models import Session, User
from community.reflections.models import Reflection, ReflectionReply
from tests.conftest import PASSWORD
from tests.reflections.conftest import write


async def _setup(member_factory, login):
    author, reader = await member_factory(), await member_factory()
    me, them = await login(author), await login(reader)
    ids = {
        "private": await write(me, title="Private one", body="Only for me."),
        "anonymous": await write(me, title="Anon one", body="Shared without my name."),
        "named": await write(me, title="Named one", body="Shared with my name.", visibility="named"),
    }
    await write(me, title="Anon two", body="Another.", visibility="anonymous")
    ids["anonymous"] = (await me.post_form(f"/reflections/{ids['anonymous']}/visibility",
                                           {"visibility": "anonymous"})) and ids["anonymous"]
    theirs = await write(them, title="Theirs", body="Reader's piece.", visibility="named")
    await me.post_form(f"/reflections/{theirs}/replies", {"body": "My anonymous reply.", "anonymous": "yes"})
    await me.post_form(f"/reflections/{theirs}/replies", {"body": "My named reply."})
    await them.post_form(f"/reflections/{ids['named']}/replies", {"body": "Reader replies to named."})
    return author, reader, me, them, ids, theirs


async def test_export_json_and_zip(member_factory, login):
    author, reader, me, them, ids, theirs = await _setup(member_factory, login)
    await me.post("/reflections/drafts", json={"slot": "new", "body": "A draft in progress."},
                  headers={"X-CSRF-Token": me.cookies.get("csrf")})
    page = await me.get("/account/data")
    assert page.status_code == 200 and "Leave it, anonymously" in page.text
    data = (await me.get("/account/data/export.json")).json()
    titles = {r["title"] for r in data["reflections"]}
    assert {"Private one", "Anon one", "Named one", "Anon two"} <= titles
    assert data["member"]["email"] == author.email
    assert {r["body"] for r in data["reflection_replies"]} == {"My anonymous reply.", "My named reply."}
    assert [d["body"] for d in data["drafts"]] == ["A draft in progress."]
    assert "Theirs" not in titles and "threads" in data
    response = await me.get("/account/data/export.zip")
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert "data.json" in names and "replies.md" in names and "README.txt" in names
    md = [n for n in names if n.startswith("reflections/")]
    assert len(md) == 4
    anon_md = next(n for n in md if "anon-one" in n)
    text = archive.read(anon_md).decode()
    assert text.startswith("# Anon one") and "Shared without my name." in text and "anonymous" in text
    assert json.loads(archive.read("data.json"))["member"]["handle"] == author.handle
    # Another member's export has none of it.
    other = (await them.get("/account/data/export.json")).json()
    assert not {"Private one", "Anon one"} & {r["title"] for r in other["reflections"]}


async def test_delete_account_remove_shared(member_factory, login, db):
    author, reader, me, them, ids, theirs = await _setup(member_factory, login)
    wrong = await me.post_form("/account/data/delete", {"choice": "remove", "password": "wrong"})
    assert wrong.status_code == 400 and "password is not correct" in wrong.text
    nochoice = await me.post_form("/account/data/delete", {"password": PASSWORD})
    assert nochoice.status_code == 400 and "Choose what happens" in nochoice.text
    done = await me.post_form("/account/data/delete", {"choice": "remove", "password": PASSWORD})
    assert done.status_code == 303 and done.headers["location"] == "/"
    async with db.transaction() as session:
        for rid in ids.values():
            assert await session.get(Reflection, rid) is None
        bodies = set(await session.scalars(select(ReflectionReply.body)))
        user = await session.get(User, author.id)
        sessions = await session.scalar(select(func.count()).select_from(Session).where(Session.user_id == author.id))
    assert "My anonymous reply." not in bodies and "My named reply." not in bodies
    assert user.deleted_at is not None and user.email != author.email and user.display_name == "Former member"
    assert user.password_hash is None and sessions == 0
    assert (await me.get("/journal")).status_code == 303
    assert author.display_name not in (await them.get(f"/reflections/{theirs}")).text


async def test_delete_account_keep_shared_anonymously(member_factory, login, db):
    author, reader, me, them, ids, theirs = await _setup(member_factory, login)
    done = await me.post_form("/account/data/delete", {"choice": "anonymize", "password": PASSWORD})
    assert done.status_code == 303
    async with db.transaction() as session:
        assert await session.get(Reflection, ids["private"]) is None
        for key in ("anonymous", "named"):
            row = await session.get(Reflection, ids[key])
            assert row.visibility == "anonymous" and row.author_id is None
            assert row.author_tag is None and row.sealed_author is None
        replies = list(await session.scalars(select(ReflectionReply).where(ReflectionReply.reflection_id == theirs)))
    assert {r.body for r in replies} == {"My anonymous reply.", "My named reply."}
    assert all(r.author_id is None and r.author_tag is None and r.anonymous for r in replies)
    page = (await them.get(f"/reflections/{ids['named']}")).text
    assert "Shared with my name." in page and author.display_name not in page and "Anonymous" in page


async def test_delete_account_removes_or_keeps_thread_posts(member_factory, login, db):
    from community.discussions.models import Post
    from tests.discussions.conftest import start_thread

    for choice, expected_state in (("remove", "removed"), ("anonymize", "visible")):
        author = await member_factory(name=f"Thread Author {choice}")
        me = await login(author)
        thread_id, _ = await start_thread(me, title=f"My thread {choice}", body="Words I wrote in a thread.")
        done = await me.post_form("/account/data/delete", {"choice": choice, "password": PASSWORD})
        assert done.status_code == 303
        async with db.transaction() as session:
            posts = list(await session.scalars(select(Post).where(Post.thread_id == thread_id)))
        assert posts and all(p.state == expected_state for p in posts)
        reader = await login(await member_factory())
        page = await reader.get(f"/t/{thread_id}")
        assert author.display_name not in page.text
