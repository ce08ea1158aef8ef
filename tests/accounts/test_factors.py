"""Issue 18, second factors: TOTP (single-use codes, replay told), recovery codes, the half-session after the
password, staff kept out until they have a factor, and step-up before sensitive actions. The TOTP clock is the
app's `factors.clock`, set by each test; passkeys are driven in Chromium (tests/browser/test_journey_factors.py)."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import select, update

from community.platform.accounts.factors import reset_all
from community.platform.accounts.models import RecoveryCode, SecondFactor, Session, User
from community.platform.accounts.security import seal_secret, unseal_secret
from community.platform.mail.models import OutboxMessage
from community.platform.review.models import Notification
from community.platform.viewer import Viewer
from community.platform.web.factor_guard import SecondFactorGuard
from community.reflections.models import UnmaskRequest
from tests.conftest import PASSWORD
from tests.reflections.conftest import write

T0 = 1_900_000_020.0  # a time-step boundary: codes at T0, T0 + 30, ... are the steps that follow


def clock(app, at: float) -> None:
    app.state.factors.clock = lambda: at


async def enrol(client, app, at: float = T0) -> tuple[str, list[str]]:
    """An authenticator app set up through the pages at `at`; (secret, recovery codes shown once)."""
    clock(app, at)
    page = await client.get("/account/security/totp")
    assert page.status_code == 200, page.text[:300]
    secret = re.search(r"data-totp-secret>([A-Z2-7]+)<", page.text).group(1)
    assert 'src="data:image/svg+xml' in page.text  # the QR code, as an image CSP allows
    wrong = await client.post_form("/account/security/totp", {"code": "000000" if pyotp.TOTP(secret).at(at) != "000000"
                                                              else "111111"})
    assert wrong.status_code == 400 and "does not match" in wrong.text
    done = await client.post_form("/account/security/totp", {"code": pyotp.TOTP(secret).at(at)})
    assert done.status_code == 200, done.text[:300]
    codes = re.findall(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>", done.text)
    assert len(codes) == 10
    return secret, codes


async def password_step(client, email: str, next_url: str = "/"):
    return await client.post_form(f"/signin?next={next_url}", {"email": email, "password": PASSWORD})


async def test_totp_enrol_then_sign_in_takes_a_second_step(member_factory, login, make_client, app, db):
    member = await member_factory("resident")
    secret, _ = await enrol(await login(member), app)
    async with db.transaction() as session:
        row = (await session.scalars(select(SecondFactor).where(SecondFactor.user_id == member.id))).one()
        # Sealed at rest: the secret is not in the row, and the row opens only with SECRET_KEY.
        assert secret not in row.sealed_secret and row.last_step == int(T0 // 30)
        assert unseal_secret(app.state.settings.secret_key, row.sealed_secret) == secret
        assert len((await session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == member.id))).all()) == 10

    browser = make_client()
    first = await password_step(browser, member.email, "/journal")
    assert first.status_code == 303 and first.headers["location"] == "/signin/factor?next=/journal"
    half = browser.cookies.get("session")
    # The half-session reaches nothing else: not a page, not the journal, not the account.
    for path in ("/", "/journal", "/account"):
        sent = await browser.get(path)
        assert sent.status_code == 303 and sent.headers["location"].startswith("/signin/factor"), path
    clock(app, T0 + 30)
    ask = await browser.get("/signin/factor?next=/journal")
    assert ask.status_code == 200 and "One more step" in ask.text
    done = await browser.post_form("/signin/factor?next=/journal", {"factor_code": pyotp.TOTP(secret).at(T0 + 30)})
    assert done.status_code == 303 and done.headers["location"] == "/journal"
    assert browser.cookies.get("session") != half  # a new token once the second factor is checked
    assert (await browser.get("/journal")).status_code == 200


async def test_a_replayed_code_is_refused_logged_and_its_holder_told(member_factory, login, make_client, app, db,
                                                                     caplog):
    member = await member_factory("attending")
    secret, _ = await enrol(await login(member), app)
    clock(app, T0 + 30)
    code = pyotp.TOTP(secret).at(T0 + 30)
    browser = make_client()
    await password_step(browser, member.email)
    assert (await browser.post_form("/signin/factor", {"factor_code": code})).status_code == 303
    # The same code again, within its 30 seconds, from another browser (someone who watched it typed).
    other = make_client()
    await password_step(other, member.email)
    with caplog.at_level(logging.WARNING, logger="community.security"):
        again = await other.post_form("/signin/factor", {"factor_code": code})
    assert again.status_code == 400 and "already used" in again.text
    assert (await other.get("/journal")).headers["location"].startswith("/signin/factor")
    assert any(isinstance(r.msg, dict) and r.msg.get("event") == "second_factor.replay" for r in caplog.records)
    # The code at enrolment (an older step) is refused the same way.
    older = await other.post_form("/signin/factor", {"factor_code": pyotp.TOTP(secret).at(T0)})
    assert older.status_code == 400 and "already used" in older.text
    async with db.transaction() as session:
        told = (await session.scalars(select(Notification).where(Notification.user_id == member.id,
                                                                 Notification.kind == "security"))).all()
        mailed = (await session.scalars(select(OutboxMessage).where(OutboxMessage.to_addr == member.email,
                                                                    OutboxMessage.template == "factor_replay"))).all()
        assert len(told) == 2 and "a second time" in told[0].text
        assert len(mailed) == 2
    # Codes from the future beyond one step are not accepted either; the next step's code is.
    assert (await other.post_form("/signin/factor", {"factor_code": pyotp.TOTP(secret).at(T0 + 90)})).status_code == 400
    assert (await other.post_form("/signin/factor", {"factor_code": pyotp.TOTP(secret).at(T0 + 60)})).status_code == 303


async def test_a_recovery_code_signs_in_once(member_factory, login, make_client, app, db):
    member = await member_factory("resident")
    _, codes = await enrol(await login(member), app)
    browser = make_client()
    await password_step(browser, member.email)
    assert (await browser.post_form("/signin/factor", {"factor_code": codes[3].upper()})).status_code == 303
    other = make_client()
    await password_step(other, member.email)
    used = await other.post_form("/signin/factor", {"factor_code": codes[3]})
    assert used.status_code == 400 and "used already" in used.text
    async with db.transaction() as session:
        left = (await session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == member.id,
                                                                 RecoveryCode.used_at.is_(None)))).all()
        assert len(left) == 9


async def test_wrong_codes_are_throttled_and_bad_input_is_a_message(member_factory, login, make_client, app):
    member = await member_factory("resident")
    await enrol(await login(member), app)
    browser = make_client()
    await password_step(browser, member.email)
    for bad in ("", "12345\x00", "９９９９９９", "x" * 5000):
        answer = await browser.post_form("/signin/factor", {"factor_code": bad})
        assert answer.status_code == 400 and "factor_code" in answer.text, (bad[:10], answer.status_code)
    statuses = [(await browser.post_form("/signin/factor", {"factor_code": "654321"})).status_code for _ in range(5)]
    assert 429 in statuses and set(statuses) <= {400, 429}
    limited = await browser.post_form("/signin/factor", {"factor_code": "654321"})
    assert limited.status_code == 429 and "Too many wrong codes" in limited.text
    invalid_utf8 = await browser.post("/signin/factor", content=b"factor_code=%ff%fe&csrf_token="
                                      + browser.cookies.get("csrf").encode(),
                                      headers={"content-type": "application/x-www-form-urlencoded"})
    assert invalid_utf8.status_code in (400, 429)


async def test_staff_reach_nothing_before_a_second_factor(member_factory, login, app, db):
    moderator = await member_factory("moderator")
    client = await login(moderator)
    async with db.transaction() as session:
        await session.execute(update(Session).where(Session.user_id == moderator.id).values(factor_at=None))
    for path in ("/review", "/", "/account", "/journal"):
        sent = await client.get(path)
        assert sent.status_code == 303 and sent.headers["location"].startswith("/account/security"), path
    posted = await client.post_form("/review/items/1/claim", {})
    assert posted.status_code == 303 and posted.headers["location"] == "/account/security"
    page = await client.get("/account/security")
    assert page.status_code == 200 and "Moderators and admins need a second factor" in page.text
    await enrol(client, app)
    assert (await client.get("/review")).status_code == 200
    # They cannot remove their only factor.
    async with db.transaction() as session:
        factor_id = (await session.scalars(select(SecondFactor.id).where(SecondFactor.user_id == moderator.id))).one()
    refused = await client.post_form(f"/account/security/factors/{factor_id}/remove", {})
    assert refused.status_code == 403
    # A session of theirs that has not checked it is sent to check it, not to set one up.
    async with db.transaction() as session:
        await session.execute(update(Session).where(Session.user_id == moderator.id).values(factor_at=None))
    sent = await client.get("/review")
    assert sent.status_code == 303 and sent.headers["location"] == "/signin/factor?next=/review"


async def stale(db, user: User) -> None:
    """The member's sessions last checked a factor 11 minutes ago: past the step-up window."""
    async with db.transaction() as session:
        await session.execute(update(Session).where(Session.user_id == user.id).values(
            factor_at=datetime.now(UTC) - timedelta(minutes=11)))


