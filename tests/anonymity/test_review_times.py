"""Issue 14, finding 6 for review items: an item opened by screening as an anonymous piece is written would keep
the piece's exact time (and an urgent alert's) after the piece itself keeps only the day. Once it is closed, its
times keep the day, and the alert's durations survive for the time-to-human figures."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, text

from community.platform.review.models import ReviewItem, UrgentAlert

CRISIS = "I have been thinking about ending my life"


async def test_a_closed_item_about_anonymous_writing_keeps_only_the_day(member_factory, login, db):
    writer = await login(await member_factory())
    response = await writer.post_form("/reflections/new", {"title": "Late", "body": CRISIS, "visibility": "anonymous",
                                                           "prompt_id": "", "theme": "", "intent": "publish"})
    assert response.status_code == 303
    rid = int(response.headers["location"].rsplit("/", 1)[1].split("?")[0])
    seven_ago = datetime.now(UTC) - timedelta(minutes=7)
    async with db.transaction() as session:
        item = (await session.scalars(select(ReviewItem).where(ReviewItem.target_id == rid))).one()
        # As if the piece (and so its item and alert) had been written seven minutes ago, at an exact moment.
        await session.execute(text("UPDATE review_items SET created_at = :at WHERE id = :id"),
                              {"at": seven_ago, "id": item.id})
        await session.execute(text("UPDATE urgent_alerts SET raised_at = :at WHERE item_id = :id"),
                              {"at": seven_ago, "id": item.id})
    mod = await login(await member_factory("moderator"))
    decided = await mod.post_form(f"/review/reflection/{rid}/decide",
                                  {"action": "check_in", "reason": "We are here tonight, and we read you."})
    assert decided.status_code == 303, decided.text[:500]
    async with db.transaction() as session:
        item = await session.get(ReviewItem, item.id)
        alert = (await session.scalars(select(UrgentAlert).where(UrgentAlert.item_id == item.id))).one()
    for moment in (item.created_at, item.resolved_at, alert.raised_at):
        assert moment.astimezone(UTC).time() == time(0, 0), moment
    assert timedelta(minutes=6) < alert.first_action_at - alert.raised_at < timedelta(minutes=9)
