"""Reading and writing threads: replies, quote-reply, edits with revisions, deletion, reactions, read state."""

import re

from sqlalchemy import select

from community.discussions.models import Post, PostRevision, Reaction, Thread
from community.platform.review.models import Notification
from tests.discussions.conftest import add_replies, post_ids, reply_to, start_thread


async def test_categories_are_seeded_with_pinned_welcome_threads(resident, login):
    client = await login(resident)
    page = await client.get("/c")
    for name in ("Introductions", "Empathy and compassion", "Scripted empathy", "The hidden curriculum",
                 "Role models", "Self-care and time", "Life after training"):
        assert name in page.text
    category = await client.get("/c/hidden-curriculum")
    assert "Pinned" in category.text and "Community team" in category.text


async def test_seed_is_idempotent_and_keeps_admin_edits(db):
    from community.discussions import seed as categories
    from community.discussions.models import Category

    async with db.transaction() as session:
        intro = (await session.scalars(select(Category).where(Category.slug == "introductions"))).one()
        intro.name = "Say hello"
        threads_before = len((await session.scalars(select(Thread.id))).all())
        counts = await categories.seed(session)
        assert counts["categories_created"] == 0
        assert len((await session.scalars(select(Thread.id))).all()) == threads_before
        await session.refresh(intro)
        assert intro.name == "Say hello"


async def test_thread_reply_quote_and_notifications(resident, attending, login, db):
    a, b = await login(resident), await login(attending)
    thread_id, response = await start_thread(a, "Night float", "It was a **long** night.")
    assert response.headers["location"].startswith(f"/t/{thread_id}?page=1")
    page = await b.get(f"/t/{thread_id}")
    assert "<strong>long</strong>" in page.text and "Night float" in page.text
    first_id = (await post_ids(db, thread_id))[0]
    composer = await b.get(f"/t/{thread_id}/reply?quote={first_id}")
    assert composer.status_code == 200
    assert "&gt; **" in composer.text and "wrote:**" in composer.text
    await reply_to(b, thread_id, "> quoted\n\nI hear you.", reply_to=str(first_id))
    async with db.transaction() as session:
        reply = (await session.scalars(select(Post).where(Post.thread_id == thread_id, Post.position == 2))).one()
        assert reply.reply_to_id == first_id and "<blockquote>" in reply.body_html
        thread = await session.get(Thread, thread_id)
        assert thread.reply_count == 1
        texts = list(await session.scalars(select(Notification.text).where(Notification.user_id == resident.id)))
    assert any("replied" in t for t in texts)
    # The author's own post never notifies the author.
    async with db.transaction() as session:
        assert not list(await session.scalars(select(Notification.id).where(Notification.user_id == attending.id)))


async def test_mentions_watch_and_mute(resident, attending, member_factory, login, db):
    watcher = await member_factory("resident")
    muter = await member_factory("attending")
    a, w, m = await login(resident), await login(watcher), await login(muter)
    thread_id, _ = await start_thread(a, "Mentions", f"Hello @{muter.handle} and @nobody_here")
    async with db.transaction() as session:
        kinds = list(await session.scalars(select(Notification.kind).where(Notification.user_id == muter.id)))
    assert kinds == ["mention"]
    assert (await w.post_form(f"/t/{thread_id}/watch", {"level": "watch"})).status_code == 303
    assert (await m.post_form(f"/t/{thread_id}/watch", {"level": "mute"})).status_code == 303
    b = await login(attending)
    await reply_to(b, thread_id, f"Replying, and @{muter.handle} again")
    async with db.transaction() as session:
        to_watcher = list(await session.scalars(select(Notification.text).where(Notification.user_id == watcher.id)))
        to_muter = list(await session.scalars(select(Notification.id).where(Notification.user_id == muter.id)))
    assert len(to_watcher) == 1 and "you watch" in to_watcher[0]
    assert len(to_muter) == 1  # only the first mention, from before muting
    bad = await w.post_form(f"/t/{thread_id}/watch", {"level": "loud"})
    assert bad.status_code == 400


