"""Every route of this pillar for every role: signed out, resident, attending, moderator, admin."""

import pytest
from sqlalchemy import select

from community.discussions.models import Category
from tests.discussions.conftest import post_ids, start_thread

ROLES = ("anon", "resident", "attending", "moderator", "admin")
MEMBER = {"anon": "signin", "resident": 200, "attending": 200, "moderator": 200, "admin": 200}
STAFF = {"anon": "signin", "resident": 403, "attending": 403, "moderator": 200, "admin": 200}
ADMIN = {"anon": "signin", "resident": 403, "attending": 403, "moderator": 403, "admin": 200}

GETS = [
    ("/c", MEMBER), ("/c/introductions", MEMBER), ("/c/introductions/new", MEMBER), ("/t/{thread}", MEMBER),
    ("/t/{thread}/reply", MEMBER), ("/t/{thread}/unread", {**MEMBER, "resident": 303, "attending": 303,
                                                           "moderator": 303, "admin": 303}),
    ("/p/{post}", {**MEMBER, "resident": 303, "attending": 303, "moderator": 303, "admin": 303}),
    ("/p/{post}/edit", {**MEMBER, "attending": 403, "moderator": 403, "admin": 403}),
    ("/p/{post}/delete", {**MEMBER, "attending": 403, "moderator": 403, "admin": 403}),
    ("/p/{post}/history", {**STAFF, "resident": 200}),
    ("/search?q=calm", MEMBER), ("/notifications", MEMBER),
    ("/flag/post/{post}", {**MEMBER, "resident": 200}),
    ("/review", STAFF), ("/review/post/{post}", STAFF),
    ("/admin/categories", ADMIN), ("/admin/categories/{category}", ADMIN),
    # Moderator tools (issue 19): moderators use the watched words and the audit log in their scope; the site's
    # settings (new-member approval) and members are admins'.
    ("/admin/watched-words", STAFF), ("/admin/audit", STAFF), ("/admin/settings", ADMIN), ("/admin/members", ADMIN),
    ("/drafts", MEMBER),
]
POSTS = [
    ("/admin/categories", {"name": "New place", "description": "d"}, {**ADMIN, "admin": 303}),
    ("/admin/categories/{category}", {"name": "Renamed", "description": "d"}, {**ADMIN, "admin": 303}),
    ("/admin/categories/{category}/move", {"direction": "down"}, {**ADMIN, "admin": 303}),
    ("/admin/categories/{category}/archive", {"archive": "yes"}, {**ADMIN, "admin": 303}),
    ("/admin/watched-words", {"phrase": "zzz", "action": "flag"}, {**STAFF, "moderator": 303, "admin": 303}),
    ("/admin/watched-words", {"phrase": "zzb", "action": "block"}, {**STAFF, "moderator": 400, "admin": 303}),
    ("/admin/watched-words/test", {"sample": "zzz"}, STAFF),
    ("/admin/settings", {"posts": "0", "reason": "matrix"}, {**ADMIN, "admin": 303}),
    ("/review/post/{post}/decide", {"action": "pin"}, {**STAFF, "moderator": 303, "admin": 303}),
    ("/t/{thread}/watch", {"level": "watch"}, {k: (303 if k != "anon" else "signin") for k in ROLES}),
    ("/p/{post}/react", {"kind": "thanks"}, {**MEMBER, "resident": 400, "attending": 303, "moderator": 303,
                                             "admin": 303}),
    ("/flag/post/{post}", {"reason": "spam"}, {**MEMBER, "resident": 400, "attending": 303, "moderator": 303,
                                               "admin": 303}),
    ("/t/{thread}/reply", {"body": "Reply"}, {k: (303 if k != "anon" else "signin") for k in ROLES}),
    ("/c/introductions/new", {"title": "T", "body": "B"}, {k: (303 if k != "anon" else "signin") for k in ROLES}),
    ("/notifications/read", {}, {k: (303 if k != "anon" else "signin") for k in ROLES}),
]


@pytest.fixture
async def world(member_factory, login, make_client, db):
    users = {role: await member_factory(role) for role in ROLES if role != "anon"}
    clients = {role: await login(user) for role, user in users.items()}
    clients["anon"] = make_client()
    await clients["anon"].ensure_csrf()
    thread_id, _ = await start_thread(clients["resident"], "Permissions", "Matrix body")
    async with db.transaction() as session:
        category = await session.scalar(select(Category.id).where(Category.slug == "role-models"))
    ids = {"thread": thread_id, "post": (await post_ids(db, thread_id))[0], "category": category}
    return clients, ids


def _check(response, expected, role, url):
    if expected == "signin":
        assert response.status_code == 303 and response.headers["location"].startswith("/signin"), (role, url)
    else:
        assert response.status_code == expected, (role, url, response.status_code)


@pytest.mark.parametrize("role", ROLES)
async def test_get_routes(world, role):
    clients, ids = world
    for url, expected in GETS:
        url = url.format(**ids)
        _check(await clients[role].get(url), expected[role], role, url)


@pytest.mark.parametrize("role", ROLES)
async def test_post_routes(world, role):
    clients, ids = world
    for url, data, expected in POSTS:
        url = url.format(**ids)
        _check(await clients[role].post_form(url, data), expected[role], role, url)


async def test_claim_route_is_staff_only(world, db):
    from community.platform.review import items as review

    clients, ids = world
    async with db.transaction() as session:
        item = await review.open_item(session, target_kind="post", target_id=ids["post"], reason="spam",
                                      source="flag")
    for role, expected in STAFF.items():
        _check(await clients[role].post_form(f"/review/items/{item.id}/claim"),
               303 if expected == 200 else expected, role, "claim")
