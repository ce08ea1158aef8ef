"""Anonymity that holds up: each property of the spec has its own test."""

from __future__ import annotations

import logging
import re
from datetime import UTC, time

import pytest
from sqlalchemy import delete, select, text

from community.platform.accounts import restrictions
from community.platform.accounts.models import AnonRestriction, User
from community.platform.anonymity import Anonymity, author_tag
from community.platform.review.models import AuditEntry, Notification, Sanction
from community.reflections.models import Reflection, ReflectionReply, UnmaskRequest
from community.reflections.moderation import ReflectionAdapter
from tests.reflections.conftest import write

TITLE = "Stairwell after the code"
BODY = "I cried in the stairwell after the code; nobody saw, and I went back in."
PEOPLE_COLUMNS = {"user_id", "author_id", "actor_id", "created_by", "requested_by", "decided_by", "flagger_id",
                  "claimed_by", "resolved_by", "used_by"}


@pytest.fixture
async def scene(member_factory, login, db):
    """An anonymous piece with a full life: replies, reactions, a draft, a flag, moderation, an unmask request."""
    author = await member_factory(name="Zephyrine Quillfeather", email="zq.author@example.org")
    reader = await member_factory(name="Reader Person")
    mod = await member_factory("moderator", name="Mod Person")
    admin, admin2 = await member_factory("admin", name="Admin One"), await member_factory("admin", name="Admin Two")
    admin3 = await member_factory("admin", name="Admin Three")
    me, them = await login(author), await login(reader)
    rid = await write(me, title=TITLE, body=BODY, visibility="anonymous", theme="hidden-curriculum")
    private = await write(me, title="Only mine", body="Nobody else reads this.")
    await me.post_form(f"/reflections/{rid}/replies", {"body": "Thank you for reading."})
    await me.post_form(f"/reflections/{rid}/react", {"kind": "thanks"})
    await me.post("/reflections/drafts", json={"slot": f"edit:{rid}", "body": BODY + " More."},
                  headers={"X-CSRF-Token": me.cookies.get("csrf")})
    await them.post_form(f"/reflections/{rid}/replies", {"body": "You are not alone.", "anonymous": "yes"})
    await them.post_form(f"/reflections/{rid}/react", {"kind": "metoo"})
    flag = await them.post_form(f"/flag/reflection/{rid}", {"reason": "concern", "note": "Worried."})
    assert flag.status_code == 303, flag.text[:500]
    moderator = await login(mod)
    assert (await moderator.post_form(f"/reflections/moderate/reflection/{rid}/check-in",
                                      {"message": "Thinking of you. We are here."})).status_code == 303
    assert (await moderator.post_form(f"/reflections/moderate/reflection/{rid}/sanction",
                                      {"sanction": "silence", "days": "2", "reason": "Cooling off."})).status_code == 303
    first_admin = await login(admin)
    request = await first_admin.post_form(f"/reflections/unmask/reflection/{rid}",
                                          {"reason": "A credible threat to a patient was reported to us."})
    assert request.status_code == 303
    async with db.transaction() as session:
        reply_ids = list(await session.scalars(select(ReflectionReply.id).where(ReflectionReply.reflection_id == rid)))
    return {"author": author, "reader": reader, "mod": mod, "admin": admin, "admin2": admin2, "admin3": admin3,
            "rid": rid,
            "private": private, "reply_ids": reply_ids, "me": me}


async def lift_silence(db, user_id: int) -> None:
    async with db.transaction() as session:
        (await session.get(User, user_id)).silenced_until = None
        await session.execute(delete(AnonRestriction))


def author_marks(author) -> list[str]:
    return [author.display_name, author.email, author.handle, f"@{author.handle}", f"/admin/members/{author.id}",
            f"/u/{author.handle}", f"/members/{author.id}"]


# ---- 1. nothing anyone but the author can see links the piece to the author -------------------------------