async def test_edit_keeps_revisions_and_marks_edited(resident, moderator, attending, login, db):
    a = await login(resident)
    thread_id, _ = await start_thread(a, "Original title", "Original body")
    post_id = (await post_ids(db, thread_id))[0]
    form = await a.get(f"/p/{post_id}/edit")
    assert form.status_code == 200 and "Original body" in form.text
    saved = await a.post_form(f"/p/{post_id}/edit", {"title": "New title", "body": "New body"})
    assert saved.status_code == 303
    page = await a.get(f"/t/{thread_id}")
    assert "New title" in page.text and "New body" in page.text and ">edited<" in page.text
    async with db.transaction() as session:
        revisions = list(await session.scalars(select(PostRevision).where(PostRevision.post_id == post_id)))
    assert [(r.title, r.body_md) for r in revisions] == [("Original title", "Original body")]
    mod = await login(moderator)
    history = await mod.get(f"/p/{post_id}/history")
    assert history.status_code == 200 and "Original body" in history.text
    other = await login(attending)
    assert (await other.get(f"/p/{post_id}/history")).status_code == 403
    assert (await other.get(f"/p/{post_id}/edit")).status_code == 403
    assert (await other.post_form(f"/p/{post_id}/edit", {"body": "hijack"})).status_code == 403


async def test_delete_leaves_placeholder_when_replies_depend(resident, attending, login, db):
    a, b = await login(resident), await login(attending)
    thread_id, _ = await start_thread(a, "To be deleted", "My opening words")
    await reply_to(b, thread_id, "A reply")
    await reply_to(a, thread_id, "A lone follow-up that nobody answered")
    first, _, lone = await post_ids(db, thread_id)
    assert (await a.get(f"/p/{first}/delete")).status_code == 200
    assert (await a.post_form(f"/p/{first}/delete")).status_code == 303
    assert (await a.post_form(f"/p/{lone}/delete")).status_code == 303
    page = await b.get(f"/t/{thread_id}")
    assert "removed by the author" in page.text
    assert "My opening words" not in page.text and "lone follow-up" not in page.text
    assert page.text.count("removed by the author") == 1
    assert (await b.post_form(f"/p/{first}/delete")).status_code in (403, 404)


async def test_deleting_a_thread_without_replies_removes_it(resident, attending, login, db):
    a = await login(resident)
    thread_id, _ = await start_thread(a, "Alone", "Nobody replied")
    first = (await post_ids(db, thread_id))[0]
    await a.post_form(f"/p/{first}/delete")
    b = await login(attending)
    assert (await b.get(f"/t/{thread_id}")).status_code == 404
    assert "Alone" not in (await b.get("/c/introductions")).text


async def test_reactions_toggle_with_counts(resident, attending, member_factory, login, db):
    a, b = await login(resident), await login(attending)
    c = await login(await member_factory("resident"))
    thread_id, _ = await start_thread(a)
    post_id = (await post_ids(db, thread_id))[0]
    for client in (b, c):
        assert (await client.post_form(f"/p/{post_id}/react", {"kind": "helped"})).status_code == 303
    page = await b.get(f"/t/{thread_id}")
    assert re.search(r'aria-pressed="true">This helped <span class="count">2</span>', page.text)
    await b.post_form(f"/p/{post_id}/react", {"kind": "helped"})  # takes it back
    async with db.transaction() as session:
        assert len(list(await session.scalars(select(Reaction.user_id)))) == 1
    assert (await a.post_form(f"/p/{post_id}/react", {"kind": "thanks"})).status_code == 400  # own post
    assert (await b.post_form(f"/p/{post_id}/react", {"kind": "downvote"})).status_code == 400
    assert (await b.post_form(f"/p/{post_id}/react", {"kind": "%FF"})).status_code == 400


