"""Who may use which reflection route: every role (and a signed-out visitor) on every route."""

from __future__ import annotations

import pytest

from tests.reflections.conftest import write

ROLES = ("visitor", "resident", "attending", "moderator", "admin")


@pytest.fixture
async def world(member_factory, login, any_prompt):
    owner = await member_factory()
    me = await login(owner)
    shared = await write(me, body="Shared piece.", visibility="anonymous")
    replied = await me.post_form(f"/reflections/{shared}/replies", {"body": "The owner's own reply."})
    return {
        "shared": shared,
        "private": await write(me, body="Private piece."),
        "prompt": any_prompt.id,
        "reply": int(replied.headers["location"].rsplit("#reply-", 1)[1]),
    }


async def _client(role, member_factory, login, make_client):
    if role == "visitor":
        client = make_client()
        await client.ensure_csrf()
        return client
    return await login(await member_factory(role))


def _expect(rule, role):
    return rule[role] if isinstance(rule, dict) else rule


SIGNIN = 303
GET_MATRIX = [
    # path template, {role: status}
    ("/reflections", {"visitor": SIGNIN, "resident": 200, "attending": 200, "moderator": 200, "admin": 200}),
    ("/reflections/new", {"visitor": SIGNIN, "resident": 200, "attending": 200, "moderator": 200, "admin": 200}),
    ("/reflections/{shared}", {"visitor": SIGNIN, "resident": 200, "attending": 200, "moderator": 200, "admin": 200}),
    ("/reflections/{private}", {"visitor": SIGNIN, "resident": 404, "attending": 404, "moderator": 404, "admin": 404}),
    ("/reflections/{shared}/edit", {"visitor": SIGNIN, "resident": 404, "attending": 404, "moderator": 404,
                                    "admin": 404}),
    ("/reflections/{shared}/delete", {"visitor": SIGNIN, "resident": 404, "attending": 404, "moderator": 404,
                                      "admin": 404}),
    ("/reflections/replies/{reply}/edit", {"visitor": SIGNIN, "resident": 404, "attending": 404,
                                           "moderator": 404, "admin": 404}),
    ("/journal", {"visitor": SIGNIN, "resident": 200, "attending": 200, "moderator": 200, "admin": 200}),
    ("/prompts", {"visitor": SIGNIN, "resident": 200, "attending": 200, "moderator": 200, "admin": 200}),
    ("/prompts/new", {"visitor": SIGNIN, "resident": 403, "attending": 403, "moderator": 200, "admin": 200}),
    ("/prompts/{prompt}/edit", {"visitor": SIGNIN, "resident": 403, "attending": 403, "moderator": 200,
                                "admin": 200}),
    ("/reflections/unmask/reflection/{shared}", {"visitor": SIGNIN, "resident": 403, "attending": 403,
                                                 "moderator": 403, "admin": 200}),
    ("/admin/unmask", {"visitor": SIGNIN, "resident": 403, "attending": 403, "moderator": 403, "admin": 200}),
    ("/account/data", {"visitor": SIGNIN, "resident": 200, "attending": 200, "moderator": 200, "admin": 200}),
    ("/account/data/export.json", {"visitor": SIGNIN, "resident": 200, "attending": 200, "moderator": 200,
                                   "admin": 200}),
    ("/account/data/export.zip", {"visitor": SIGNIN, "resident": 200, "attending": 200, "moderator": 200,
                                  "admin": 200}),
]
POST_MATRIX = [
    ("/reflections/new", {"body": "Hello.", "visibility": "private"},
     {"visitor": SIGNIN, "resident": 303, "attending": 303, "moderator": 303, "admin": 303}),
    ("/reflections/{shared}/replies", {"body": "Kind words."},
     {"visitor": SIGNIN, "resident": 303, "attending": 303, "moderator": 303, "admin": 303}),
    ("/reflections/{private}/replies", {"body": "Kind words."},
     {"visitor": SIGNIN, "resident": 404, "attending": 404, "moderator": 404, "admin": 404}),
    ("/reflections/{shared}/react", {"kind": "thanks"},
     {"visitor": SIGNIN, "resident": 303, "attending": 303, "moderator": 303, "admin": 303}),
    ("/reflections/{shared}/visibility", {"visibility": "private"},
     {"visitor": SIGNIN, "resident": 404, "attending": 404, "moderator": 404, "admin": 404}),
    ("/reflections/{shared}/delete", {},
     {"visitor": SIGNIN, "resident": 404, "attending": 404, "moderator": 404, "admin": 404}),
    ("/reflections/replies/{reply}/edit", {"body": "Someone else's words."},
     {"visitor": SIGNIN, "resident": 404, "attending": 404, "moderator": 404, "admin": 404}),
    ("/reflections/replies/{reply}/delete", {},
     {"visitor": SIGNIN, "resident": 404, "attending": 404, "moderator": 404, "admin": 404}),
    ("/reflections/moderate/reflection/{shared}/check-in", {"message": "Checking in."},
     {"visitor": SIGNIN, "resident": 403, "attending": 403, "moderator": 303, "admin": 303}),
    ("/reflections/moderate/reflection/{private}/decide", {"decision": "hide", "reason": "x"},
     {"visitor": SIGNIN, "resident": 403, "attending": 403, "moderator": 400, "admin": 400}),
    ("/prompts/{prompt}/pin", {},
     {"visitor": SIGNIN, "resident": 403, "attending": 403, "moderator": 403, "admin": 303}),
    ("/prompts/new", {"theme": "time", "title": "T", "text": "Q?", "minutes": "2"},
     {"visitor": SIGNIN, "resident": 403, "attending": 403, "moderator": 303, "admin": 303}),
]


@pytest.mark.parametrize("role", ROLES)
async def test_get_routes(role, world, member_factory, login, make_client):
    client = await _client(role, member_factory, login, make_client)
    for template, rule in GET_MATRIX:
        path = template.format(**world)
        response = await client.get(path)
        assert response.status_code == _expect(rule, role), (role, path, response.status_code)
        if response.status_code == SIGNIN and role == "visitor":
            assert response.headers["location"].startswith("/signin")


@pytest.mark.parametrize("role", ROLES)
async def test_post_routes(role, world, member_factory, login, make_client):
    client = await _client(role, member_factory, login, make_client)
    for template, data, rule in POST_MATRIX:
        path = template.format(**world)
        response = await client.post_form(path, data)
        expected = _expect(rule, role)
        if expected == 400 and response.status_code == 404:
            expected = 404  # private writing does not exist for moderators
        assert response.status_code == expected, (role, path, response.status_code, response.text[:300])


async def test_post_without_csrf_token_is_refused(member_factory, login, world):
    client = await login(await member_factory())
    response = await client.post("/reflections/new", data={"body": "x", "visibility": "private"})
    assert response.status_code == 403
