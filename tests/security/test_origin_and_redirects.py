"""Two defences kept from the audit: a WebSocket from a foreign Origin is refused (every socket route the router
has, on a live server), and no redirect leaves the site, whatever `next=` or any other parameter says.

Redirect parameters are found, not listed: every GET route is asked with a marker in each candidate name, and
every POST form the pages render (with real credentials for sign-in) with a marker in each of its fields; those
whose Location carries the marker are then sent every open-redirect payload. A Location is resolved as a browser
would (backslashes are slashes, tabs and newlines are dropped) and must stay on our host.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urljoin, urlsplit

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.conftest import PASSWORD
from tests.security.forms import query_names
from tests.security.routes import concrete, discover
from tests.security.world import fill, isolated

MARKER = "/xyzzy-redirect-marker"
CANDIDATES = ["next", "to", "url", "return", "return_to", "back", "redirect", "continue", "dest", "link"]
# Open-redirect payloads (the public lists' families): protocol-relative, schemes, backslashes, encoded
# slashes, whitespace a browser strips, userinfo and look-alike hosts, and scripts.
PAYLOADS = [
    "//evil.example.org", "//evil.example.org/", "https://evil.example.org", "http://evil.example.org/path",
    "https:evil.example.org", "/\\evil.example.org", "\\\\evil.example.org", "\\/evil.example.org",
    "/%2F%2Fevil.example.org", "%2F%2Fevil.example.org", "/%5Cevil.example.org", "///evil.example.org",
    "/\t/evil.example.org", "/\n/evil.example.org", " //evil.example.org", "//evil.example.org%2F@testserver",
    "http://testserver@evil.example.org", "//testserver.evil.example.org", "//evil%E3%80%82example.org",
    "javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "/%09/evil.example.org",
    "//%65vil.example.org", "https://evil.example.org#@testserver/", "/signin?next=//evil.example.org",
]


def lands_off_site(location: str, base: str) -> bool:
    """Where a browser would go: backslashes read as slashes, tabs and newlines dropped, then resolved."""
    cleaned = location.replace("\\", "/").translate({9: None, 10: None, 13: None}).strip()
    target = urlsplit(urljoin(base, cleaned))
    return target.scheme not in ("http", "https") or target.netloc != urlsplit(base).netloc


async def _redirect_parameters(secured) -> list[tuple[str, str, str, dict[str, str]]]:
    """(method, concrete path, parameter name, the other fields) for each place a redirect target is taken."""
    world, db, found = secured.world, secured.db, secured.found
    names = sorted(set(CANDIDATES) | {n for n in query_names() if n in CANDIDATES})
    resident = world.viewers["resident"]
    honoured = []
    for endpoint in secured.endpoints:
        path = concrete(endpoint, world.ids)
        for role in ("anonymous", "resident"):
            client = world.clients[role]
            if endpoint.method == "GET":
                response = await isolated(db, client, client.get(path, params={n: MARKER for n in names}))
                location = response.headers.get("location", "")
                honoured += [("GET", path, n, {}) for n in names if MARKER in location and
                             (await isolated(db, client, client.get(path, params={n: MARKER}))).headers.get(
                                 "location", "").startswith(MARKER)]
        if endpoint.method != "POST":
            continue
        fields = found.fields(endpoint)
        if endpoint.path == "/signin":
            fields.update(email=resident.email, password=PASSWORD)
        for name in [n for n in fields if n in CANDIDATES or fields[n].startswith("/")]:
            client = world.clients["anonymous"] if endpoint.path == "/signin" else world.writers["writer"]
            response = await isolated(db, client, client.post_form(path, {**fields, name: MARKER}))
            if response.headers.get("location", "").startswith(MARKER):
                honoured.append(("POST", path, name, fields))
    return sorted({(m, p, n, tuple(sorted(f.items()))) for m, p, n, f in honoured})


async def test_no_redirect_leaves_the_site(secured):
    world, db = secured.world, secured.db
    places = await _redirect_parameters(secured)
    # Sign-in's `next` is found both ways (a signed-in visitor is sent on at once; a sign-in lands there).
    assert ("GET", "/signin", "next") in {p[:3] for p in places}
    assert ("POST", "/signin", "next") in {p[:3] for p in places}
    left = []
    for method, path, name, fields in places:
        for payload in PAYLOADS:
            for role in ("anonymous", "resident"):
                client = world.clients[role] if method == "GET" else world.clients["anonymous"]
                request = (client.get(path, params={name: payload}) if method == "GET"
                           else client.post_form(path, {**dict(fields), name: payload}))
                try:
                    response = await isolated(db, client, request)
                except httpx.InvalidURL as exc:  # the client could not even follow the Location it was given
                    left.append((method, path, name, payload, str(exc)))
                    continue
                location = response.headers.get("location")
                if location is not None and lands_off_site(location, "http://testserver" + path):
                    left.append((method, path, name, payload, location))
                if "refresh" in response.headers:
                    left.append((method, path, name, payload, "Refresh: " + response.headers["refresh"]))
    assert not left, left


async def test_paths_that_look_like_other_sites_stay_here(secured):
    """The path itself as the payload: a 404 or a trailing-slash redirect, and the way to sign in, stay here."""
    client = secured.world.clients["anonymous"]
    left = []
    for path in ["//evil.example.org/", "//evil.example.org/c/", "/\\evil.example.org/", "/%2F%2Fevil.example.org/",
                 "/c/", "/reflections/", "///evil.example.org/rooms/", "/%5C%5Cevil.example.org/"]:
        for c in (client, secured.world.clients["resident"]):
            response = await isolated(secured.db, c, c.get(path))
            location = response.headers.get("location")
            if location is not None and lands_off_site(location, "http://testserver/"):
                left.append((path, location))
    assert not left, left


def test_the_check_sees_an_off_site_location():
    """The check itself: what a browser would treat as another site is caught."""
    base = "http://testserver/signin"
    for location in ("//evil.example.org", "/\\evil.example.org", "https://evil.example.org", "/\t/evil.example.org",
                     "javascript:alert(1)", "\\\\evil.example.org"):
        assert lands_off_site(location, base), location
    for location in ("/", "/t/1", "/signin?next=%2F%2Fevil.example.org", "http://testserver/c"):
        assert not lands_off_site(location, base), location


async def _closed(ws, within: float = 5):
    """The close frame the server sent, or None if the socket was let in and stayed open."""
    try:
        async with asyncio.timeout(within):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd
    except TimeoutError:
        await ws.close()
        return None


async def test_every_socket_refuses_a_foreign_origin(rooms_env, app):
    server = rooms_env.server()
    member = await rooms_env.member()
    room = await rooms_env.room_id()
    await rooms_env.join(server, member, room)
    sockets = [e for e in discover(app) if e.method == "WS"]
    assert sockets, "the router has no WebSocket route any more: this test should go with it"
    port = server.url.rsplit(":", 1)[1]
    foreign = ["http://evil.example.org", "null", f"http://127.0.0.1:{port}.evil.example.org",
               f"http://127.0.0.1:{int(port) + 1}", f"https://127.0.0.1:{port}", f"http://localhost:{port}",
               "http://127.0.0.1", f"http://evil.example.org:{port}"]
    refused = []
    for endpoint in sockets:
        url = server.url.replace("http://", "ws://") + fill(endpoint.path, {"room_id": room})
        for origin in foreign:
            try:
                ws = await connect(url, additional_headers={"Origin": origin, "Cookie": member.cookie},
                                   open_timeout=10, close_timeout=2)
            except InvalidStatus as exc:  # refused at the handshake: also a refusal
                refused.append((origin, exc.response.status_code))
                continue
            closed = await _closed(ws)
            refused.append((origin, closed.code if closed else "let in"))
    assert all(code in (1008, 403) for _, code in refused), refused
    assert len(refused) == len(foreign) * len(sockets)
    # The control: our own origin is let in.
    ours = await rooms_env.ws(server, member, room)
    assert ours.welcome["type"] == "welcome"