async def test_1_no_page_links_the_piece_to_its_author(scene, login, caplog):
    caplog.set_level(logging.DEBUG)
    author, rid = scene["author"], scene["rid"]
    piece_pages = [f"/reflections/{rid}", "/reflections", "/reflections?q=stairwell",
                   "/reflections?theme=hidden-curriculum", "/journal", "/journal?q=stairwell", "/notifications",
                   "/prompts", "/account/data/export.json", f"/flag/reflection/{rid}",
                   *[f"/reflections/replies/{r}/edit" for r in scene["reply_ids"]]]
    staff_pages = ["/review", f"/review/reflection/{rid}", *[f"/review/reflection_reply/{r}" for r in scene["reply_ids"]]]
    admin_pages = ["/admin/audit", "/admin/audit?target=reflection", "/admin/unmask", "/admin/members"]
    viewers = [("reader", scene["reader"], piece_pages), ("mod", scene["mod"], piece_pages + staff_pages),
               ("admin", scene["admin"], piece_pages + staff_pages + admin_pages),
               ("admin2", scene["admin2"], piece_pages + staff_pages + admin_pages)]
    for label, who, pages in viewers:
        client = await login(who)
        for path in pages:
            response = await client.get(path)
            assert response.status_code in (200, 404), (label, path, response.status_code)
            body = response.text
            if path == "/admin/members":
                # The member list names every member, the author included; it must not point to the piece.
                assert TITLE not in body and f"/reflections/{rid}" not in body
                continue
            for mark in author_marks(author):
                assert mark not in body, (label, path, mark)
        # Private writing of another member: not even its existence.
        assert (await client.get(f"/reflections/{scene['private']}")).status_code == 404
        assert (await client.get(f"/reflections/{scene['private']}/edit")).status_code == 404
        # The author's own pages, as staff see them, never point at the anonymous piece.
        if who.role == "admin":
            member_page = (await client.get(f"/admin/members/{author.id}")).text
            assert TITLE not in member_page and f"/reflections/{rid}" not in member_page and BODY[:30] not in member_page
    # The app's own log lines (the test client's request log is the test's doing, not the app's).
    app_log = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("community"))
    assert "/reflections/" in app_log or "reflection" in app_log
    for mark in author_marks(author):
        assert mark not in app_log


async def test_1_adapter_views_carry_no_author(scene, db, settings):
    adapter = ReflectionAdapter(Anonymity(settings.anon_key))
    async with db.transaction() as session:
        view = (await adapter.load(session, [scene["rid"]]))[scene["rid"]]
    assert view.author_id is None and view.author_label == "Anonymous" and view.anonymous


# ---- 2. a copy of the database does not reveal the author -------------------------------------------------

async def test_2_database_dump_does_not_link_piece_and_author(scene, db, login, anon_key):
    author, rid = scene["author"], scene["rid"]
    async with db.transaction() as session:
        assert (await session.get(User, author.id)).silenced_until is None  # not on the member's row
        silenced = await session.scalar(select(AnonRestriction.until).where(AnonRestriction.kind == "silence"))
    await lift_silence(db, author.id)
    await write(scene["me"], title="A named piece", body="Signed, openly.", visibility="named")
    tag = author_tag(anon_key, author.id, f"reflection:{rid}")
    piece_strings = [TITLE, BODY[:40], f"/reflections/{rid}", tag]
    person_strings = [author.email, author.handle, author.display_name]
    async with db.transaction() as session:
        tables = list(await session.scalars(text(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
            "AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version'")))
        dumps: dict[str, list[dict]] = {}
        for table in tables:
            rows = await session.execute(text(f'SELECT to_jsonb(t) AS row, t::text AS flat FROM "{table}" t'))
            dumps[table] = [{"row": r.row, "flat": r.flat} for r in rows]
    for table, rows in dumps.items():
        for entry in rows:
            row, flat = entry["row"], entry["flat"]
            about_piece = (any(s in flat for s in piece_strings)
                           or (table == "reflections" and row.get("id") == rid)
                           or (row.get("reflection_id") == rid)
                           or (row.get("target_kind") in ("reflection",) and str(row.get("target_id")) == str(rid)))
            about_author = (any(s in flat for s in person_strings)
                            or any(row.get(c) == author.id for c in PEOPLE_COLUMNS)
                            or (table == "users" and row.get("id") == author.id))
            assert not (about_piece and about_author), (table, flat[:300])
    for table in ("reflections", "reflection_replies", "reflection_reactions", "reflection_drafts"):
        for entry in dumps[table]:
            row = entry["row"]
            if table == "reflections" and row.get("visibility") == "named":
                continue
            assert row.get("author_id") in (None,) or row.get("author_id") != author.id, (table, row)
            assert not any(s in entry["flat"] for s in person_strings), (table, entry["flat"][:200])
    # Timestamps written for the hidden-author decision are coarse (the day only).
    async with db.transaction() as session:
        sanctions = list(await session.scalars(select(Sanction).where(Sanction.user_id == author.id)))
    assert silenced.astimezone(UTC).time() == time(0, 0)
    assert sanctions == []  # not on the member's record, which moderators see beside their signed writing


# ---- 3. coarse times ----------------------------------------------------------------------------------------

