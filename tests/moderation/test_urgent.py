"""Urgent items reach a person: on-call hours, the alert, escalation on a clock the test controls, claims and
acknowledgements in the audit log, the navigation's count and the poll, and the time-to-a-human figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from community.platform.review import urgent
from community.platform.review.models import AuditEntry, Notification, OnCallHours, ReviewItem, UrgentAlert
from tests.discussions.conftest import post_ids, reply_to, start_thread

CRISIS = "I have been thinking about ending my life"
MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday


# ---- on-call hours ----------------------------------------------------------------------------------------------

def test_a_span_covers_its_hours_in_the_moderators_zone():
    assert urgent.covers((0, 9 * 60, 17 * 60), "UTC", MONDAY_10)
    assert not urgent.covers((0, 9 * 60, 17 * 60), "UTC", MONDAY_10.replace(hour=17))
    assert not urgent.covers((1, 9 * 60, 17 * 60), "UTC", MONDAY_10)
    # 10:00 UTC is 05:00 in Chicago in winter: outside 09:00-17:00 there
    assert not urgent.covers((0, 9 * 60, 17 * 60), "America/Chicago", MONDAY_10)
    assert urgent.covers((0, 4 * 60, 6 * 60), "America/Chicago", MONDAY_10)


def test_a_night_span_runs_into_the_next_morning_and_a_whole_day_is_whole():
    sunday_night = (6, 22 * 60, 7 * 60)  # Sunday 22:00 to Monday 07:00
    assert urgent.covers(sunday_night, "UTC", MONDAY_10.replace(hour=6, minute=59))
    assert not urgent.covers(sunday_night, "UTC", MONDAY_10.replace(hour=7))
    assert urgent.covers(sunday_night, "UTC", MONDAY_10 - timedelta(hours=11))  # Sunday 23:00
    assert not urgent.covers(sunday_night, "UTC", MONDAY_10 - timedelta(hours=13))  # Sunday 21:00
    whole_monday = (0, 0, 1440)
    assert urgent.covers(whole_monday, "UTC", MONDAY_10.replace(hour=0, minute=0))
    assert urgent.covers(whole_monday, "UTC", MONDAY_10.replace(hour=23, minute=59))
    assert not urgent.covers(whole_monday, "UTC", MONDAY_10 + timedelta(days=1))


async def _always_on_call(db, user):
    await _always_on_call_from(db, user, 0)


async def _always_on_call_from(db, user, first_day):
    """On call all day on every weekday from `first_day` on (replacing what those days had)."""
    async with db.transaction() as session:
        await session.execute(delete(OnCallHours).where(OnCallHours.user_id == user.id,
                                                        OnCallHours.weekday >= first_day))
        for day in range(first_day, 7):
            session.add(OnCallHours(user_id=user.id, weekday=day, start_minute=0, end_minute=1440))


async def _crisis_reply(login, resident, db) -> int:
    writer = await login(resident)
    thread_id, _ = await start_thread(writer, "A long week", "Checking in with everyone.")
    await reply_to(writer, thread_id, CRISIS)
    return (await post_ids(db, thread_id))[-1]


async def _notes(db, user_id, kind="urgent"):
    async with db.transaction() as session:
        return list(await session.scalars(select(Notification.text).where(
            Notification.user_id == user_id, Notification.kind == kind)))


async def _alert(db, post_id) -> tuple[ReviewItem, UrgentAlert]:
    async with db.transaction() as session:
        item = (await session.scalars(select(ReviewItem).where(
            ReviewItem.target_kind == "post", ReviewItem.target_id == post_id))).one()
        alert = (await session.scalars(select(UrgentAlert).where(UrgentAlert.item_id == item.id))).one()
        return item, alert


async def test_a_crisis_reply_tells_whoever_is_on_call_and_only_them(resident, moderator, member_factory, login,
                                                                     db):
    off_duty = await member_factory("moderator")
    await _always_on_call(db, moderator)
    post_id = await _crisis_reply(login, resident, db)
    item, alert = await _alert(db, post_id)
    assert item.urgent and alert.notified == [moderator.id] and alert.escalated_at is None
    (text,) = await _notes(db, moderator.id)
    assert "crisis language" in text and "You are on call" in text and CRISIS not in text
    assert await _notes(db, off_duty.id) == []
    assert await _notes(db, resident.id) == []
    mod = await login(moderator)
    queue = (await mod.get("/review")).text
    assert f"Told on call: {moderator.display_name}." in queue
    assert "every moderator and admin is told at " in queue
    page = await mod.get("/notifications")
    assert "Urgent: crisis language" in page.text, page.text[page.text.find("<main"):][:3000]
    note_id = int(page.text.split('href="/notifications/')[1].split('"')[0])
    assert (await mod.get(f"/notifications/{note_id}")).headers["location"] == f"/review/post/{post_id}"


async def test_with_nobody_on_call_everyone_is_told_at_once(resident, moderator, admin, login, db):
    post_id = await _crisis_reply(login, resident, db)
    _, alert = await _alert(db, post_id)
    assert {moderator.id, admin.id} <= set(alert.notified) and alert.escalated_at is not None
    for staff in (moderator, admin):
        (text,) = await _notes(db, staff.id)
        assert "Nobody is on call" in text


async def test_a_concern_flag_is_urgent_too_and_alerts_once(resident, attending, moderator, member_factory, login,
                                                             db):
    await _always_on_call(db, moderator)
    writer = await login(resident)
    thread_id, _ = await start_thread(writer, "Tired", "A long night on the ward.")
    post_id = (await post_ids(db, thread_id))[0]
    for flagger in (attending, await member_factory("resident")):
        response = await (await login(flagger)).post_form(f"/flag/post/{post_id}", {"reason": "concern"})
        assert response.status_code == 303
    assert len(await _notes(db, moderator.id)) == 1  # the second flag adds to the same item
    (text,) = await _notes(db, moderator.id)
    assert "worried about the writer" in text


# ---- escalation, on a clock the test controls ------------------------------------------------------------------

async def _raised_at(db, login, resident, moderator, at: datetime) -> ReviewItem:
    await _always_on_call(db, moderator)
    post_id = await _crisis_reply(login, resident, db)
    item, _ = await _alert(db, post_id)
    async with db.transaction() as session:
        await session.execute(update(UrgentAlert).where(UrgentAlert.item_id == item.id).values(raised_at=at))
    return item


async def test_an_unclaimed_item_escalates_to_every_moderator_and_admin_once(resident, moderator, admin,
                                                                              member_factory, login, db):
    other = await member_factory("moderator")
    item = await _raised_at(db, login, resident, moderator, MONDAY_10)
    async with db.transaction() as session:
        assert await urgent.escalate_due(session, minutes=15, now=MONDAY_10 + timedelta(minutes=14, seconds=59)) == []
        assert await urgent.escalate_due(session, minutes=15, now=MONDAY_10 + timedelta(minutes=15)) == [item.id]
        assert await urgent.escalate_due(session, minutes=15, now=MONDAY_10 + timedelta(minutes=30)) == []
    for staff in (moderator, admin, other):
        escalations = [t for t in await _notes(db, staff.id) if t.startswith("Escalated")]
        assert len(escalations) == 1 and "waited 15 min" in escalations[0]
    _, alert = await _alert(db, item.target_id)
    assert alert.escalated_at == MONDAY_10 + timedelta(minutes=15)


async def test_a_claimed_or_decided_item_does_not_escalate(resident, moderator, login, db):
    item = await _raised_at(db, login, resident, moderator, MONDAY_10)
    mod = await login(moderator)
    assert (await mod.post_form(f"/review/items/{item.id}/claim")).status_code == 303
    async with db.transaction() as session:
        assert await urgent.escalate_due(session, minutes=15, now=MONDAY_10 + timedelta(hours=2)) == []
    response = await mod.post_form(f"/review/items/{item.id}/claim", {"release": "yes"})
    assert response.status_code == 303
    decided = await mod.post_form(f"/review/post/{item.target_id}/decide", {"action": "keep"})
    assert decided.status_code == 303
    async with db.transaction() as session:
        assert await urgent.escalate_due(session, minutes=15, now=MONDAY_10 + timedelta(hours=3)) == []


async def test_an_acknowledgement_is_recorded_but_does_not_stop_escalation(resident, moderator, login, db):
    item = await _raised_at(db, login, resident, moderator, MONDAY_10)
    mod = await login(moderator)
    assert (await mod.post_form(f"/review/items/{item.id}/acknowledge")).status_code == 303
    _, alert = await _alert(db, item.target_id)
    assert (alert.first_action, alert.first_action_by) == ("acknowledge", moderator.id)
    assert (await mod.post_form(f"/review/items/{item.id}/claim")).status_code == 303
    _, alert = await _alert(db, item.target_id)
    assert alert.first_action == "acknowledge"  # the first action stays the first
    async with db.transaction() as session:
        actions = list(await session.scalars(select(AuditEntry.action).where(
            AuditEntry.actor_id == moderator.id).order_by(AuditEntry.id)))
    assert actions == ["moderation.acknowledge", "moderation.claim"]


async def test_a_claim_is_not_taken_from_another_moderator(resident, moderator, member_factory, login, db):
    item = await _raised_at(db, login, resident, moderator, MONDAY_10)
    assert (await (await login(moderator)).post_form(f"/review/items/{item.id}/claim")).status_code == 303
    other = await login(await member_factory("moderator"))
    refused = await other.post_form(f"/review/items/{item.id}/claim")
    assert refused.status_code == 400 and "already claimed" in refused.text


# ---- time to a person ------------------------------------------------------------------------------------------

async def test_time_to_a_human_median_and_p90_over_thirty_days(resident, moderator, login, db):
    await _always_on_call(db, moderator)
    writer = await login(resident)
    thread_id, _ = await start_thread(writer, "Figures", "Opening.")
    now = datetime.now(UTC)
    waits = [30, 60, 90, 120, 600, None]  # seconds to the first action; None: nobody has acted yet
    async with db.transaction() as session:
        for i, wait in enumerate([*waits, 45]):
            item = ReviewItem(target_kind="post", target_id=10_000_000 + i + thread_id, priority=0,
                              reasons=["crisis"], source="crisis", urgent=True)
            session.add(item)
            await session.flush()
            raised = now - timedelta(days=40 if i == len(waits) else 1, minutes=i)  # the last one is too old
            session.add(UrgentAlert(item_id=item.id, raised_at=raised,
                                    first_action_at=None if wait is None else raised + timedelta(seconds=wait)))
        figures = await urgent.time_to_human(session, now=now)
    assert (figures.raised, figures.acted, figures.waiting) == (6, 5, 1)
    assert figures.median_seconds == 90
    assert figures.p90_seconds == pytest.approx(408)  # percentile_cont over 30, 60, 90, 120, 600
    page = await (await login(moderator)).get("/review")
    assert 'data-tth="median">1 min 30 s<' in page.text and 'data-tth="p90">6 min 48 s<' in page.text
    assert "1 not yet acted on" in page.text


# ---- the navigation's count and the poll ------------------------------------------------------------------------

async def test_moderators_see_the_urgent_count_on_every_page_and_members_never(app, resident, moderator, login,
                                                                             db):
    await _crisis_reply(login, resident, db)
    mod = await login(moderator)
    async with db.transaction() as session:
        await app.state.pulse.read(session)
    for path in ("/", "/c", "/reflections", "/account"):
        page = await mod.get(path)
        assert 'data-urgent-count aria-label="1 urgent">1<' in page.text, path
        assert "js/staff.js" in page.text
    member_page = await (await login(resident)).get("/")
    assert "data-urgent-count" not in member_page.text and "js/staff.js" not in member_page.text


async def test_the_poll_answers_with_an_etag_and_304_until_the_queue_changes(resident, moderator, login, db):
    post_id = await _crisis_reply(login, resident, db)
    mod = await login(moderator)
    first = await mod.get("/review/pulse")
    assert first.status_code == 200 and first.json()["urgent"] == 1
    assert first.json()["unread"] == 1  # nobody is on call, so the alert reached this moderator too
    etag = first.headers["etag"]
    assert (await mod.get("/review/pulse", headers={"If-None-Match": etag})).status_code == 304
    item, _ = await _alert(db, post_id)
    await mod.post_form(f"/review/items/{item.id}/claim")
    changed = await mod.get("/review/pulse", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert (await (await login(resident)).get("/review/pulse")).status_code == 403


# ---- the on-call settings page ----------------------------------------------------------------------------------

async def test_a_moderator_sets_on_call_hours_and_bad_times_keep_the_draft(moderator, resident, login, db):
    mod = await login(moderator)
    page = await mod.get("/account/on-call")
    assert page.status_code == 200 and "Monday" in page.text and "Nobody is on call right now" in page.text
    bad = await mod.post_form("/account/on-call", {"start-0": "25:00", "end-0": "17:00", "start-1": "09:00"})
    assert bad.status_code == 400
    assert "Monday: give the start as HH:MM" in bad.text and "Tuesday: give the end" in bad.text
    assert 'value="25:00"' in bad.text and 'value="17:00"' in bad.text
    saved = await mod.post_form("/account/on-call", {"start-0": "09:00", "end-0": "17:00",
                                                     "start-6": "22:00", "end-6": "07:00"})
    assert saved.status_code == 303
    async with db.transaction() as session:
        rows = {(r.weekday, r.start_minute, r.end_minute) for r in await session.scalars(
            select(OnCallHours).where(OnCallHours.user_id == moderator.id))}
        assert rows == {(0, 540, 1020), (6, 1320, 420)}
        assert await urgent.on_call_now(session, MONDAY_10) == [moderator.id]
        assert await urgent.on_call_now(session, MONDAY_10.replace(hour=6)) == [moderator.id]
        assert await urgent.on_call_now(session, MONDAY_10.replace(hour=8)) == []
    again = await mod.get("/account/on-call")
    assert 'value="09:00"' in again.text and 'value="22:00"' in again.text
    await _always_on_call(db, moderator)
    assert f"On call right now: {moderator.display_name}." in (await mod.get("/account/on-call")).text
    assert (await (await login(resident)).get("/account/on-call")).status_code == 403


async def test_an_anonymous_items_alert_shows_no_minute(member_factory, moderator, login, db):
    await _always_on_call(db, moderator)
    writer = await login(await member_factory())
    response = await writer.post_form("/reflections/new", {"title": "Late", "body": CRISIS, "visibility": "anonymous",
                                                           "prompt_id": "", "theme": "", "intent": "publish"})
    assert response.status_code == 303
    mod = await login(moderator)
    queue = (await mod.get("/review")).text
    assert f"Told on call: {moderator.display_name}." in queue and "since today" in queue
    assert "is told at " not in queue and "is told after 15 minutes" in queue
