"""Watched words (block, hold for approval, flag; the test tool) and the new-member approval queue."""

import pytest
from sqlalchemy import func, select

from community.discussions.models import Post, Thread
from community.platform.review.models import Notification, ReviewItem
from community.platform.review.watched import check_watched
from tests.discussions.conftest import post_ids, start_thread


async def _add(client, phrase, action, message=""):
    response = await client.post_form("/admin/watched-words", {"phrase": phrase, "action": action,
                                                               "message": message})
    assert response.status_code == 303, response.text[:2000]


async def test_watched_words_block_approve_flag(admin, resident, login, db):
    adm = await login(admin)
    await _add(adm, "casino*", "block", "No gambling links, please.")
    await _add(adm, "lawsuit", "approve")
    await _add(adm, "pharma rep", "flag")
    member = await login(resident)
    blocked = await member.post_form("/c/introductions/new", {"title": "Hi", "body": "Visit my CASINOS now"})
    assert blocked.status_code == 400 and "No gambling links, please." in blocked.text
    assert "Visit my CASINOS now" in blocked.text
    thread_id, response = await start_thread(member, "Worried", "Thinking about a lawsuit")
    post_id = (await post_ids(db, thread_id))[0]
    flagged_id, _ = await start_thread(member, "Lunch", "A Pharma  rep bought lunch")
    flagged_post = (await post_ids(db, flagged_id))[0]
    async with db.transaction() as session:
        assert await session.scalar(select(Post.state).where(Post.id == post_id)) == "pending"
        assert await session.scalar(select(Post.state).where(Post.id == flagged_post)) == "visible"
        reasons = {i.target_id: i.reasons for i in await session.scalars(select(ReviewItem))}
        result = await check_watched(session, "a casino and a lawsuit")
    assert reasons[post_id] == ["approval"] and reasons[flagged_post] == ["watched"]
    assert result.blocked and result.require_approval and not result.flag
    assert (await check_watched_outside(db, "casinoless")).blocked  # casino* matches word starts
    assert not (await check_watched_outside(db, "two lawsuits")).matched  # whole words only
    assert (await check_watched_outside(db, "ＬＡＷＳＵＩＴ")).require_approval  # full-width letters fold


async def check_watched_outside(db, text):
    async with db.transaction() as session:
        return await check_watched(session, text)


