"""Drafts of every composer (platform.drafts): saved through the JSON autosave, kept when a submit fails, gone
in the transaction that publishes, listed and deletable in "My drafts", private to their writer, and purged by
housekeeping after 30 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from community.app import PILLARS
from community.platform import housekeeping, rate_limits
from community.platform.drafts import store
from community.platform.drafts.models import Draft
from community.reflections.models import ReflectionDraft
from community.rooms.models import Room
from tests.conftest import PASSWORD
from tests.discussions.conftest import CATEGORY, post_ids, start_thread
from tests.reflections.conftest import write


@pytest.fixture(autouse=True)
def fresh_edit_counts(monkeypatch):
    """The draft-save limit counts in process memory: each test starts with its own counts."""
    monkeypatch.setattr(rate_limits, "EDITS", rate_limits.RecentEdits())


async def _save(client, slot, body, title=""):
    return await client.post("/drafts/save", json={"slot": slot, "body": body, "title": title},
                             headers={"X-CSRF-Token": client.cookies.get("csrf")})


async def _load(client, slot):
    response = await client.get("/drafts/one", params={"slot": slot})
    assert response.status_code == 200, response.text
    return response.json()["draft"]


async def _count(db, text) -> int:
    async with db.transaction() as session:
        return await session.scalar(select(func.count()).select_from(Draft).where(Draft.body.contains(text)))


async def _room_id(db) -> int:
    async with db.transaction() as session:
        return await session.scalar(select(func.min(Room.id)).where(Room.state != "ended"))


async def test_every_composer_slot_saves_and_restores(member_factory, login, db):
    me = await login(await member_factory())
    thread_id, _ = await start_thread(me)
    post_id = await db_first_post(db, thread_id)
    shared = await write(me, body="Shared, to be replied to.", visibility="named")
    slots = [f"thread:new:{CATEGORY}", f"reply:{thread_id}", f"edit:{post_id}", f"reflection_reply:{shared}",
             f"room:{await _room_id(db)}"]
    for slot in slots:
        response = await _save(me, slot, f"Half a thought for {slot}.", title="A title" if "new" in slot else "")
        assert response.status_code == 200 and response.json()["saved"] is True, response.text
    for slot in slots:
        assert (await _load(me, slot))["body"] == f"Half a thought for {slot}."
    page = await me.get("/drafts")
    assert page.status_code == 200
    for label in ("A new thread in", "A reply in", "An edit of your post", "A reply to a reflection",
                  "A message in"):
        assert label in page.text, label


async def db_first_post(db, thread_id: int) -> int:
    return (await post_ids(db, thread_id))[0]


async def test_a_slot_must_name_a_target_the_member_may_write_to(member_factory, login, db):
    me = await login(await member_factory())
    other = await login(await member_factory())
    thread_id, _ = await start_thread(other)
    others_post = await db_first_post(db, thread_id)
    private = await write(other, body="Only mine.", visibility="private")
    for slot in ("reply:999999999", f"edit:{others_post}", f"reflection_reply:{private}", "thread:new:nope",
                 "nonsense", "reply:١٢", "reply:1:2", "", "x" * 500):
        response = await _save(me, slot, "Should not be kept.")
        assert response.status_code == 400 and response.json()["saved"] is False, slot
    assert await _count(db, "Should not be kept.") == 0


async def test_bad_payloads_are_clear_4xx(member_factory, login):
    me = await login(await member_factory())
    token = {"X-CSRF-Token": me.cookies.get("csrf")}
    assert (await me.post("/drafts/save", content=b"\xff\xfe", headers={**token, "content-type": "application/json"})
            ).status_code == 400
    assert (await me.post("/drafts/save", json=["a list"], headers=token)).status_code == 400
    assert (await me.post("/drafts/save", json={"slot": 5, "body": []}, headers=token)).status_code == 400
    too_long = await _save(me, f"thread:new:{CATEGORY}", "b" * 20_001)
    assert too_long.status_code == 400 and "20,000" in too_long.json()["errors"]["body"]
    assert (await me.get("/drafts/one", params={"slot": "nonsense"})).status_code == 400


async def test_drafts_are_private_to_their_writer(member_factory, login, db):
    me = await login(await member_factory())
    other = await login(await member_factory())
    thread_id, _ = await start_thread(me)
    await _save(me, f"reply:{thread_id}", "My unsent words.")
    assert await _load(other, f"reply:{thread_id}") is None
    assert "My unsent words." not in (await other.get("/drafts")).text
    async with db.transaction() as session:
        row = (await session.scalars(select(Draft).where(Draft.body == "My unsent words."))).one()
    # Nothing in the row names the writer or the thread.
    assert str(thread_id) not in row.slot_sealed and "reply" not in row.slot_sealed


async def test_a_failed_submit_keeps_the_draft_and_publishing_deletes_it(member_factory, login, db):
    me = await login(await member_factory())
    thread_id, _ = await start_thread(me)
    failed = await me.post_form(f"/t/{thread_id}/reply", {"body": "x" * 20_001})
    assert failed.status_code == 400
    assert (await _load(me, f"reply:{thread_id}")) is None  # too long to keep: the page still shows it
    refused = await me.post_form(f"/t/{thread_id}/reply", {"body": "<p></p>", "reply_to": "١"})
    assert refused.status_code == 400
    assert (await _load(me, f"reply:{thread_id}"))["body"] == "<p></p>"
    await _save(me, f"reply:{thread_id}", "The reply I will send.")
    sent = await me.post_form(f"/t/{thread_id}/reply", {"body": "The reply I will send."})
    assert sent.status_code == 303
    assert await _load(me, f"reply:{thread_id}") is None and await _count(db, "The reply I will send.") == 0


async def test_publishing_a_thread_an_edit_and_a_reflection_reply_deletes_their_drafts(member_factory, login, db):
    me = await login(await member_factory())
    await _save(me, f"thread:new:{CATEGORY}", "Opening words.", title="Draft title")
    bad = await me.post_form(f"/c/{CATEGORY}/new", {"title": "", "body": "Opening words, longer now."})
    assert bad.status_code == 400
    kept = await _load(me, f"thread:new:{CATEGORY}")
    assert kept["body"] == "Opening words, longer now."
    thread_id, _ = await start_thread(me, title="Draft title", body="Opening words, longer now.")
    assert await _load(me, f"thread:new:{CATEGORY}") is None
    post_id = await db_first_post(db, thread_id)
    await _save(me, f"edit:{post_id}", "Edited words.")
    edited = await me.post_form(f"/p/{post_id}/edit", {"title": "Draft title", "body": "Edited words."})
    assert edited.status_code == 303 and await _load(me, f"edit:{post_id}") is None
    shared = await write(me, body="Shared for replies.", visibility="named")
    await _save(me, f"reflection_reply:{shared}", "A reply in waiting.")
    replied = await me.post_form(f"/reflections/{shared}/replies", {"body": "A reply in waiting."})
    assert replied.status_code == 303 and await _load(me, f"reflection_reply:{shared}") is None


async def test_an_empty_box_deletes_the_draft(member_factory, login, db):
    me = await login(await member_factory())
    slot = f"room:{await _room_id(db)}"
    await _save(me, slot, "Typed in the room.")
    assert (await _save(me, slot, "")).status_code == 200
    assert await _load(me, slot) is None


async def test_my_drafts_deletes_each_kind(member_factory, login, db):
    me = await login(await member_factory())
    thread_id, _ = await start_thread(me)
    await _save(me, f"reply:{thread_id}", "A reply to delete.")
    journal = await me.post("/reflections/drafts", json={"slot": "new", "body": "A journal draft to delete."},
                            headers={"X-CSRF-Token": me.cookies.get("csrf")})
    assert journal.status_code == 200
    page = (await me.get("/drafts")).text
    assert "A reply to delete." in page and "A journal draft to delete." in page
    gone = await me.post_form("/drafts/delete", {"source": "drafts", "slot": f"reply:{thread_id}"})
    assert gone.status_code == 303
    gone = await me.post_form("/drafts/delete", {"source": "reflections", "slot": "new"})
    assert gone.status_code == 303
    page = (await me.get("/drafts")).text
    assert "A reply to delete." not in page and "A journal draft to delete." not in page
    bad = await me.post_form("/drafts/delete", {"source": "elsewhere", "slot": "new"})
    assert bad.status_code == 303  # back to the list, with the reason in the flash


async def test_the_number_of_drafts_is_bounded(member_factory, login, db, monkeypatch):
    me = await login(await member_factory())
    monkeypatch.setattr(store, "DRAFTS_MAX", 2)
    first, _ = await start_thread(me, title="One")
    second, _ = await start_thread(me, title="Two")
    third, _ = await start_thread(me, title="Three")
    assert (await _save(me, f"reply:{first}", "One.")).status_code == 200
    assert (await _save(me, f"reply:{second}", "Two.")).status_code == 200
    refused = await _save(me, f"reply:{third}", "Three.")
    assert refused.status_code == 400 and "2 saved drafts" in refused.json()["error"]
    assert (await _save(me, f"reply:{first}", "Replacing one is fine.")).status_code == 200


async def test_housekeeping_purges_drafts_older_than_30_days(member_factory, login, db):
    me = await login(await member_factory())
    thread_id, _ = await start_thread(me)
    other_thread, _ = await start_thread(me, title="Another")
    await _save(me, f"reply:{thread_id}", "An old draft.")
    await _save(me, f"reply:{other_thread}", "A fresh draft.")
    await me.post("/reflections/drafts", json={"slot": "new", "body": "An old journal draft."},
                  headers={"X-CSRF-Token": me.cookies.get("csrf")})
    old = datetime.now(UTC) - timedelta(days=31)
    async with db.transaction() as session:
        await session.execute(update(Draft).where(Draft.body == "An old draft.").values(updated_at=old))
        await session.execute(update(ReflectionDraft).where(ReflectionDraft.body == "An old journal draft.")
                              .values(updated_at=old))
        counts = await housekeeping.run(session, [job for p in PILLARS for job in p.housekeeping])
    assert counts["drafts older than 30 days"] >= 1 and counts["reflection drafts older than 30 days"] >= 1
    assert await _count(db, "An old draft.") == 0 and await _count(db, "A fresh draft.") == 1


async def test_account_deletion_and_export_reach_the_drafts(member_factory, login, db):
    me = await login(await member_factory())
    thread_id, _ = await start_thread(me)
    await _save(me, f"reply:{thread_id}", "Exported draft words.")
    exported = (await me.get("/account/data/export.json")).json()["composer_drafts"]
    assert [d["text"] for d in exported] == ["Exported draft words."]
    response = await me.post_form("/account/data/delete", {"password": PASSWORD, "choice": "anonymize"})
    assert response.status_code in (200, 303), response.text[:500]
    assert await _count(db, "Exported draft words.") == 0
