"""Flags: once per member and target, weight threshold hides, moderators hide at once, concern never hides."""

import pytest
from sqlalchemy import select

from community.discussions.models import Post
from community.platform.review.models import AuditEntry, Flag, Notification, ReviewItem
from tests.discussions.conftest import post_ids, start_thread


async def _post(login, author, db, title="Flag me", body="Something someone may flag"):
    client = await login(author)
    thread_id, _ = await start_thread(client, title, body)
    return thread_id, (await post_ids(db, thread_id))[0], client


async def _state(db, post_id):
    async with db.transaction() as session:
        return await session.scalar(select(Post.state).where(Post.id == post_id))


async def test_flag_form_and_threshold_hides(resident, member_factory, login, db):
    thread_id, post_id, author = await _post(login, resident, db)
    flaggers = [await login(await member_factory("attending")) for _ in range(3)]
    form = await flaggers[0].get(f"/flag/post/{post_id}")
    assert form.status_code == 200 and "I&#39;m worried about this person" in form.text
    for n, client in enumerate(flaggers):
        response = await client.post_form(f"/flag/post/{post_id}", {"reason": "harassment"})
        assert response.status_code == 303
        assert await _state(db, post_id) == ("hidden" if n == 2 else "visible")
    # The flag that hid the opening post hid its thread too: the flagger lands on the categories, thanked.
    assert response.headers["location"] == "/c"
    landed = await flaggers[2].get(response.headers["location"])
    assert landed.status_code == 200 and "It is hidden pending review" in landed.text
    # Hidden: gone for others, still there (marked) for its author.
    other = await login(await member_factory("resident"))
    assert (await other.get(f"/t/{thread_id}")).status_code == 404
    own = await author.get(f"/t/{thread_id}")
    assert own.status_code == 200 and "Hidden from others" in own.text
    async with db.transaction() as session:
        entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "moderation.auto_hide"))).one()
        assert entry.target_type == "post" and entry.target_id == str(post_id)
        note = list(await session.scalars(select(Notification.text).where(Notification.user_id == resident.id)))
    assert any("hidden while a moderator reviews it" in t for t in note)


async def test_the_flagger_whose_flag_hides_a_reply_lands_on_its_thread(resident, member_factory, login, db):
    thread_id, _, author = await _post(login, resident, db, title="A thread with a reply to flag")
    replier = await login(await member_factory("resident"))
    await replier.post_form(f"/t/{thread_id}/reply", {"body": "A reply someone may flag."})
    reply_id = (await post_ids(db, thread_id))[1]
    flaggers = [await login(await member_factory("attending")) for _ in range(3)]
    for client in flaggers:
        response = await client.post_form(f"/flag/post/{reply_id}", {"reason": "harassment"})
    assert await _state(db, reply_id) == "hidden"
    assert response.status_code == 303 and response.headers["location"] == f"/t/{thread_id}"
    landed = await flaggers[2].get(response.headers["location"])
    assert landed.status_code == 200 and "It is hidden pending review" in landed.text
    assert "A reply someone may flag." not in landed.text
    # A flag that does not hide the piece still goes back to it.
    other = await login(await member_factory("resident"))
    kept = await other.post_form(f"/flag/post/{(await post_ids(db, thread_id))[0]}", {"reason": "off_topic"})
    assert kept.status_code == 303 and kept.headers["location"].startswith("/p/")


async def test_flag_once_per_member(resident, attending, login, db):
    _, post_id, _ = await _post(login, resident, db)
    client = await login(attending)
    assert (await client.post_form(f"/flag/post/{post_id}", {"reason": "spam"})).status_code == 303
    again = await client.post_form(f"/flag/post/{post_id}", {"reason": "off_topic", "note": "draft note"})
    assert again.status_code == 400 and "already flagged" in again.text and "draft note" in again.text


async def test_moderator_flag_hides_at_once(resident, moderator, login, db):
    _, post_id, _ = await _post(login, resident, db)
    mod = await login(moderator)
    assert (await mod.post_form(f"/flag/post/{post_id}", {"reason": "privacy"})).status_code == 303
    assert await _state(db, post_id) == "hidden"


async def test_concern_is_urgent_and_never_hides(resident, member_factory, login, db):
    _, post_id, _ = await _post(login, resident, db, body="Everything feels heavy lately.")
    for _ in range(4):
        client = await login(await member_factory("resident"))
        response = await client.post_form(f"/flag/post/{post_id}", {"reason": "concern"})
        assert response.status_code == 303
    assert await _state(db, post_id) == "visible"
    async with db.transaction() as session:
        item = (await session.scalars(select(ReviewItem).where(ReviewItem.target_id == post_id))).one()
    assert item.urgent and item.priority == 0


@pytest.mark.parametrize(("data", "message"), [
    ({}, "Please choose what is wrong."),
    ({"reason": "nonsense"}, "Please choose what is wrong."),
    ({"reason": "other"}, "Please tell the moderators what is wrong."),
    ({"reason": "other", "note": "n" * 1001}, "Use at most 1,000 characters"),
])
async def test_flag_bad_input(resident, attending, login, db, data, message):
    _, post_id, _ = await _post(login, resident, db)
    client = await login(attending)
    response = await client.post_form(f"/flag/post/{post_id}", data)
    assert response.status_code == 400 and message in response.text
    async with db.transaction() as session:
        assert not (await session.scalars(select(Flag.id))).all()


async def test_flag_bad_bytes_and_targets(resident, attending, login, db):
    _, post_id, author = await _post(login, resident, db)
    client = await login(attending)
    token = await client.ensure_csrf()
    response = await client.post(f"/flag/post/{post_id}", content=f"csrf_token={token}&reason=other&note=%FF%00"
                                  .encode(), headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    assert (await client.get("/flag/nosuchkind/1")).status_code == 404
    assert (await client.get("/flag/post/999999999")).status_code == 404
    assert (await client.get("/flag/post/99999999999999999999999")).status_code == 404
    own = await author.post_form(f"/flag/post/{post_id}", {"reason": "spam"})
    assert own.status_code == 400 and "your own" in own.text


async def test_silenced_member_cannot_flag_or_post(resident, attending, login, db):
    from datetime import UTC, datetime, timedelta

    from community.platform.accounts.actions import set_silenced

    _, post_id, _ = await _post(login, resident, db)
    async with db.transaction() as session:
        await set_silenced(session, attending.id, datetime.now(UTC) + timedelta(hours=1))
    client = await login(attending)
    assert (await client.post_form(f"/flag/post/{post_id}", {"reason": "spam"})).status_code == 403
    refused = await client.post_form("/c/introductions/new", {"title": "Hi", "body": "still here"})
    assert refused.status_code == 403 and "still here" in refused.text
    assert (await client.get(f"/p/{post_id}")).status_code == 303  # reading is fine