async def test_a_role_change_needs_a_recent_factor_and_keeps_the_form(member_factory, login, app, db):
    admin = await member_factory("admin")
    member = await member_factory("resident")
    client = await login(admin)
    secret, _ = await enrol(client, app)
    await stale(db, admin)
    form = {"role": "moderator", "reason": "Agreed at the steering group on Monday."}
    asked = await client.post_form(f"/admin/members/{member.id}/role", form)
    assert asked.status_code == 401 and "Confirm it is you" in asked.text
    assert 'name="reason" value="Agreed at the steering group on Monday."' in asked.text
    assert f'action="/admin/members/{member.id}/role"' in asked.text
    clock(app, T0 + 30)
    wrong = await client.post_form(f"/admin/members/{member.id}/role", {**form, "factor_code": "12345"})
    assert wrong.status_code == 400 and 'value="Agreed at the steering group on Monday."' in wrong.text
    async with db.transaction() as session:
        assert (await session.get(User, member.id)).role == "resident"
    done = await client.post_form(f"/admin/members/{member.id}/role",
                                  {**form, "factor_code": pyotp.TOTP(secret).at(T0 + 30)})
    assert done.status_code == 303
    async with db.transaction() as session:
        assert (await session.get(User, member.id)).role == "moderator"
    # Within the next minutes the next sensitive action goes straight through.
    back = await client.post_form(f"/admin/members/{member.id}/role", {"role": "resident", "reason": "Undo."})
    assert back.status_code == 303


