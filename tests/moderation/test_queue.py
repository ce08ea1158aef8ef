"""The review queue: priority then age, targets in context, claims, a fixed number of queries."""

from sqlalchemy import select, update

from community.platform.review import items as review
from community.platform.review.models import ReviewItem
from tests.discussions.conftest import count_queries, post_ids, start_thread


async def _posts(login, user, db, n):
    client = await login(user)
    ids = []
    for i in range(n):
        thread_id, _ = await start_thread(client, f"Queue thread {i}", f"Queue body {i}")
        ids.append((await post_ids(db, thread_id))[0])
    return ids


async def test_queue_orders_by_priority_then_age(resident, moderator, login, db):
    ids = await _posts(login, resident, db, 4)
    async with db.transaction() as session:
        for post_id, reason in zip(ids, ("spam", "harassment", "privacy", "concern"), strict=True):
            await review.open_item(session, target_kind="post", target_id=post_id, reason=reason, source="flag")
        await session.execute(update(ReviewItem).where(ReviewItem.target_id == ids[0])
                              .values(created_at=ReviewItem.created_at - __import__("datetime").timedelta(days=2)))
    mod = await login(moderator)
    page = await mod.get("/review")
    assert page.status_code == 200
    positions = [page.text.index(f"Queue body {i}") for i in (3, 2, 1, 0)]
    assert positions == sorted(positions)
    assert "Urgent" in page.text and "Waiting" in page.text
    urgent = await mod.get("/review?show=urgent")
    assert "Queue body 3" in urgent.text and "Queue body 0" not in urgent.text


async def test_claim_and_release(resident, moderator, member_factory, login, db):
    (post_id,) = await _posts(login, resident, db, 1)
    async with db.transaction() as session:
        item = await review.open_item(session, target_kind="post", target_id=post_id, reason="spam", source="flag")
        item_id = item.id
    mod = await login(moderator)
    assert (await mod.post_form(f"/review/items/{item_id}/claim")).status_code == 303
    assert f"claimed by {moderator.display_name}" in (await mod.get("/review")).text
    other = await login(await member_factory("moderator"))
    refused = await other.post_form(f"/review/items/{item_id}/claim", {"release": "yes"})
    assert refused.status_code == 403
    assert (await mod.post_form(f"/review/items/{item_id}/claim", {"release": "yes"})).status_code == 303
    async with db.transaction() as session:
        assert (await session.scalar(select(ReviewItem.claimed_by).where(ReviewItem.id == item_id))) is None
    assert (await mod.post_form("/review/items/99999999/claim")).status_code == 404


async def test_queue_query_count_is_fixed(resident, moderator, member_factory, login, db, engine):
    ids = await _posts(login, resident, db, 12)
    flagger = await member_factory("attending")
    from community.platform.review.models import Flag

    async with db.transaction() as session:
        for post_id in ids[:2]:
            await review.open_item(session, target_kind="post", target_id=post_id, reason="spam", source="flag")
            session.add(Flag(target_kind="post", target_id=post_id, flagger_id=flagger.id, reason="spam"))
    mod = await login(moderator)
    await mod.get("/review")
    with count_queries(engine) as few:
        await mod.get("/review")
    async with db.transaction() as session:
        for post_id in ids[2:]:
            await review.open_item(session, target_kind="post", target_id=post_id, reason="other", source="flag")
            session.add(Flag(target_kind="post", target_id=post_id, flagger_id=flagger.id, reason="other"))
    with count_queries(engine) as many:
        page = await mod.get("/review")
    assert page.text.count("queue-item") >= 12
    assert len(few) == len(many), many