async def test_thread_pagination_and_first_unread(resident, attending, login, db):
    a, b = await login(resident), await login(attending)
    thread_id, _ = await start_thread(a, "Long thread", "Post one")
    await add_replies(db, thread_id, attending.id, 120)
    page1 = await b.get(f"/t/{thread_id}")
    assert "reply number 50</p>" in page1.text and "reply number 51</p>" not in page1.text
    assert "Page 1 of 3" in page1.text
    # b has now read up to 50: the jump goes to post 51, on page 2.
    jump = await b.get(f"/t/{thread_id}/unread")
    assert jump.headers["location"] == f"/t/{thread_id}?page=2#p51"
    page2 = await b.get(f"/t/{thread_id}?page=2")
    assert 'id="unread"' in page2.text and "reply number 100</p>" in page2.text
    assert (await b.get(f"/t/{thread_id}?page=9")).status_code == 404
    assert (await b.get(f"/t/{thread_id}?page=abc")).status_code == 200
    # A permalink goes to the right page.
    last = (await post_ids(db, thread_id))[-1]
    assert (await b.get(f"/p/{last}")).headers["location"] == f"/t/{thread_id}?page=3#p120"


async def test_category_keyset_pagination(resident, login, db):
    from datetime import UTC, datetime, timedelta

    from community.discussions.models import Category

    client = await login(resident)
    async with db.transaction() as session:
        category = (await session.scalars(select(Category).where(Category.slug == "role-models"))).one()
        base = datetime.now(UTC) - timedelta(days=1)
        for n in range(65):
            session.add(Thread(category_id=category.id, author_id=resident.id, title=f"Generated thread {n:03d}",
                               post_count=1, last_activity_at=base + timedelta(minutes=n)))
    first = await client.get("/c/role-models")
    assert "Generated thread 064" in first.text and "Generated thread 035" in first.text
    assert "Generated thread 034" not in first.text
    cursor = re.search(r'href="/c/role-models\?after=([^"]+)"', first.text).group(1)
    second = await client.get(f"/c/role-models?after={cursor}")
    assert "Generated thread 034" in second.text and "Generated thread 035" not in second.text
    assert "Welcome: who showed you how?" not in second.text  # pinned threads only on the first page
    cursor = re.search(r'href="/c/role-models\?after=([^"]+)"', second.text).group(1)
    third = await client.get(f"/c/role-models?after={cursor}")
    assert "Generated thread 000" in third.text and "Older threads" not in third.text
    assert (await client.get("/c/role-models?after=garbage")).status_code == 200
    assert (await client.get("/c/no-such-category")).status_code == 404


async def test_locked_thread_and_archived_category(resident, admin, moderator, login, db):
    a = await login(resident)
    thread_id, _ = await start_thread(a, "Lock me")
    first = (await post_ids(db, thread_id))[0]
    mod = await login(moderator)
    assert (await mod.post_form(f"/review/post/{first}/decide", {"action": "lock", "next": "thread"})).status_code == 303
    refused = await a.post_form(f"/t/{thread_id}/reply", {"body": "Can I still reply?"})
    assert refused.status_code == 403 and "Can I still reply?" in refused.text
    assert "This thread is locked" in (await a.get(f"/t/{thread_id}")).text
    await reply_to(mod, thread_id, "Moderators can still post a note.")
    adm = await login(admin)
    from community.discussions.models import Category

    async with db.transaction() as session:
        cid = await session.scalar(select(Category.id).where(Category.slug == "introductions"))
    await adm.post_form(f"/admin/categories/{cid}/archive", {"archive": "yes"})
    closed = await a.post_form("/c/introductions/new", {"title": "New", "body": "Body"})
    assert closed.status_code == 403 and "Body" in closed.text
    assert (await a.get("/c/introductions/new")).status_code == 403
    assert (await a.get("/c/introductions")).status_code == 200
