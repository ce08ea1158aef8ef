"""Sign-in, sign-out, session rotation and revocation, throttling, password change and reset links."""

from sqlalchemy import func, select

from community.platform.accounts import actions as accounts
from community.platform.accounts.models import Session
from tests.conftest import PASSWORD, enrol_totp


async def sign_in_form(client, email, password=PASSWORD, **extra):
    return await client.post_form("/signin", {"email": email, "password": password, **extra})


async def test_sign_in_and_out(client, member_factory):
    user = await member_factory("resident")
    response = await sign_in_form(client, user.email.upper())
    assert response.status_code == 303
    cookie = response.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookie if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Secure" not in session_cookie  # BASE_URL is http in tests
    assert (await client.get("/account")).status_code == 200
    out = await client.post_form("/signout")
    assert out.status_code == 303
    assert (await client.get("/account")).status_code == 303


async def test_secure_cookie_when_https(settings, db, member_factory):
    import httpx

    from community.app import create_app
    from tests.conftest import Client

    app = create_app(settings.with_(base_url="https://community.example.org"), db=db)
    user = await member_factory("resident")
    async with Client(transport=httpx.ASGITransport(app=app), base_url="https://community.example.org") as c:
        response = await sign_in_form(c, user.email)
        assert response.status_code == 303
        assert any("Secure" in h for h in response.headers.get_list("set-cookie") if h.startswith("__Host-session="))
        assert "strict-transport-security" in response.headers


async def test_session_rotated_on_sign_in(client, db, member_factory):
    user = await member_factory("resident")
    await sign_in_form(client, user.email)
    first = client.cookies.get("session")
    await sign_in_form(client, user.email)
    second = client.cookies.get("session")
    assert first and second and first != second
    async with db.transaction() as session:
        count = await session.scalar(select(func.count()).select_from(Session).where(Session.user_id == user.id))
    assert count == 1  # the old session was replaced, not kept


async def test_wrong_password_message(client, member_factory):
    user = await member_factory("resident")
    response = await sign_in_form(client, user.email, "wrong password entirely")
    assert response.status_code == 400
    assert "do not match" in response.text
    assert f'value="{user.email}"' in response.text


async def test_throttled_per_account(client, member_factory, settings):
    user = await member_factory("resident")
    for _ in range(settings.login_max_failures):
        assert (await sign_in_form(client, user.email, "not the password")).status_code == 400
    response = await sign_in_form(client, user.email)  # even the right password waits, from a failing client
    assert response.status_code == 429
    assert "try again in" in response.text.lower()
    assert "seconds" in response.text
    assert int(response.headers["retry-after"]) > 0


async def test_throttled_per_client(client, member_factory, settings):
    limit = settings.login_max_failures * accounts.CLIENT_FAILURE_FACTOR
    for n in range(limit):
        response = await sign_in_form(client, f"nobody{n}@example.org", "not the password")
        assert response.status_code == 400
    user = await member_factory("resident")
    response = await sign_in_form(client, user.email)
    assert response.status_code == 429


async def test_suspended_member_cannot_sign_in_and_is_signed_out(client, db, member_factory, login):
    admin = await member_factory("admin")
    user = await member_factory("resident")
    member_client = await login(user)
    assert (await member_client.get("/account")).status_code == 200
    admin_client = await login(admin)
    response = await admin_client.post_form(f"/admin/members/{user.id}/suspend",
                                            {"reason": "Repeated harassment", "days": "7"})
    assert response.status_code == 303
    # Revoked at once: the existing session no longer works.
    assert (await member_client.get("/account")).status_code == 303
    refused = await sign_in_form(client, user.email)
    assert refused.status_code == 403
    assert "suspended" in refused.text and "Repeated harassment" in refused.text
    await admin_client.post_form(f"/admin/members/{user.id}/unsuspend", {"reason": "Appeal accepted"})
    assert (await sign_in_form(client, user.email)).status_code == 303


