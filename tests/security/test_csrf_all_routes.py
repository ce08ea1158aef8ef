"""CSRF on every POST route the router has (discovered, so a route added later is covered without a line here):
a forged post, with a valid session but no CSRF token, a wrong one, or the right one from a cross-site Origin or
Referer, is refused with 403 and changes nothing in the database.

The forged posts carry the fields a real one would (read from the forms the pages render, text filled in), sent
as the member who owns the objects (the writer: their posts and reflections) and as an admin.
"""

from __future__ import annotations

from sqlalchemy import text

from community.platform.web.middleware import TOKEN_AUTHORIZED_PREFIXES
from tests.security.routes import concrete, post_routes
from tests.security.world import rolled_back

EVIL = "https://evil.example.org"
FILLER = {"email": "forged@example.org", "number": "3", "password": "a forged but long password",
          "datetime-local": "2030-01-01T10:00", "date": "2030-01-01", "url": "https://evil.example.org/"}


def forged_fields(fields: dict[str, str], kinds: dict[str, str]) -> dict[str, str]:
    """What the attacker's page would post: the form's own values, every empty text field filled in."""
    return {name: value or FILLER.get(kinds.get(name, "text"), "Forged words from another site.")
            for name, value in fields.items()}


async def fingerprint(db) -> str:
    """One hash of every row of every table: equal before and after means nothing changed."""
    async with db.transaction() as session:
        tables = [name for (name,) in await session.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"))]
        parts = " UNION ALL ".join(
            f"SELECT '{t}' AS t, (SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM \"{t}\" x)"
            " AS h" for t in tables)
        return await session.scalar(text(f"SELECT md5(string_agg(t || h, ',' ORDER BY t)) FROM ({parts}) s"))


def forgeries(token: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(what, extra form fields, headers) for each way a cross-site page might try."""
    return [
        ("no token", {}, {}),
        ("a wrong token", {"csrf_token": "x" * len(token)}, {}),
        ("an empty token", {"csrf_token": ""}, {}),
        ("the right token from a cross-site Origin", {"csrf_token": token}, {"origin": EVIL}),
        ("the right token, Origin null", {"csrf_token": token}, {"origin": "null"}),
        ("the right token, cross-site Referer", {"csrf_token": token}, {"referer": EVIL + "/page"}),
        ("a wrong header token", {}, {"x-csrf-token": "y" * len(token)}),
    ]


async def test_every_post_route_refuses_a_forged_post_and_changes_nothing(secured):
    world, db, found = secured.world, secured.db, secured.found
    posts = post_routes(secured.app)
    exempt = [e for e in posts if e.path.startswith(TOKEN_AUTHORIZED_PREFIXES)]
    # One-click unsubscribe (RFC 8058) is the one exemption: its signed token is the whole authority.
    assert [e.path for e in exempt] == ["/unsubscribe/{token}"]
    accepted = []
    changed = []
    tried = 0
    for endpoint in posts:
        if endpoint in exempt:
            continue
        path = concrete(endpoint, world.ids)
        async with rolled_back(db):  # a forged post that got through must not change the world of later tests
            before = await fingerprint(db)
            tried += await _forge(world, found, endpoint, path, accepted)
            if await fingerprint(db) != before:
                changed.append(endpoint.path)
    assert not accepted, accepted
    assert not changed, f"forged posts changed the database: {changed}"
    assert tried >= len(posts) * 10
    # The forms were found: most POST routes have one on some page (the rest are buttons or JSON endpoints).
    assert len(found.forms) >= len(posts) * 0.6, sorted(e.path for e in posts if e not in found.forms)


async def test_the_same_post_with_the_token_does_change_things(secured):
    """The control: the fingerprint sees a change, and a forged post would have acted had it passed."""
    world, db = secured.world, secured.db
    writer = world.writers["writer"]
    async with rolled_back(db):
        before = await fingerprint(db)
        response = await writer.post_form(f"/t/{world.ids['thread_id']}/reply", {"body": "A real reply."},
                                          headers={"origin": "http://testserver"})
        assert response.status_code == 303
        assert await fingerprint(db) != before


async def _forge(world, found, endpoint, path: str, accepted: list) -> int:
    """Every forgery of one route, as the writer and as an admin; what was not refused goes to `accepted`."""
    fields: dict[str, str] = {}
    for form in found.forms.get(endpoint, []):
        fields.update(forged_fields(form.fields, form.kinds))
    fields.pop("csrf_token", None)
    tried = 0
    for who in ("writer", "admin"):
        client = world.writers[who] if who == "writer" else world.clients[who]
        token = await client.ensure_csrf()
        for what, extra, headers in forgeries(token):
            response = await client.post(path, data={**fields, **extra}, headers=headers)
            tried += 1
            if response.status_code != 403 or "another site" not in response.text:
                accepted.append((endpoint.path, who, what, response.status_code))
    return tried
