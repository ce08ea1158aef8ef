"""Every decision: what it does, who is told, and what the audit log keeps (never an anonymous author)."""

import html as html_lib
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from community.app import PILLARS, create_app
from community.discussions.models import Category, Post, Thread
from community.platform.accounts import restrictions, scopes
from community.platform.accounts.models import User
from community.platform.anonymity import Anonymity, author_tag
from community.platform.notify import notifications
from community.platform.pillar import Pillar
from community.platform.review.models import AuditEntry, Flag, Notification, ReviewItem, Sanction
from community.platform.review.targets import TargetView
from tests.discussions.conftest import post_ids, start_thread


async def _flagged_post(login, author, flagger, db):
    client = await login(author)
    thread_id, _ = await start_thread(client, "Decide on me", "Some words to decide about")
    post_id = (await post_ids(db, thread_id))[0]
    flag_client = await login(flagger)
    assert (await flag_client.post_form(f"/flag/post/{post_id}", {"reason": "harassment"})).status_code == 303
    return thread_id, post_id


async def _notes(db, user_id):
    async with db.transaction() as session:
        return list(await session.scalars(select(Notification.text).where(Notification.user_id == user_id)
                                          .order_by(Notification.id)))


async def _audit(db, action):
    async with db.transaction() as session:
        return list(await session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


@pytest.mark.parametrize(("action", "state", "author_sees", "flagger_sees"), [
    ("keep", "visible", None, "decided it can stay"),
    ("hide", "hidden", "hid your writing", "hid it"),
    ("remove", "removed", "removed your writing", "removed it"),
    ("warn", "visible", "A private message from the moderators", "contacted the writer privately"),
    ("silence", "visible", "paused your posting", "paused the writer"),
    ("suspend", "visible", "suspended", "suspended the writer"),
])
async def test_resolving_decisions(resident, attending, moderator, login, db, action, state, author_sees,
                                   flagger_sees):
    thread_id, post_id = await _flagged_post(login, resident, attending, db)
    mod = await login(moderator)
    detail = await mod.get(f"/review/post/{post_id}")
    assert detail.status_code == 200 and "Some words to decide about" in detail.text
    response = await mod.post_form(f"/review/post/{post_id}/decide",
                                   {"action": action, "reason": "Because of the guidelines", "hours": "24",
                                    "days": "3"})
    assert response.status_code == 303, response.text[:3000]
    async with db.transaction() as session:
        assert await session.scalar(select(Post.state).where(Post.id == post_id)) == state
        item = (await session.scalars(select(ReviewItem).where(ReviewItem.target_id == post_id))).one()
        assert item.resolved_at is not None and item.decision == action and item.resolved_by == moderator.id
        assert (await session.scalar(select(Flag.outcome).where(Flag.target_id == post_id))) == action
        user = await session.get(User, resident.id)
        sanctions = list(await session.scalars(select(Sanction.kind).where(Sanction.user_id == resident.id)))
    entry = (await _audit(db, f"moderation.{action}"))[0]
    assert entry.actor_id == moderator.id and entry.target_type == "post" and entry.target_id == str(post_id)
    assert entry.reason == "Because of the guidelines"
    if author_sees:
        assert any(author_sees in t for t in await _notes(db, resident.id))
    assert any(flagger_sees in t for t in await _notes(db, attending.id))
    if action == "silence":
        assert user.silenced_until > datetime.now(UTC) and sanctions == ["silence"]
    if action == "suspend":
        assert user.suspended_at is not None and sanctions == ["suspend"]
        assert await _audit(db, "member.suspend")
    if action == "warn":
        assert sanctions == ["warn"]


async def test_reason_required_and_bad_params(resident, attending, moderator, login, db):
    _, post_id = await _flagged_post(login, resident, attending, db)
    mod = await login(moderator)
    for data, message in (({"action": "remove"}, "Please give a reason"),
                          ({"action": "explode", "reason": "x"}, "Choose one of the available decisions"),
                          ({"action": "silence", "reason": "x", "hours": "abc"}, "Choose how long"),
                          ({"action": "suspend", "reason": "x", "days": "-4"}, "Choose between 1 and 3,650"),
                          ({"action": "remove", "reason": "r" * 1001}, "Use at most 1,000 characters")):
        response = await mod.post_form(f"/review/post/{post_id}/decide", data)
        assert response.status_code == 400 and message in response.text, data
    token = await mod.ensure_csrf()
    response = await mod.post(f"/review/post/{post_id}/decide",
                              content=f"csrf_token={token}&action=remove&reason=%FF%00".encode(),
                              headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400
    async with db.transaction() as session:
        assert await session.scalar(select(Post.state).where(Post.id == post_id)) == "visible"


async def test_reason_field_says_when_it_is_required_and_errors_point_at_it(resident, attending, moderator,
                                                                             login, db):
    _, post_id = await _flagged_post(login, resident, attending, db)
    mod = await login(moderator)
    page = html_lib.unescape((await mod.get(f"/review/post/{post_id}")).text)
    label = re.search(r'<label for="f-reason">(.*?)</label>', page, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", label) == "Reason (required for check-in, hide, remove, warn, silence, suspend)"
    assert "(optional)" not in label
    assert 'for="f-move-reason">Reason <span class="optional">(optional)' in page  # moving needs none

    for action in ("hide", "remove", "warn", "silence", "suspend"):
        response = await mod.post_form(f"/review/post/{post_id}/decide", {"action": action, "hours": "72",
                                                                          "reason": "   "})
        assert response.status_code == 400, action
        page = response.text
        assert f"A reason is required to {action}: please write it in the Reason field." in page
        assert '<a href="#f-reason">Please give a reason' in page  # the summary links to the field
        assert re.search(r'<p class="error-text" id="e-reason">Please give a reason', page)
        textarea = re.search(r'<textarea id="f-reason"[^>]*>', page).group(0)
        assert 'aria-invalid="true"' in textarea and "e-reason" in textarea
        assert re.search(rf'value="{action}" checked', page), action  # the choice is kept
        assert re.search(r'<option value="72" selected', page)

    # The thread tools' edit has its own Reason field: the error points there, and the editor stays open.
    response = await mod.post_form(f"/review/post/{post_id}/decide", {"action": "edit", "body": "Changed"})
    assert response.status_code == 400
    page = response.text
    assert '<a href="#f-edit-reason">Please give a reason' in page
    assert re.search(r'<p class="error-text" id="e-edit-reason">Please give a reason', page)
    assert re.search(r'<input id="f-edit-reason"[^>]*aria-invalid="true"', page)
    assert "<details open>" in page
    assert 'id="e-reason"' not in page
    async with db.transaction() as session:
        assert await session.scalar(select(Post.state).where(Post.id == post_id)) == "visible"


async def test_thread_tools_edit_lock_pin_move_without_flags(resident, moderator, login, db):
    author = await login(resident)
    thread_id, _ = await start_thread(author, "Tools", "Original")
    post_id = (await post_ids(db, thread_id))[0]
    mod = await login(moderator)
    async with db.transaction() as session:
        target = await session.scalar(select(Category.id).where(Category.slug == "role-models"))
    for data in ({"action": "pin"}, {"action": "lock"}, {"action": "move", "category_id": str(target)},
                 {"action": "edit", "body": "Edited by a moderator", "title": "Tools (edited)",
                  "reason": "Removed a name"}):
        response = await mod.post_form(f"/review/post/{post_id}/decide", data)
        assert response.status_code == 303, (data, response.text[:2000])
    async with db.transaction() as session:
        thread = await session.get(Thread, thread_id)
        post = await session.get(Post, post_id)
    assert thread.pinned and thread.locked and thread.category_id == target and thread.title == "Tools (edited)"
    assert post.body_md == "Edited by a moderator" and post.edited_at is not None
    for action in ("pin", "lock", "move", "edit"):
        assert await _audit(db, f"moderation.{action}")
    notes = await _notes(db, resident.id)
    assert any("moved the thread" in t for t in notes) and any("edited" in t for t in notes)
    bad = await mod.post_form(f"/review/post/{post_id}/decide", {"action": "move", "category_id": "abc"})
    assert bad.status_code == 400


async def test_restore_and_approve(resident, moderator, login, db):
    author = await login(resident)
    thread_id, _ = await start_thread(author, "Restore me", "Text")
    post_id = (await post_ids(db, thread_id))[0]
    mod = await login(moderator)
    await mod.post_form(f"/review/post/{post_id}/decide", {"action": "remove", "reason": "mistake"})
    assert (await mod.post_form(f"/review/post/{post_id}/decide", {"action": "keep"})).status_code == 400
    assert (await mod.post_form(f"/review/post/{post_id}/decide", {"action": "restore"})).status_code == 303
    async with db.transaction() as session:
        assert await session.scalar(select(Post.state).where(Post.id == post_id)) == "visible"
        assert await session.scalar(select(Thread.state).where(Thread.id == thread_id)) == "visible"


async def test_moderator_cannot_sanction_admin(admin, moderator, login, db):
    client = await login(admin)
    thread_id, _ = await start_thread(client, "Admin post", "Words")
    post_id = (await post_ids(db, thread_id))[0]
    mod = await login(moderator)
    response = await mod.post_form(f"/review/post/{post_id}/decide", {"action": "suspend", "reason": "no"})
    assert response.status_code == 403


class AnonAdapter:
    """A stand-in for the reflections pillar: anonymous writing whose author only the adapter knows."""

    kind = "test_anon"

    def __init__(self, author_id, anon_key):
        self.author_id = author_id
        self.anon_key = anon_key
        self.state = "visible"

    async def load(self, session, ids):
        return {i: TargetView(kind=self.kind, id=i, title="Anonymous reflection", body_html="<p>sealed words</p>",
                              url=f"/reflections/{i}", author_label="A resident", author_id=None,
                              state=self.state, created_at=datetime.now(UTC), anonymous=True) for i in ids}

    async def readable(self, session, viewer, view):
        return True

    async def set_state(self, session, target_id, state, reason):
        self.state = state

    async def author_user_id(self, session, target_id):
        return self.author_id

    async def notify_author(self, session, target_id, kind, text, url):
        # A scope of the stand-in's own, in the writer's keyring, as a pillar's adapter does.
        tag = author_tag(self.anon_key, self.author_id, f"test_anon:{target_id}")
        await scopes.enrol(session, Anonymity(self.anon_key), self.author_id, tag)
        await notifications.notify(session, tag=tag, anonymity=Anonymity(self.anon_key), kind=kind, text=text,
                                   url=url)


@pytest.fixture
def anon_adapter(resident, settings):
    return AnonAdapter(resident.id, settings.anon_key)


@pytest.fixture
def app(settings, db, request):
    """The app, with a stand-in pillar for the tests that ask for `anon_adapter`."""
    pillars = PILLARS
    if "anon_adapter" in request.fixturenames:
        adapter = request.getfixturevalue("anon_adapter")
        pillars = (*PILLARS, Pillar(name="test", routes=(), adapters=lambda anonymity: (adapter,)))
    return create_app(settings, db=db, pillars=pillars)


async def test_anonymous_targets_keep_the_author_sealed(resident, attending, moderator, admin, login, db,
                                                       anon_adapter, settings):
    flagger = await login(attending)
    form = await flagger.get("/flag/test_anon/7")
    assert form.status_code == 200 and "sealed words" in form.text
    assert (await flagger.post_form("/flag/test_anon/7", {"reason": "concern"})).status_code == 303
    mod = await login(moderator)
    queue = await mod.get("/review")
    assert "sealed words" in queue.text and resident.display_name not in queue.text
    for data in ({"action": "check_in", "reason": "We are thinking of you. How are you doing?"},
                 {"action": "warn", "reason": "Please keep to the guidelines."},
                 {"action": "suspend", "reason": "Repeated harassment", "days": "2"}):
        # Suspending the writer of anonymous writing is an admin's decision, whoever wrote it.
        decider = await login(admin) if data["action"] == "suspend" else mod
        response = await decider.post_form("/review/test_anon/7/decide", data)
        assert response.status_code == 303, response.text[:2000]
    async with db.transaction() as session:
        entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.target_type == "test_anon")))
        assert {e.action for e in entries} == {"moderation.check_in", "moderation.warn", "moderation.suspend"}
        for entry in entries:
            blob = f"{entry.target_id} {entry.target_label} {entry.reason} {entry.details}"
            assert str(resident.id) not in blob.split() and resident.display_name not in blob
            assert "member_id" not in entry.details and entry.target_id == "7"
        assert not list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "member.suspend")))
        stored = list(await session.scalars(select(Notification.text).where(
            Notification.recipient_tag == author_tag(settings.anon_key, resident.id, "test_anon:7"))))
        anonymity = Anonymity(settings.anon_key)
        held = await restrictions.in_force(session, anonymity, resident.id)
        direct = list(await session.scalars(select(Notification.text).where(Notification.user_id == resident.id)))
        user = await session.get(User, resident.id)
        # Nothing about anonymous writing goes on the member's record (the history moderators see beside their
        # signed writing): neither a check-in, which is care, nor the warning and suspension.
        record = set(await session.scalars(select(Sanction.kind).where(Sanction.user_id == resident.id)))
    assert record == set()
    # The texts addressed to the writer's tag are sealed: a database copy does not hold the reasons in plaintext.
    assert stored and not any("How are you doing?" in t or "guidelines" in t for t in stored)
    tagged = [anonymity.unseal(t) for t in stored]
    assert any("checking in" in t and "How are you doing?" in t for t in tagged) and not direct
    assert any("private message from the moderators" in t for t in tagged)
    # The suspension holds, but not on the member's row, where an admin would see it (finding 2).
    assert user.suspended_at is None and user.suspended_reason is None
    assert held.suspended and held.reason == "Repeated harassment"
