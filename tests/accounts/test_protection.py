"""CSRF, security headers, body limits, error pages, and bad input in every form."""

import pytest

from tests.conftest import PASSWORD


async def test_cross_site_form_post_refused(client, member_factory):
    user = await member_factory("resident")
    await client.ensure_csrf()
    token = client.cookies.get("csrf")
    response = await client.post("/signin", data={"email": user.email, "password": PASSWORD, "csrf_token": token},
                                 headers={"origin": "https://evil.example.org"})
    assert response.status_code == 403
    assert "another site" in response.text


async def test_post_without_token_refused(client, member_factory):
    user = await member_factory("resident")
    await client.ensure_csrf()
    response = await client.post("/signin", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    wrong = await client.post("/signin", data={"email": user.email, "password": PASSWORD, "csrf_token": "nope"})
    assert wrong.status_code == 403


async def test_post_without_cookie_refused(app, member_factory):
    import httpx

    user = await member_factory("resident")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        response = await c.post("/signin", data={"email": user.email, "password": PASSWORD, "csrf_token": "x"})
    assert response.status_code == 403


async def test_same_origin_post_accepted(client, member_factory):
    user = await member_factory("resident")
    await client.ensure_csrf()
    response = await client.post("/signin", data={"email": user.email, "password": PASSWORD,
                                                  "csrf_token": client.cookies.get("csrf")},
                                 headers={"origin": "http://testserver"})
    assert response.status_code == 303


async def test_security_headers(client):
    response = await client.get("/signin")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src", 1)[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"]
    assert response.headers["x-request-id"]


async def test_no_inline_script_in_pages(client):
    for path in ("/", "/signin", "/guidelines", "/resources"):
        html = (await client.get(path)).text
        assert "<script>" not in html and "onclick=" not in html


async def test_body_over_one_megabyte_is_413(client):
    await client.ensure_csrf()
    response = await client.post("/signin", content=b"a=" + b"x" * (1024 * 1024 + 10),
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert "larger than 1 MB" in response.text


@pytest.mark.parametrize(("limit", "words"), [(1024 * 1024, "1 MB"), (512 * 1024, "512 KB"),
                                              (1_500_000, "1.4 MB"), (3 * 1024 * 1024, "3 MB")])
def test_the_too_large_page_names_the_configured_limit(limit, words):
    from community.platform.web.middleware import size_words

    assert size_words(limit) == words


async def test_chunked_body_over_limit_is_413(client):
    await client.ensure_csrf()

    async def chunks():
        for _ in range(20):
            yield b"x" * 65536

    response = await client.post("/signin", content=chunks(),
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


async def test_error_pages(client, member_factory, login):
    missing = await client.get("/no/such/page")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert "<main" in missing.text  # the full layout, with navigation
    user = await member_factory("resident")
    c = await login(user)
    forbidden = await c.get("/admin/members")
    assert forbidden.status_code == 403 and "Not allowed" in forbidden.text
    wrong_method = await client.get("/signout")
    assert wrong_method.status_code == 405


async def test_signed_out_redirects_to_sign_in(client):
    response = await client.get("/account")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin?next=/account")


async def test_malformed_cookie_header_is_harmless(client):
    response = await client.get("/", headers={"cookie": 'session="\\x00; ;; =; csrf'})
    assert response.status_code == 200


BAD_VALUES = {
    "empty": "",
    "too long": "x" * 5000,
    "nul": "abc\x00def",
}


@pytest.mark.parametrize("kind", list(BAD_VALUES))
async def test_bad_input_in_sign_in(client, kind):
    response = await client.post_form("/signin", {"email": BAD_VALUES[kind], "password": BAD_VALUES[kind]})
    assert response.status_code in (400, 429)
    assert "<form" in response.text


async def raw_post(client, url, body: bytes):
    await client.ensure_csrf()
    token = client.cookies.get("csrf").encode()
    return await client.post(url, content=b"csrf_token=" + token + b"&" + body,
                             headers={"content-type": "application/x-www-form-urlencoded"})


async def test_invalid_utf8_and_nul_in_forms(client, db, member_factory, login):
    from community.platform.accounts import actions as accounts

    async with db.transaction() as session:
        _, token = await accounts.create_invitation(session, None, role="resident")
    response = await raw_post(client, f"/join/{token}",
                              b"display_name=Dana%FF%FE&email=d%00ana@example.org&password=x&accept=yes")
    assert response.status_code == 400
    assert "not valid UTF-8" in response.text
    assert "NUL" in response.text
    user = await member_factory("resident")
    c = await login(user)
    response = await raw_post(c, "/account", b"display_name=%C3%28bad&timezone=UTC")
    assert response.status_code == 400 and "UTF-8" in response.text
    response = await raw_post(c, "/account/password", b"current=%FF&new=%00&confirm=")
    assert response.status_code == 400


async def test_wrong_types_in_admin_forms(member_factory, login):
    admin = await member_factory("admin")
    target = await member_factory("resident")
    c = await login(admin)
    response = await c.post_form(f"/admin/members/{target.id}/suspend", {"reason": "x", "days": "seven"})
    assert response.status_code == 400 and "whole number" in response.text
    response = await c.post_form(f"/admin/members/{target.id}/suspend", {"reason": "", "days": "3"})
    assert response.status_code == 400 and "reason" in response.text
    response = await c.post_form(f"/admin/members/{target.id}/role", {"role": "overlord", "reason": "x"})
    assert response.status_code == 400
    response = await c.post_form("/admin/members/999999/role", {"role": "resident", "reason": "x"})
    assert response.status_code == 404
    response = await c.get("/admin/audit?since=not-a-date&before=xyz")
    assert response.status_code == 200
    response = await c.get("/admin/members?offset=-5&q=" + "%" * 300)
    assert response.status_code == 200


async def test_forms_carry_the_csrf_token_of_the_cookie(client, member_factory, login):
    page = await client.get("/signin")
    token = client.cookies.get("csrf")
    assert token and f'name="csrf_token" value="{token}"' in page.text
    c = await login(await member_factory("admin"))
    for path in ("/account", "/account/password", "/admin/invitations"):
        html = (await c.get(path)).text
        assert f'name="csrf_token" value="{c.cookies.get("csrf")}"' in html, path
        assert 'name="csrf_token" value=""' not in html, path