async def test_unmask_request_and_approval_each_need_a_fresh_factor(member_factory, login, app, db):
    first, second = await member_factory("admin", name="First Admin"), await member_factory("admin", name="Second")
    writer = await login(await member_factory(name="Hidden Resident"))
    rid = await write(writer, body="Something I could only write without my name.", visibility="anonymous")
    one, two = await login(first), await login(second)
    secret_one, _ = await enrol(one, app)
    secret_two, _ = await enrol(two, app, T0 + 30)
    await stale(db, first)
    await stale(db, second)
    reason = {"reason": "A credible threat to a patient was reported to us and must be followed up."}
    asked = await one.post_form(f"/reflections/unmask/reflection/{rid}", reason)
    assert asked.status_code == 401
    clock(app, T0 + 60)
    made = await one.post_form(f"/reflections/unmask/reflection/{rid}",
                               {**reason, "factor_code": pyotp.TOTP(secret_one).at(T0 + 60)})
    assert made.status_code == 303, made.text[:300]
    async with db.transaction() as session:
        request_id = (await session.scalars(select(UnmaskRequest.id))).one()
    decide = {"decision": "approve", "reason": "Confirmed with the program director."}
    asked = await two.post_form(f"/admin/unmask/{request_id}/decide", decide)
    assert asked.status_code == 401 and 'name="decision" value="approve"' in asked.text
    async with db.transaction() as session:
        assert (await session.get(UnmaskRequest, request_id)).decision is None
    approved = await two.post_form(f"/admin/unmask/{request_id}/decide",
                                   {**decide, "factor_code": pyotp.TOTP(secret_two).at(T0 + 60)})
    assert approved.status_code == 303
    # Seeing the name is a page that takes a recent factor too.
    await stale(db, second)
    sent = await two.get(f"/admin/unmask/{request_id}")
    assert sent.status_code == 303 and sent.headers["location"].startswith("/signin/factor?next=/admin/unmask/")


