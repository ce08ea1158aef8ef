"""The route × role matrix: every route the router has is in tests/security/routes.py's table, and each role
(anonymous visitor, resident, attending, moderator, admin) gets exactly the status written there.

The objects behind the paths are written by other members (tests/security/world.py), so a 200 where the table
says 403 or 404 is a role reaching what it should not. Each request runs in a savepoint rolled back after it.
"""

from __future__ import annotations

from tests.security.routes import TABLE, concrete, discover
from tests.security.world import ROLES, isolated, outcome

NOT_REQUESTED = ("WS", "MOUNT")


def _line(method: str, path: str, statuses) -> str:
    return f"{method:5} {path:58} " + "  ".join(s.ljust(3) for s in statuses)


def test_every_route_is_in_the_table(app):
    discovered = set(discover(app))
    missing = [e for e in discover(app) if e not in TABLE]
    stale = [e for e in TABLE if e not in discovered]
    assert not missing, ("These routes are not in the route table. Add a line for each to TABLE_TEXT in "
                         "tests/security/routes.py (method, path, then the status for "
                         f"{', '.join(ROLES)}), and a seeded object in tests/security/world.py for a new path "
                         "parameter:\n" + "\n".join(_line(e.method, e.path, ["?"] * len(ROLES)) for e in missing))
    assert not stale, "These lines of tests/security/routes.py name routes the app no longer has: remove them:\n" + \
        "\n".join(f"{e.method} {e.path}" for e in stale)


async def test_each_role_gets_the_status_the_table_writes_down(secured):
    world, db = secured.world, secured.db
    wrong = []
    requested = 0
    for endpoint in secured.endpoints:
        if endpoint.method in NOT_REQUESTED:
            continue
        path = concrete(endpoint, world.ids)
        got = []
        for role in ROLES:
            client = world.clients[role]
            if endpoint.method == "GET":
                response = await isolated(db, client, client.get(path))
            else:
                response = await isolated(db, client, client.post_form(path, {}))
            got.append(outcome(response))
            requested += 1
        if tuple(got) != TABLE.get(endpoint):
            wrong.append(f"written: {_line(endpoint.method, endpoint.path, TABLE.get(endpoint, ['?'] * 5))}\n"
                         f"got:     {_line(endpoint.method, endpoint.path, got)}  ({path})")
    assert not wrong, "Statuses differ from tests/security/routes.py (columns: " + ", ".join(ROLES) + \
        "). If the new behaviour is meant, change the table; if a role now reaches what it should not, fix the " \
        "route:\n" + "\n".join(wrong)
    assert requested > 500