async def test_password_change_revokes_other_sessions(db, member_factory, login, make_client):
    user = await member_factory("resident")
    phone = await login(user)
    laptop = make_client()
    await sign_in_form(laptop, user.email)
    new = "a different long password for tests"
    bad = await laptop.post_form("/account/password", {"current": "wrong", "new": new, "confirm": new})
    assert bad.status_code == 400 and "not correct" in bad.text
    mismatch = await laptop.post_form("/account/password", {"current": PASSWORD, "new": new, "confirm": new + "x"})
    assert mismatch.status_code == 400 and "do not match" in mismatch.text
    ok = await laptop.post_form("/account/password", {"current": PASSWORD, "new": new, "confirm": new})
    assert ok.status_code == 303
    assert (await laptop.get("/account")).status_code == 200  # this browser got a fresh session
    assert (await phone.get("/account")).status_code == 303   # the other one was revoked
    fresh = make_client()
    assert (await sign_in_form(fresh, user.email, new)).status_code == 303


async def test_admin_reset_link(db, member_factory, login, make_client):
    admin = await member_factory("admin")
    user = await member_factory("resident")
    admin_client = await login(admin)
    response = await admin_client.post_form(f"/admin/members/{user.id}/reset-link")
    assert response.status_code == 200
    link = response.text.split("http://testserver/link/", 1)[1].split("<", 1)[0]
    visitor = make_client()
    assert (await visitor.get(f"/link/{link}")).status_code == 200
    new = "my brand new long password"
    weak = await visitor.post_form(f"/link/{link}", {"new": "short", "confirm": "short"})
    assert weak.status_code == 400
    done = await visitor.post_form(f"/link/{link}", {"new": new, "confirm": new})
    assert done.status_code == 303
    assert (await visitor.get("/account")).status_code == 200
    again = await make_client().get(f"/link/{link}")
    assert again.status_code == 400  # single use


async def test_first_admin_setup_link(db, make_client):
    async with db.transaction() as session:
        admin, created = await accounts.ensure_admin(session)
        assert created
        token = await accounts.create_link(session, None, admin.id, "setup")
        _, again = await accounts.ensure_admin(session)
        assert again is False
    c = make_client()
    page = await c.get(f"/link/{token}")
    assert page.status_code == 200 and "Welcome" in page.text
    pw = "the first admin password"
    assert (await c.post_form(f"/link/{token}", {"new": pw, "confirm": pw})).status_code == 303
    # An admin reaches nothing before setting up a second factor (web.factor_guard), then everything.
    sent = await c.get("/admin/invitations")
    assert sent.status_code == 303 and sent.headers["location"] == "/account/security?next=/admin/invitations"
    await enrol_totp(c)
    assert (await c.get("/admin/invitations")).status_code == 200


async def test_open_redirect_refused(client, member_factory):
    user = await member_factory("resident")
    response = await sign_in_form(client, user.email, next="//evil.example.org/")
    assert response.headers["location"] == "/"
    response = await sign_in_form(client, user.email, next="https://evil.example.org/")
    assert response.headers["location"] == "/"


async def test_profile_update_and_validation(member_factory, login):
    user = await member_factory("resident")
    c = await login(user)
    ok = await c.post_form("/account", {"display_name": "Dr Sam", "specialty": "Pediatrics",
                                        "training_year": "PGY-2", "pronouns": "they/them",
                                        "timezone": "America/Chicago"})
    assert ok.status_code == 303
    page = await c.get("/account")
    assert "Pediatrics" in page.text and "they/them" in page.text
    bad = await c.post_form("/account", {"display_name": "", "training_year": "PGY-9", "timezone": "Mars/Base",
                                         "specialty": "x" * 81})
    assert bad.status_code == 400
    for message in ("display name", "PGY-1 to PGY-7", "time zone", "at most 80"):
        assert message in bad.text


async def test_the_usual_sign_in_addresses_lead_to_the_sign_in_page(client):
    for path in ("/login", "/sign-in", "/log-in"):
        response = await client.get(path + "?next=/journal")
        assert response.status_code == 301 and response.headers["location"] == "/signin?next=/journal", path
    assert (await client.get("/login")).headers["location"] == "/signin"
