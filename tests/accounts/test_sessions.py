"""Issue 18: sessions a member controls (the list, signing out one or all others, a chosen length), staff session
limits (12 hours, 30 minutes idle), last-seen written every few minutes, and `__Host-` cookies under HTTPS."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, text

from community.app import create_app
from community.platform.accounts import actions as accounts
from community.platform.accounts.devices import device_label
from community.platform.accounts.models import Session, User
from tests.conftest import PASSWORD, Client

FIREFOX_MAC = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0"
CHROME_ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/124.0.0.0 Mobile Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.4 Mobile/15E148 Safari/604.1")
EDGE_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
                "Safari/537.36 Edg/124.0.2478.51")


@pytest.mark.parametrize(("agent", "label"), [
    (FIREFOX_MAC, "Firefox on macOS"), (CHROME_ANDROID, "Chrome on Android"), (SAFARI_IPHONE, "Safari on iPhone"),
    (EDGE_WINDOWS, "Edge on Windows"), ("curl/8.5.0", "Unknown device"), ("", "Unknown device"), (None, "Unknown device"),
    ("Mozilla/5.0 (X11; Linux x86_64) Something/1", "Unknown browser on Linux"),
])
def test_device_labels(agent, label):
    assert device_label(agent) == label


def _browser(app, agent: str, base_url: str = "http://testserver") -> Client:
    return Client(transport=httpx.ASGITransport(app=app), base_url=base_url, headers={"user-agent": agent})


async def _sign_in(client: Client, email: str) -> httpx.Response:
    response = await client.post_form("/signin", {"email": email, "password": PASSWORD})
    assert response.status_code == 303, response.text
    return response


async def _sessions_of(db, user_id: int) -> list[Session]:
    async with db.transaction() as session:
        return list(await session.scalars(select(Session).where(Session.user_id == user_id).order_by(Session.id)))


async def test_the_account_page_lists_sessions_and_signs_one_out(app, db, member_factory):
    user = await member_factory("resident")
    async with _browser(app, FIREFOX_MAC) as laptop, _browser(app, CHROME_ANDROID) as phone:
        await _sign_in(laptop, user.email)
        await _sign_in(phone, user.email)
        page = await laptop.get("/account/sessions")
        assert page.status_code == 200
        assert "Firefox on macOS" in page.text and "Chrome on Android" in page.text
        assert page.text.count("This device") == 1
        rows = await _sessions_of(db, user.id)
        phone_row = next(r for r in rows if r.device == "Chrome on Android")
        ended = await laptop.post_form(f"/account/sessions/{phone_row.id}/end")
        assert ended.status_code == 303 and ended.headers["location"] == "/account/sessions"
        assert (await phone.get("/account")).status_code == 303  # the phone is signed out
        assert (await laptop.get("/account")).status_code == 200  # the laptop is not
        again = await laptop.post_form(f"/account/sessions/{phone_row.id}/end")
        assert again.status_code == 404 and "already ended" in again.text
        (laptop_row,) = await _sessions_of(db, user.id)
        here = await laptop.post_form(f"/account/sessions/{laptop_row.id}/end")  # signing out this device
        assert here.status_code == 303 and here.headers["location"] == "/signin"
        assert any(c.startswith("session=;") or c.startswith('session="";') for c in here.headers.get_list("set-cookie"))
        assert await _sessions_of(db, user.id) == []


async def test_sign_out_all_others_keeps_this_one(app, db, member_factory):
    user = await member_factory("attending")
    browsers = [_browser(app, agent) for agent in (FIREFOX_MAC, CHROME_ANDROID, SAFARI_IPHONE)]
    try:
        for browser in browsers:
            await _sign_in(browser, user.email)
        response = await browsers[0].post_form("/account/sessions/others/end")
        assert response.status_code == 303
        assert "2 other sessions are signed out" in (await browsers[0].get("/account/sessions")).text
        assert [(await b.get("/account")).status_code for b in browsers] == [200, 303, 303]
        assert [r.device for r in await _sessions_of(db, user.id)] == ["Firefox on macOS"]
    finally:
        for browser in browsers:
            await browser.aclose()


async def test_no_one_can_end_another_members_session(app, db, member_factory, login):
    owner, other = await member_factory("resident"), await member_factory("resident")
    async with _browser(app, FIREFOX_MAC) as browser:
        await _sign_in(browser, owner.email)
        (row,) = await _sessions_of(db, owner.id)
        intruder = await login(other)
        response = await intruder.post_form(f"/account/sessions/{row.id}/end")
        assert response.status_code == 404
        assert (await browser.get("/account")).status_code == 200
        for bad in ("abc", "٣", "99999999999999999999999"):
            assert (await intruder.post_form(f"/account/sessions/{bad}/end")).status_code == 404
        # Without the CSRF token, nothing is signed out.
        assert (await intruder.post(f"/account/sessions/{row.id}/end")).status_code == 403


async def test_staff_sessions_last_twelve_hours_and_members_thirty_days(app, db, member_factory):
    moderator, resident = await member_factory("moderator"), await member_factory("resident")
    async with _browser(app, FIREFOX_MAC) as staff_browser, _browser(app, FIREFOX_MAC) as member_browser:
        staff_cookie = (await _sign_in(staff_browser, moderator.email)).headers.get_list("set-cookie")
        member_cookie = (await _sign_in(member_browser, resident.email)).headers.get_list("set-cookie")
    (staff,), (member,) = await _sessions_of(db, moderator.id), await _sessions_of(db, resident.id)
    assert staff.idle_minutes == 30 and member.idle_minutes is None
    assert abs((staff.expires_at - staff.created_at) - timedelta(hours=12)) < timedelta(minutes=1)
    assert abs((member.expires_at - member.created_at) - timedelta(days=30)) < timedelta(minutes=1)
    assert any(c.startswith("session=") and "Max-Age=43200" in c for c in staff_cookie)
    assert any(c.startswith("session=") and f"Max-Age={30 * 86400}" in c for c in member_cookie)


async def _age_session(db, session_id: int, minutes: int) -> None:
    async with db.transaction() as session:
        await session.execute(text("UPDATE sessions SET last_seen_at = now() - make_interval(mins => :m) "
                                   "WHERE id = :id"), {"m": minutes, "id": session_id})


async def _factor_checked(db, session_id: int) -> None:
    """What passing the second factor after the password does to a staff session (tests/accounts/test_factors.py
    covers the step itself): without it, every staff page sends them to set up or check a factor."""
    async with db.transaction() as session:
        await session.execute(text("UPDATE sessions SET factor_at = now(), factor_pending = false WHERE id = :id"),
                              {"id": session_id})


async def test_a_staff_session_ends_after_thirty_idle_minutes(app, db, member_factory):
    admin = await member_factory("admin")
    async with _browser(app, FIREFOX_MAC) as browser:
        await _sign_in(browser, admin.email)
        (row,) = await _sessions_of(db, admin.id)
        await _factor_checked(db, row.id)
        await _age_session(db, row.id, 29)
        assert (await browser.get("/account")).status_code == 200  # 29 minutes idle: still signed in...
        (touched,) = await _sessions_of(db, admin.id)
        assert touched.last_seen_at > datetime.now(UTC) - timedelta(minutes=5)  # ...and the request was recorded
        await _age_session(db, row.id, 31)
        response = await browser.get("/account")
        assert response.status_code == 303 and response.headers["location"].startswith("/signin")
        # The ended session is not listed either.
    async with db.transaction() as session:
        assert await accounts.list_sessions(session, accounts.to_viewer(admin)) == []


async def test_a_members_session_has_no_idle_limit(app, db, member_factory):
    resident = await member_factory("resident")
    async with _browser(app, FIREFOX_MAC) as browser:
        await _sign_in(browser, resident.email)
        (row,) = await _sessions_of(db, resident.id)
        await _age_session(db, row.id, 60 * 24 * 3)
        assert (await browser.get("/account")).status_code == 200


async def test_last_seen_is_written_at_most_every_few_minutes(app, db, member_factory):
    resident = await member_factory("resident")
    async with _browser(app, FIREFOX_MAC) as browser:
        await _sign_in(browser, resident.email)
        (row,) = await _sessions_of(db, resident.id)
        await _age_session(db, row.id, 1)
        (before,) = await _sessions_of(db, resident.id)
        assert (await browser.get("/account")).status_code == 200
        (after,) = await _sessions_of(db, resident.id)
        assert after.last_seen_at == before.last_seen_at  # a minute old: not written again
        await _age_session(db, row.id, int(accounts.SEEN_EVERY.total_seconds() // 60) + 1)
        (stale,) = await _sessions_of(db, resident.id)
        assert (await browser.get("/account")).status_code == 200
        (fresh,) = await _sessions_of(db, resident.id)
        assert fresh.last_seen_at > stale.last_seen_at


async def test_a_member_chooses_a_shorter_session(app, db, member_factory):
    resident = await member_factory("resident")
    async with _browser(app, FIREFOX_MAC) as browser, _browser(app, SAFARI_IPHONE) as later:
        await _sign_in(browser, resident.email)
        page = await browser.get("/account/sessions")
        assert "30 days" in page.text
        for bad in ("25", "abc", "٣", "-8", "8.0"):
            response = await browser.post_form("/account/sessions/length", {"hours": bad})
            assert response.status_code == 400 and "Choose one of the lengths" in response.text
        for bad in ("x" * 5000, "8\x00"):  # refused by the form parser first, with its own message
            assert (await browser.post_form("/account/sessions/length", {"hours": bad})).status_code == 400
        response = await browser.post_form("/account/sessions/length", {"hours": "24"})
        assert response.status_code == 303
        (row,) = await _sessions_of(db, resident.id)
        assert row.expires_at - row.created_at <= timedelta(hours=24, seconds=1)  # the open session is shortened
        cookie = (await _sign_in(later, resident.email)).headers.get_list("set-cookie")
        assert any(c.startswith("session=") and "Max-Age=86400" in c for c in cookie)
        assert (await browser.post_form("/account/sessions/length", {"hours": ""})).status_code == 303
    async with db.transaction() as session:
        assert (await session.get(User, resident.id)).session_hours is None


async def test_a_promotion_to_moderator_takes_the_staff_limits_at_once(app, db, member_factory, settings):
    admin, resident = await member_factory("admin"), await member_factory("resident")
    async with _browser(app, FIREFOX_MAC) as browser:
        await _sign_in(browser, resident.email)
        async with db.transaction() as session:
            await accounts.change_role(session, accounts.to_viewer(admin), resident.id, "moderator",
                                       "Joins the moderators.", settings=settings)
        (row,) = await _sessions_of(db, resident.id)
        assert row.idle_minutes == 30 and row.expires_at - row.created_at <= timedelta(hours=12, seconds=1)


async def test_host_prefixed_cookies_under_https(settings, db, member_factory):
    app = create_app(settings.with_(base_url="https://community.example.org"), db=db)
    user = await member_factory("resident")
    async with _browser(app, FIREFOX_MAC, "https://community.example.org") as browser:
        first = await browser.get("/signin")
        csrf_cookie = next(c for c in first.headers.get_list("set-cookie") if c.startswith("__Host-csrf="))
        token = browser.cookies.get("__Host-csrf")
        response = await browser.post("/signin", data={"email": user.email, "password": PASSWORD,
                                                       "csrf_token": token})
        assert response.status_code == 303
        session_cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("__Host-session="))
        for cookie in (csrf_cookie, session_cookie):
            assert "; Secure" in cookie and "; Path=/" in cookie and "domain=" not in cookie.lower()
        assert not any(re.match(r"(session|csrf)=", c) for c in response.headers.get_list("set-cookie"))
        assert (await browser.get("/account")).status_code == 200
        # An unprefixed cookie (as a sibling subdomain or plain HTTP could set) is not a session here...
        stolen = browser.cookies.get("__Host-session")
    async with Client(transport=httpx.ASGITransport(app=app), base_url="https://community.example.org") as other:
        other.cookies.set("session", stolen)
        assert (await other.get("/account")).status_code == 303
        # ...nor an unprefixed CSRF cookie a token.
        other.cookies.set("__Host-session", stolen)
        other.cookies.set("csrf", "chosen-by-the-attacker")
        refused = await other.post("/account/sessions/others/end", data={"csrf_token": "chosen-by-the-attacker"})
        assert refused.status_code == 403


async def test_plain_cookie_names_over_http(client, member_factory):
    user = await member_factory("resident")
    response = await client.post_form("/signin", {"email": user.email, "password": PASSWORD})
    names = [c.split("=", 1)[0] for c in response.headers.get_list("set-cookie")]
    assert "session" in names and not any(n.startswith("__Host-") for n in names)