async def test_exports_and_password_change_step_up_only_members_with_a_factor(member_factory, login, app, db):
    plain = await login(await member_factory("resident"))
    assert (await plain.get("/account/data/export.json")).status_code == 200  # nothing to ask for
    member = await member_factory("resident")
    client = await login(member)
    await enrol(client, app)
    await stale(db, member)
    sent = await client.get("/account/data/export.json")
    assert sent.status_code == 303 and sent.headers["location"] == "/signin/factor?next=/account/data/export.json"
    # A password form stepped up never writes the passwords into the page.
    asked = await client.post_form("/account/password", {"current": PASSWORD, "new": "a new and long pass phrase",
                                                          "confirm": "a new and long pass phrase"})
    assert asked.status_code == 401 and "a new and long pass phrase" not in asked.text


async def test_secrets_are_sealed_with_the_secret_key(settings):
    sealed = seal_secret(settings.secret_key, "JBSWY3DPEHPK3PXP")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert unseal_secret(settings.secret_key, sealed) == "JBSWY3DPEHPK3PXP"
    assert seal_secret(settings.secret_key, "JBSWY3DPEHPK3PXP") != sealed  # a fresh nonce each time
    with pytest.raises(InvalidTag):
        unseal_secret("another key" + "z" * 40, sealed)


async def test_the_guard_closes_sockets_and_opens_only_signing_in_to_a_half_session(settings):
    """web.factor_guard on its own: where each kind of session may go, and a socket refused before its handshake."""
    staff = Viewer(id=1, display_name="M", handle="m", role="moderator", email="m@example.org")
    checked = Viewer(id=1, display_name="M", handle="m", role="moderator", email="m@example.org",
                     has_factor=True, factor_at=datetime.now(UTC))
    member = Viewer(id=2, display_name="R", handle="r", role="resident", email="r@example.org")
    guard = SecondFactorGuard(lambda scope, receive, send: None, settings)

    def where(path: str, **scope) -> str | None:
        target = guard.target({"type": "http", "path": path, **scope})
        return target and target[0]

    assert where("/review", user=staff) == "/account/security"
    assert where("/account/security/totp", user=staff) is None
    assert where("/review", user=replace(staff, has_factor=True)) == "/signin/factor"
    assert where("/review", user=checked) is None and where("/journal", user=member) is None
    assert where("/journal", pending_viewer=member) == "/signin/factor"
    assert where("/signinx", pending_viewer=member) == "/signin/factor"
    for path in ("/signin/factor", "/signout", "/static/css/site.css", "/link/abc", "/signin"):
        assert where(path, pending_viewer=member) is None, path
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    await guard({"type": "websocket", "path": "/rooms/1/socket", "user": staff}, None, send)
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "second factor required"}]


async def test_own_data_lists_factors_without_secrets_and_deletion_removes_them(member_factory, login, app, db):
    member = await member_factory("resident")
    client = await login(member)
    secret, codes = await enrol(client, app)
    exported = await client.get("/account/data/export.json")
    assert exported.status_code == 200
    assert [f["kind"] for f in exported.json()["second_factors"]] == ["totp"]
    assert secret not in exported.text and codes[0] not in exported.text
    gone = await client.post_form("/account/data/delete", {"password": PASSWORD, "choice": "remove"})
    assert gone.status_code == 303, gone.text[:300]
    async with db.transaction() as session:
        assert (await session.scalars(select(SecondFactor).where(SecondFactor.user_id == member.id))).all() == []
        assert (await session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == member.id))).all() == []


async def test_reset_factors_removes_them_and_ends_the_sessions(member_factory, login, app, db):
    admin = await member_factory("admin")
    client = await login(admin)
    await enrol(client, app)
    async with db.transaction() as session:
        assert await reset_all(session, await session.get(User, admin.id)) == 1
        assert (await session.scalars(select(Session).where(Session.user_id == admin.id))).all() == []
    sent = await client.get("/admin")
    assert sent.status_code == 303 and sent.headers["location"].startswith("/signin")