async def test_3_anonymous_content_shows_no_exact_time(scene, login, db):
    client = await login(scene["reader"])
    for path in (f"/reflections/{scene['rid']}", "/reflections"):
        body = (await client.get(path)).text
        assert not re.search(r"\b\d{1,2}:\d{2}\b", body), path
        assert "today" in body
    # The wall is ordered by id, and the queue gets a day, not a minute.
    async with db.transaction() as session:
        created = (await session.get(Reflection, scene["rid"])).created_at
    adapter = ReflectionAdapter(Anonymity("unused"))
    async with db.transaction() as session:
        view = (await adapter.load(session, [scene["rid"]]))[scene["rid"]]
    assert view.created_at.time() == time(0, 0) and view.created_at.date() == created.date()


# ---- 4. the author lists, edits, deletes, and is notified ---------------------------------------------------

async def test_4_author_manages_anonymous_writing_and_is_notified(scene, db):
    me, rid = scene["me"], scene["rid"]
    journal = (await me.get("/journal")).text
    assert f"/reflections/{rid}" in journal and "Shared anonymously" in journal
    page = (await me.get(f"/reflections/{rid}")).text
    assert "You wrote this" in page and f"/reflections/{rid}/edit" in page
    notes = (await me.get("/notifications")).text
    assert "replied to your anonymous reflection" in notes
    assert "checking in" in notes
    # Their replies are listed in the journal too, and edited without leaving anonymity.
    own_reply = min(scene["reply_ids"])  # the author replied first
    assert "Thank you for reading." in journal and f"/reflections/replies/{own_reply}/edit" in journal
    await lift_silence(db, scene["author"].id)
    edited = await me.post_form(f"/reflections/replies/{own_reply}/edit", {"body": "Thank you, truly."})
    assert edited.status_code == 303
    async with db.transaction() as session:
        reply = await session.get(ReflectionReply, own_reply)
        assert reply.body == "Thank you, truly." and reply.author_id is None and reply.is_author
    response = await me.post_form(f"/reflections/{rid}/edit", {"title": TITLE, "body": "Edited, still anonymous.",
                                                              "visibility": "anonymous", "intent": "publish"})
    assert response.status_code == 303
    async with db.transaction() as session:
        row = await session.get(Reflection, rid)
        assert row.body == "Edited, still anonymous." and row.author_id is None
    assert (await me.post_form(f"/reflections/{rid}/delete")).status_code == 303
    async with db.transaction() as session:
        assert await session.get(Reflection, rid) is None
        assert not list(await session.scalars(select(ReflectionReply).where(ReflectionReply.reflection_id == rid)))


# ---- 5. moderators act without learning who it is ----------------------------------------------------------

async def test_5_moderators_hide_remove_and_sanction_the_hidden_author(scene, login, db, member_factory, anon_key):
    author, rid, mod = scene["author"], scene["rid"], await login(scene["mod"])
    hidden = await mod.post_form(f"/reflections/moderate/reflection/{rid}/decide",
                                 {"decision": "hide", "reason": "Pending a check."})
    assert hidden.status_code == 303
    follow = await mod.get(hidden.headers["location"])
    for mark in author_marks(author):
        assert mark not in follow.text
    reader = await login(scene["reader"])
    assert (await reader.get(f"/reflections/{rid}")).status_code == 404
    assert (await mod.post_form(f"/reflections/moderate/reflection/{rid}/decide",
                                {"decision": "restore", "reason": "Fine."})).status_code == 303
    # The shared review queue goes through the adapter too.
    queued = await mod.post_form(f"/review/reflection/{rid}/decide", {"action": "remove", "reason": "Off the wall."})
    assert queued.status_code in (200, 303), queued.text[:500]
    async with db.transaction() as session:
        assert (await session.get(Reflection, rid)).state == "removed"
    # Suspend the hidden author (an admin's decision, whoever wrote it): their sessions end, and nothing on the
    # staff side names them.
    refused = await mod.post_form(f"/reflections/moderate/reflection/{rid}/sanction",
                                  {"sanction": "suspend", "days": "3", "reason": "Repeated harm."})
    assert refused.status_code == 403 and "Only an admin can suspend" in refused.text
    suspended = await (await login(await member_factory("admin"))).post_form(
        f"/reflections/moderate/reflection/{rid}/sanction",
                                    {"sanction": "suspend", "days": "3", "reason": "Repeated harm."})
    assert suspended.status_code == 303
    assert (await scene["me"].get("/journal")).status_code == 303  # signed out: redirected to sign in
    async with db.transaction() as session:
        user = await session.get(User, author.id)
        held = await restrictions.in_force(session, Anonymity(anon_key), author.id)
        # Not on the member's row, where an admin would see it; whole days.
        assert user.suspended_at is None and held.suspended
        assert held.suspended_until.astimezone(UTC).time() == time(0, 0)
        audit = list(await session.scalars(select(AuditEntry).where(AuditEntry.target_type == "reflection")))
    assert audit and all(str(author.id) != (a.target_id or "") and author.display_name not in (a.target_label or "")
                         and a.actor_id != author.id for a in audit)
    bad = await mod.post_form(f"/reflections/moderate/reflection/{rid}/sanction",
                              {"sanction": "banish", "days": "x", "reason": ""})
    assert bad.status_code == 400


