"""The role matrix of the moderator tools (issue 19): who may read and change watched words, the audit log, a
member's silence, and the new-member approval setting. Members get 403; moderators their own scope; admins all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from community.platform.accounts.models import User
from community.platform.review import audit
from community.platform.review.models import AuditEntry, WatchedWord

ROLES = ("resident", "attending", "moderator", "admin")


async def _clients(member_factory, login):
    return {role: await login(await member_factory(role)) for role in ROLES}


async def _word(db, phrase) -> WatchedWord | None:
    async with db.transaction() as session:
        return (await session.scalars(select(WatchedWord).where(WatchedWord.phrase == phrase))).first()


# (method, path, {role: expected status}); a POST's form is in FORMS.
MATRIX = [
    ("GET", "/admin/watched-words", {"resident": 403, "attending": 403, "moderator": 200, "admin": 200}),
    ("GET", "/admin/audit", {"resident": 403, "attending": 403, "moderator": 200, "admin": 200}),
    ("GET", "/admin/members", {"resident": 403, "attending": 403, "moderator": 403, "admin": 200}),
    ("GET", "/admin/settings", {"resident": 403, "attending": 403, "moderator": 403, "admin": 200}),
    ("POST", "/admin/watched-words/test", {"resident": 403, "attending": 403, "moderator": 200, "admin": 200}),
]
FORMS = {"/admin/watched-words/test": {"sample": "a sentence to test"}}


@pytest.mark.parametrize(("method", "path", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
async def test_the_role_matrix(member_factory, login, method, path, expected):
    clients = await _clients(member_factory, login)
    for role, client in clients.items():
        response = await (client.get(path) if method == "GET" else client.post_form(path, FORMS.get(path, {})))
        assert response.status_code == expected[role], (role, path, response.status_code)


async def test_moderators_add_hold_and_flag_words_and_remove_only_their_own(member_factory, login, db):
    clients = await _clients(member_factory, login)
    mod, admin = clients["moderator"], clients["admin"]
    refused = await mod.post_form("/admin/watched-words", {"phrase": "zorblocked", "action": "block", "message": ""})
    assert refused.status_code == 400 and "for an admin" in refused.text
    assert await _word(db, "zorblocked") is None
    for role in ("resident", "attending"):
        denied = await clients[role].post_form("/admin/watched-words", {"phrase": "zorres", "action": "flag",
                                                                        "message": ""})
        assert denied.status_code == 403
    assert (await mod.post_form("/admin/watched-words", {"phrase": "zorflagged", "action": "flag",
                                                         "message": ""})).status_code == 303
    assert (await admin.post_form("/admin/watched-words", {"phrase": "zoradmins", "action": "block",
                                                           "message": ""})).status_code == 303
    admins_word, own_word = await _word(db, "zoradmins"), await _word(db, "zorflagged")
    page = (await mod.get("/admin/watched-words")).text
    assert f"/admin/watched-words/{own_word.id}/delete" in page
    assert f"/admin/watched-words/{admins_word.id}/delete" not in page  # not offered
    forbidden = await mod.post_form(f"/admin/watched-words/{admins_word.id}/delete", {})
    assert forbidden.status_code == 403 and await _word(db, "zoradmins") is not None
    assert (await mod.post_form(f"/admin/watched-words/{own_word.id}/delete", {})).status_code == 303
    assert await _word(db, "zorflagged") is None
    assert (await admin.post_form(f"/admin/watched-words/{admins_word.id}/delete", {})).status_code == 303
    async with db.transaction() as session:
        removed = list(await session.scalars(select(AuditEntry.target_label).where(
            AuditEntry.action == "watched_word.remove", AuditEntry.target_label.in_(["zorflagged", "zoradmins"]))))
    assert sorted(removed) == ["zoradmins", "zorflagged"]


async def test_moderators_read_the_moderation_part_of_the_audit_log(member_factory, login, db):
    clients = await _clients(member_factory, login)
    async with db.transaction() as session:
        await audit.record(session, None, "member.role", target_type="user", target_id=1,
                           target_label="Zed Roleentry", reason="an account matter")
        await audit.record(session, None, "moderation.hide", target_type="post", target_id=1,
                           target_label="Zed Hideentry", reason="a moderation matter")
    mod_page = (await clients["moderator"].get("/admin/audit")).text
    admin_page = (await clients["admin"].get("/admin/audit")).text
    assert "Zed Hideentry" in mod_page and "Zed Roleentry" not in mod_page
    assert "Zed Hideentry" in admin_page and "Zed Roleentry" in admin_page
    # Filtering cannot widen a moderator's scope.
    filtered = (await clients["moderator"].get("/admin/audit", params={"action": "member.role"})).text
    assert "Zed Roleentry" not in filtered


async def test_a_silence_shows_on_the_member_page_and_is_lifted_with_an_audit_entry(member_factory, login, db):
    clients = await _clients(member_factory, login)
    member = await member_factory("resident")
    until = datetime.now(UTC) + timedelta(days=3)
    async with db.transaction() as session:
        await session.execute(update(User).where(User.id == member.id).values(silenced_until=until))
    page = await clients["admin"].get(f"/admin/members/{member.id}")
    assert page.status_code == 200 and "Silenced until" in page.text and "Lift silence" in page.text
    for role in ("resident", "attending", "moderator"):
        assert (await clients[role].post_form(f"/admin/members/{member.id}/unsilence",
                                              {"reason": "x"})).status_code == 403
    missing = await clients["admin"].post_form(f"/admin/members/{member.id}/unsilence", {"reason": ""})
    assert missing.status_code == 400
    lifted = await clients["admin"].post_form(f"/admin/members/{member.id}/unsilence", {"reason": "Talked it over"})
    assert lifted.status_code == 303
    async with db.transaction() as session:
        assert (await session.get(User, member.id)).silenced_until is None
        entry = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "member.unsilence",
                                                                AuditEntry.target_id == str(member.id)))).one()
    assert entry.reason == "Talked it over"
    page = await clients["admin"].get(f"/admin/members/{member.id}")
    assert "Not silenced" in page.text and "Lift silence" not in page.text
    again = await clients["admin"].post_form(f"/admin/members/{member.id}/unsilence", {"reason": "Again"})
    assert again.status_code == 400 and "not silenced" in again.text


async def test_a_suspension_shows_its_end_and_is_lifted(member_factory, login, db):
    clients = await _clients(member_factory, login)
    member = await member_factory("resident")
    admin = clients["admin"]
    assert (await admin.post_form(f"/admin/members/{member.id}/suspend",
                                  {"days": "3", "reason": "A cooling-off"})).status_code == 303
    page = (await admin.get(f"/admin/members/{member.id}")).text
    assert "Suspended until" in page and "Lift suspension" in page
    assert (await admin.post_form(f"/admin/members/{member.id}/unsuspend", {"reason": "Done"})).status_code == 303
    async with db.transaction() as session:
        assert (await session.scalars(select(AuditEntry).where(AuditEntry.action == "member.unsuspend",
                                                               AuditEntry.target_id == str(member.id)))).one()
