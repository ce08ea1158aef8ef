"""Notifications about content show only while their recipient may still see it: in the list, behind the link and
in the unread count. Writers are still told what happened to their own writing; anonymous writers still by tag."""

import importlib.util
import re
from pathlib import Path

from sqlalchemy import insert, select, text

from community.platform.anonymity import author_tag
from community.platform.review.models import Notification
from community.reflections.models import ReflectionReply
from tests.discussions.conftest import post_ids, reply_to, start_thread
from tests.reflections.conftest import write

TITLE = "Secretive title kestrel"


def load_migration(name):
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / name
    spec = importlib.util.spec_from_file_location(f"migration_{name[:4]}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def unread_badge(page) -> int:
    match = re.search(r'class="badge" aria-label="(\d+) unread"', page.text)
    return int(match.group(1)) if match else 0


async def note_ids(db, **where):
    async with db.transaction() as session:
        query = select(Notification.id)
        for name, value in where.items():
            query = query.where(getattr(Notification, name) == value)
        return list(await session.scalars(query.order_by(Notification.id)))


async def decide(mod, kind, target_id, action, reason="A patient could be identified from this."):
    response = await mod.post_form(f"/review/{kind}/{target_id}/decide", {"action": action, "reason": reason})
    assert response.status_code == 303, response.text[:2000]


async def test_mention_in_a_removed_thread_disappears_and_comes_back_on_restore(member_factory, moderator, login,
                                                                                 db):
    rita = await member_factory("resident", name="Rita Resident")
    attending = await member_factory("attending")
    flagger = await member_factory("resident")
    author, them, mod = await login(rita), await login(attending), await login(moderator)
    thread_id, _ = await start_thread(author, TITLE, f"Could @{attending.handle} help me think this through?")
    post_id = (await post_ids(db, thread_id))[0]
    page = await them.get("/notifications")
    assert f"Rita Resident mentioned you in “{TITLE}”" in page.text and unread_badge(page) == 1
    [note_id] = await note_ids(db, user_id=attending.id)
    flagging = await login(flagger)
    assert (await flagging.post_form(f"/flag/post/{post_id}", {"reason": "privacy"})).status_code == 303

    await decide(mod, "post", post_id, "remove")
    assert (await them.get(f"/t/{thread_id}")).status_code == 404
    page = await them.get("/notifications")
    assert "kestrel" not in page.text and "Rita Resident" not in page.text and unread_badge(page) == 0
    assert (await them.get(f"/notifications/{note_id}")).status_code == 404
    assert "kestrel" not in (await them.get("/")).text
    # Marking all as read leaves it alone: it comes back as it was.
    assert (await them.post_form("/notifications/read")).status_code == 303
    # The writer is told the outcome (their own writing, which they may know the title of) ...
    own = await author.get("/notifications")
    assert "A moderator removed your writing" in own.text and TITLE in own.text and unread_badge(own) == 1
    # ... the flagger is thanked without the title of what is now removed.
    thanks = await flagging.get("/notifications")
    assert "Thank you for your flag on a post. A moderator removed it." in thanks.text
    assert "kestrel" not in thanks.text and unread_badge(thanks) == 1

    await decide(mod, "post", post_id, "restore", "Checked: nothing identifying after all.")
    page = await them.get("/notifications")
    assert f"Rita Resident mentioned you in “{TITLE}”" in page.text and unread_badge(page) == 1
    opened = await them.get(f"/notifications/{note_id}")
    assert opened.status_code == 303 and opened.headers["location"].startswith(f"/p/{post_id}")
    # Moderators may see removed writing: their notifications about it stay.
    await reply_to(author, thread_id, f"Thanks @{moderator.handle}")
    await decide(mod, "post", post_id, "remove")
    assert "mentioned you" in (await mod.get("/notifications")).text


async def test_reply_notification_on_a_hidden_post(resident, attending, member_factory, moderator, login, db):
    watcher = await member_factory("attending")
    a, b, w, mod = await login(resident), await login(attending), await login(watcher), await login(moderator)
    thread_id, _ = await start_thread(a, "Night float again")
    assert (await w.post_form(f"/t/{thread_id}/watch", {"level": "watch"})).status_code == 303
    await reply_to(b, thread_id, "Kept some words here.")
    reply_id = (await post_ids(db, thread_id))[1]
    for client in (a, w):
        page = await client.get("/notifications")
        assert "replied" in page.text and unread_badge(page) == 1

    await decide(mod, "post", reply_id, "hide", "Off topic.")
    for client in (a, w):
        page = await client.get("/notifications")
        assert "replied" not in page.text and unread_badge(page) == 0
    # The writer still sees their hidden reply, and the outcome.
    own = await b.get("/notifications")
    assert "A moderator hid your writing" in own.text and unread_badge(own) == 1
    await decide(mod, "post", reply_id, "restore", "Fine on a second look.")
    assert "replied" in (await a.get("/notifications")).text


async def test_reflection_reply_notification_after_the_reply_is_removed(member_factory, moderator, login, db):
    author, replier = await member_factory(), await member_factory(name="Rhea Replier")
    me, them, mod = await login(author), await login(replier), await login(moderator)
    rid = await write(me, title="Heavy week", body="It was heavy.", visibility="named")
    assert (await them.post_form(f"/reflections/{rid}/replies", {"body": "I hear you, and I am here."})
            ).status_code == 303
    async with db.transaction() as session:
        reply_id = await session.scalar(select(ReflectionReply.id).where(ReflectionReply.reflection_id == rid))
    page = await me.get("/notifications")
    assert "Someone replied to “Heavy week”" in page.text and unread_badge(page) == 1

    await decide(mod, "reflection_reply", reply_id, "remove")
    page = await me.get("/notifications")
    assert "replied" not in page.text and unread_badge(page) == 0
    outcome = await them.get("/notifications")
    assert "A moderator removed your writing" in outcome.text and unread_badge(outcome) == 1


async def test_anonymous_writers_are_still_told_and_nothing_new_names_them(member_factory, moderator, login, db,
                                                                           settings):
    author, reader = await member_factory(), await member_factory()
    me, them, mod = await login(author), await login(reader), await login(moderator)
    rid = await write(me, title="Stairwell", body="I cried in the stairwell.", visibility="anonymous")
    assert (await them.post_form(f"/reflections/{rid}/replies", {"body": "Me too.", "anonymous": "yes"})
            ).status_code == 303
    page = await me.get("/notifications")
    assert "replied to your anonymous reflection" in page.text and unread_badge(page) == 1

    # Their own piece is hidden: they may still see it, its replies, and they are told why.
    await decide(mod, "reflection", rid, "hide", "Pending a check.")
    page = await me.get("/notifications")
    assert "replied to your anonymous reflection" in page.text and "hid your writing" in page.text
    assert unread_badge(page) == 2
    assert "replied to your anonymous reflection" not in (await them.get("/notifications")).text
    tag = author_tag(settings.anon_key, author.id, f"reflection:{rid}")
    async with db.transaction() as session:
        rows = list(await session.scalars(select(Notification).where(Notification.recipient_tag == tag)))
        direct = list(await session.scalars(select(Notification).where(Notification.user_id == author.id)))
    assert len(rows) == 2 and direct == []
    assert all(n.user_id is None for n in rows)
    # The outcome names nothing; the reply notice names only the reply, which already points at this piece.
    assert {(n.kind, n.target_kind) for n in rows} == {("moderation", None), ("reflection_reply", "reflection_reply")}

    # A removed reply on their piece no longer shows; the outcome still does.
    async with db.transaction() as session:
        reply_id = await session.scalar(select(ReflectionReply.id).where(ReflectionReply.reflection_id == rid))
    await decide(mod, "reflection_reply", reply_id, "remove")
    page = await me.get("/notifications")
    assert "replied to your anonymous reflection" not in page.text and "hid your writing" in page.text
    assert unread_badge(page) == 1


async def test_backfill_gives_older_rows_their_target_and_leaves_the_rest(resident, login, db):
    migration = load_migration("0008_notification_targets.py")
    rows = [("mention", "/p/41"), ("reply", "/p/42"), ("reflection_reply", "/reflections/7#reply-43"),
            ("moderation", "/p/44"), ("mention", "/p/45?x"), ("reply", None), ("warning", None)]
    async with db.transaction() as session:
        await session.execute(insert(Notification), [
            {"user_id": resident.id, "kind": kind, "text": "Older", "url": url} for kind, url in rows])
        for statement in migration.BACKFILL:
            await session.execute(text(statement))
        found = (await session.execute(select(Notification.kind, Notification.url, Notification.target_kind,
                                              Notification.target_id)
                                       .where(Notification.user_id == resident.id, Notification.text == "Older")
                                       .order_by(Notification.id))).all()
    assert [(kind, target, target_id) for kind, _, target, target_id in found] == [
        ("mention", "post", 41), ("reply", "post", 42), ("reflection_reply", "reflection_reply", 43),
        ("moderation", None, None), ("mention", None, None), ("reply", None, None), ("warning", None, None)]
    # Posts 41-45 do not exist: the targeted ones are no longer shown, the others are, as before.
    page = await (await login(resident)).get("/notifications")
    assert page.text.count('<li class="notification') == 4 and unread_badge(page) == 4