async def test_5_check_in_reaches_the_tag_only(scene, db, anon_key):
    async with db.transaction() as session:
        notes = list(await session.scalars(select(Notification).where(Notification.kind == "check_in")))
    assert len(notes) == 1
    assert notes[0].user_id is None and notes[0].recipient_tag == author_tag(anon_key, scene["author"].id, f"reflection:{scene['rid']}")


# ---- 6. unmasking: two admins, a written reason, an audit entry, and the author is told ------------------

async def test_6_unmasking_needs_two_admins_and_a_reason(scene, login, db):
    author, rid = scene["author"], scene["rid"]
    first, second = await login(scene["admin"]), await login(scene["admin2"])
    mod = await login(scene["mod"])
    assert (await mod.get(f"/reflections/unmask/reflection/{rid}")).status_code == 403
    assert (await mod.get("/admin/unmask")).status_code == 403
    short = await second.post_form(f"/reflections/unmask/reflection/{rid}", {"reason": "because"})
    assert short.status_code == 400 and "at least 20 characters" in short.text
    duplicate = await second.post_form(f"/reflections/unmask/reflection/{rid}",
                                       {"reason": "Another long enough reason for the record."})
    assert duplicate.status_code == 400
    async with db.transaction() as session:
        request = (await session.scalars(select(UnmaskRequest))).one()
    # Before approval nobody sees the writer.
    assert author.display_name not in (await first.get(f"/admin/unmask/{request.id}")).text
    own = await first.post_form(f"/admin/unmask/{request.id}/decide", {"decision": "approve"})
    assert own.status_code == 403
    approved = await second.post_form(f"/admin/unmask/{request.id}/decide", {"decision": "approve"})
    assert approved.status_code == 303
    for client in (first, second):
        assert author.display_name in (await client.get(f"/admin/unmask/{request.id}")).text
    third = await login(scene["admin3"])
    assert author.display_name not in (await third.get(f"/admin/unmask/{request.id}")).text
    async with db.transaction() as session:
        actions = list(await session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("anonymity.%"))))
        row = await session.get(UnmaskRequest, request.id)
    assert "anonymity.unmask_request" in actions and "anonymity.unmask" in actions
    assert author.id not in (row.requested_by, row.decided_by)
    notes = (await scene["me"].get("/notifications")).text
    assert "Two admins agreed to identify you" in notes and "credible threat" in notes



async def test_5_queue_sanction_on_anonymous_writing_leaves_no_link(member_factory, login, db, settings):
    """The shared review queue's silence/suspend on an anonymous piece: the member's rows carry only the day,
    no moderator id, and the audit entry's reason is sealed (admins still read it in the app)."""
    author = await member_factory(name="Hidden Writer")
    admin = await member_factory("admin")
    rid = await write(await login(author), title="Night float", body="Everything blurred together tonight.",
                      visibility="anonymous")
    deciding = await login(admin)  # suspending the writer of anonymous writing is an admin's decision
    response = await deciding.post_form(f"/review/reflection/{rid}/decide",
                                        {"action": "suspend", "reason": "Distinctive reason words", "days": "3"})
    assert response.status_code in (200, 303), response.text[:1000]
    async with db.transaction() as session:
        user = await session.get(User, author.id)
        held = await restrictions.in_force(session, Anonymity(settings.anon_key), author.id)
        sanctions = list(await session.scalars(select(Sanction).where(Sanction.user_id == author.id)))
        entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "moderation.suspend"))).one()
    assert user.suspended_at is None and held.suspended and held.suspended_until.astimezone(UTC).time() == time(0, 0)
    assert sanctions == []
    assert "Distinctive reason words" not in (entry.reason or "")
    assert str(author.id) not in str(entry.details) and entry.target_id == str(rid)
    log = await (await login(admin)).get("/admin/audit?action=moderation.suspend")
    assert "Distinctive reason words" in log.text
    assert "Hidden Writer" not in log.text