async def test_watched_words_test_tool_and_bad_input(admin, login):
    adm = await login(admin)
    await _add(adm, "ivory tower", "flag")
    tested = await adm.post_form("/admin/watched-words/test", {"sample": "Life in the Ivory   Tower"})
    assert tested.status_code == 200 and "Published and flagged for review" in tested.text
    clean = await adm.post_form("/admin/watched-words/test", {"sample": "Nothing here"})
    assert "No watched word matches" in clean.text
    for data, message in (({"phrase": "", "action": "block"}, "Please enter a word"),
                          ({"phrase": "x" * 101, "action": "block"}, "Use at most 100"),
                          ({"phrase": "fine", "action": "explode"}, "Choose what should happen"),
                          ({"phrase": "mid*dle", "action": "flag"}, "only allowed at the end"),
                          ({"phrase": "ivory tower", "action": "flag"}, "already on the list")):
        response = await adm.post_form("/admin/watched-words", data)
        assert response.status_code == 400 and message in response.text, data
    assert (await adm.post_form("/admin/watched-words/test", {"sample": ""})).status_code == 400
    token = await adm.ensure_csrf()
    response = await adm.post("/admin/watched-words", content=f"csrf_token={token}&phrase=%FF&action=flag".encode(),
                              headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    page = await adm.get("/admin/watched-words")
    import re

    word_id = re.search(r'/admin/watched-words/(\d+)/delete', page.text).group(1)
    assert (await adm.post_form(f"/admin/watched-words/{word_id}/delete")).status_code == 303
    assert (await adm.post_form(f"/admin/watched-words/{word_id}/delete")).status_code == 404


@pytest.fixture
async def approval_client(resident, login_with):
    return await login_with(resident, new_member_approval_posts=2)


async def test_new_member_posts_wait_for_approval(resident, attending, moderator, approval_client, login, db):
    thread_id, response = await start_thread(approval_client, "My first thread", "Hello everyone")
    own = await approval_client.get(response.headers["location"])
    assert "waiting for a moderator" in own.text.lower() or "Waiting for a moderator" in own.text
    other = await login(attending)
    assert (await other.get(f"/t/{thread_id}")).status_code == 404
    assert "My first thread" not in (await other.get("/c/introductions")).text
    post_id = (await post_ids(db, thread_id))[0]
    mod = await login(moderator)
    assert "Approvals" in (await mod.get("/review?show=approval")).text
    assert "Hello everyone" in (await mod.get("/review?show=approval")).text
    assert (await mod.post_form(f"/review/post/{post_id}/decide", {"action": "approve"})).status_code == 303
    assert (await other.get(f"/t/{thread_id}")).status_code == 200
    async with db.transaction() as session:
        assert await session.scalar(select(Thread.state).where(Thread.id == thread_id)) == "visible"
        texts = list(await session.scalars(select(Notification.text).where(Notification.user_id == resident.id)))
    assert any("approved" in t for t in texts)
    # The second post still waits; the third does not.
    second, _ = await start_thread(approval_client, "Second", "Body two")
    await mod.post_form(f"/review/post/{(await post_ids(db, second))[0]}/decide", {"action": "approve"})
    third, _ = await start_thread(approval_client, "Third", "Body three")
    async with db.transaction() as session:
        assert await session.scalar(select(Thread.state).where(Thread.id == third)) == "visible"


async def _notifications(db, user_id):
    async with db.transaction() as session:
        return list(await session.scalars(select(Notification.text).where(Notification.user_id == user_id)))


async def test_editing_in_a_word_that_needs_approval_holds_the_post_again(admin, resident, attending, moderator,
                                                                          member_factory, login, db):
    from community.discussions.models import Category

    adm = await login(admin)
    await _add(adm, "lawsuit", "approve")
    author, replier = await login(resident), await login(attending)
    reader = await login(await member_factory("resident"))
    thread_id, _ = await start_thread(author, "Night shifts", "How do you all cope with nights?")
    response = await replier.post_form(f"/t/{thread_id}/reply", {"body": "Naps and kind colleagues."})
    assert response.status_code == 303
    first_id, reply_id = await post_ids(db, thread_id)
    replied = sum("replied" in t for t in await _notifications(db, resident.id))
    assert replied == 1  # the thread's author heard about the reply once

    # A reply edited to include the word goes back to waiting for approval, and into the queue.
    edited = await replier.post_form(f"/p/{reply_id}/edit", {"body": "Naps, and maybe a lawsuit."})
    assert edited.status_code == 303
    page = await replier.get(edited.headers["location"], follow_redirects=True)
    assert "waiting for a moderator" in page.text.lower()
    assert "Naps, and maybe a lawsuit." in page.text  # the author still sees it, marked
    assert "maybe a lawsuit" not in (await reader.get(f"/t/{thread_id}")).text
    async with db.transaction() as session:
        assert await session.scalar(select(Post.state).where(Post.id == reply_id)) == "pending"
        item = (await session.scalars(select(ReviewItem).where(ReviewItem.target_kind == "post",
                                                               ReviewItem.target_id == reply_id,
                                                               ReviewItem.resolved_at.is_(None)))).one()
        assert await session.scalar(select(Thread.reply_count).where(Thread.id == thread_id)) == 0
    assert "approval" in item.reasons
    mod = await login(moderator)
    assert "maybe a lawsuit" in (await mod.get("/review?show=approval")).text

    # The opening post too: the whole thread waits again, and leaves the category's list meanwhile.
    edited = await author.post_form(f"/p/{first_id}/edit", {"title": "Night shifts",
                                                            "body": "How do you cope? Thinking of a lawsuit."})
    assert edited.status_code == 303
    page = await author.get(edited.headers["location"], follow_redirects=True)
    assert "waiting for a moderator" in page.text.lower()
    assert (await reader.get(f"/t/{thread_id}")).status_code == 404
    async with db.transaction() as session:
        thread = await session.get(Thread, thread_id)
        assert thread.state == "pending"
        category_count = await session.scalar(select(Category.thread_count).where(Category.id == thread.category_id))
        visible_threads = await session.scalar(select(func.count()).select_from(Thread).where(
            Thread.category_id == thread.category_id, Thread.state == "visible"))
    assert category_count == visible_threads

    # Approval publishes both again, without announcing the reply a second time.
    for post_id in (first_id, reply_id):
        decided = await mod.post_form(f"/review/post/{post_id}/decide", {"action": "approve"})
        assert decided.status_code == 303, decided.text[:1000]
    assert (await reader.get(f"/t/{thread_id}")).status_code == 200
    assert "maybe a lawsuit" in (await reader.get(f"/t/{thread_id}")).text
    assert sum("replied" in t for t in await _notifications(db, resident.id)) == replied


async def test_edits_without_approval_words_and_moderator_edits_stay_published(admin, resident, moderator, login,
                                                                                db):
    adm = await login(admin)
    await _add(adm, "lawsuit", "approve")
    author = await login(resident)
    thread_id, _ = await start_thread(author, "Mentors", "Who taught you kindness?")
    post_id = (await post_ids(db, thread_id))[0]
    assert (await author.post_form(f"/p/{post_id}/edit", {"title": "Mentors",
                                                          "body": "Who taught you compassion?"})).status_code == 303
    mod = await login(moderator)
    response = await mod.post_form(f"/review/post/{post_id}/decide", {
        "action": "edit", "body": "Who taught you compassion? (No lawsuit talk, please.)", "title": "Mentors",
        "reason": "Tidied the wording."})
    assert response.status_code == 303, response.text[:1000]
    async with db.transaction() as session:
        assert await session.scalar(select(Post.state).where(Post.id == post_id)) == "visible"
        assert await session.scalar(select(Post.body_md).where(Post.id == post_id)) == (
            "Who taught you compassion? (No lawsuit talk, please.)")
