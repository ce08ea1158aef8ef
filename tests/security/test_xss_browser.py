"""The XSS corpus (tests/data/xss_corpus.txt) written through every writing surface of a real server, and the
pages that show it rendered in Debian's Chromium with the CSP bypassed: no script runs.

Surfaces: thread title and body, reply, edit, reflection (named and anonymous; title and body) and its edit,
reflection reply (named and anonymous) and its edit, room message (over the real WebSocket), profile fields (display name, specialty,
pronouns), a session's title, description, theme and ground rules, flag notes, moderation reasons (a warning, a
check-in), check-in replies, category name and description, a prompt, an invitation's cohort, an unmasking
reason, and the search box and sign-in `next` reflected in pages. Many vectors go in one piece (batches), so a
few dozen pages carry them all.

Every page is loaded in a context with `bypass_csp=True` (so only our escaping and sanitizing stand between a
vector and the browser) and an init script that records `alert`, `confirm`, `prompt` and `__xss.push` calls;
dialogs are recorded too. After load, the DOM is searched for what should never survive sanitizing (event
handler attributes, javascript: and data:text/html URLs, frames, objects, <base>, meta refresh, inline scripts
and styles), and template-injection probes must not evaluate ({{7*7777}} never becomes 54439).
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Error as PlaywrightError
from sqlalchemy import select, text
from websockets.asyncio.client import connect

from community.platform.accounts.models import Session
from community.platform.accounts.security import new_token, token_hash
from community.platform.db import Database
from community.platform.review.models import Checkin
from tests.browser.conftest import CHROMIUM_ARGS, browser, chromium_installed, playwright_instance  # noqa: F401  # noqa: F401  (fixtures, found by name)
from tests.conftest import Client, LiveServer, clone_database, create_member, free_port
from tests.rooms.conftest import recv, recv_until

pytestmark = pytest.mark.browser

CORPUS = Path(__file__).resolve().parents[1] / "data" / "xss_corpus.txt"
EVALUATED = "54439"  # 7*7777: a template-injection probe that ran

HOOK = """
window.__xss = [];
const record = (value) => { window.__xss.push(String(value)); };
window.alert = record; window.confirm = record; window.prompt = record;
window.print = () => record('print');
"""

# Everything sanitizing must remove, searched in the rendered DOM. The app's own pages have no inline script or
# style, no event-handler attribute and no frame (its CSP forbids them), so any of these came from a vector.
AUDIT = r"""
() => {
  const found = [];
  const urlAttrs = ['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster', 'background', 'srcset',
                    'codebase', 'cite', 'lowsrc', 'dynsrc', 'ping', 'to', 'values', 'from', 'by'];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      const tag = el.tagName.toLowerCase();
      for (const attr of el.attributes) {
        const name = attr.name.toLowerCase();
        const value = attr.value.replace(/[\u0000-\u0020\u00ad\u200b-\u200f\u2028\u2029\ufeff]/g, '').toLowerCase();
        if (name.startsWith('on')) found.push(`${tag}[${name}]`);
        if (name === 'style') found.push(`${tag}[style]`);
        if (name === 'srcdoc') found.push(`${tag}[srcdoc]`);
        if (urlAttrs.includes(name) && /^(javascript|vbscript|livescript|data:text\/html|data:image\/svg|data:application)/.test(value))
          found.push(`${tag}[${name}=${value.slice(0, 40)}]`);
      }
      if (['iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base', 'portal', 'link', 'style',
           'foreignobject', 'animate', 'set', 'handler', 'discard'].includes(tag) && !el.closest('head'))
        found.push(tag);
      if (tag === 'meta' && (el.getAttribute('http-equiv') || '').toLowerCase() === 'refresh') found.push('meta refresh');
      if (tag === 'script' && !(el.getAttribute('src') || '').startsWith('/static/')
          && el.type !== 'application/json') found.push('script ' + (el.getAttribute('src') || el.textContent.slice(0, 40)));
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return found;
}
"""


# The page shows the marker: as text, or as the value of a form field (an edit form's textarea).
SHOWS = """m => document.body.innerText.includes(m)
             || [...document.querySelectorAll('textarea, input')].some(e => e.value.includes(m))"""


def load_corpus() -> list[str]:
    vectors = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        vectors.append(line.replace("\\n", "\n").replace("$N", str(len(vectors) + 1)))
    return vectors


def batches(vectors: list[str], limit: int, label: str) -> list[str]:
    """Vectors joined into pieces of at most `limit` characters, each led by a marker word to find it by."""
    out: list[str] = []
    current: list[str] = []
    for vector in vectors:
        head = f"{label}{len(out)}mark"
        if current and len(head) + sum(len(v) + 2 for v in current) + len(vector) + 2 > limit:
            out.append("\n\n".join([head, *current]))
            current = []
        current.append(vector)
    if current:
        out.append("\n\n".join([f"{label}{len(out)}mark", *current]))
    return out


def titles(vectors: list[str], limit: int, every: int = 1) -> list[str]:
    """Short vectors packed into titles (one line each): a sample of every `every`-th vector."""
    out, current = [], ""
    for vector in vectors[::every]:
        vector = " ".join(vector.split())
        if len(vector) > limit:
            continue
        if current and len(current) + 1 + len(vector) > limit:
            out.append(current)
            current = ""
        current = f"{current} {vector}".strip()
    return [*out, current] if current else out


class Site:
    """A real server on a cloned database, members signed in by session rows, and their HTTP clients."""

    def __init__(self, server: LiveServer, db: Database) -> None:
        self.server = server
        self.db = db
        self.tokens: dict[str, str] = {}
        self.clients: dict[str, Client] = {}
        self.ids: dict[str, int] = {}

    async def member(self, key: str, role: str, name: str) -> Client:
        user = await create_member(self.db, role, name=name)
        token = new_token()
        async with self.db.transaction() as session:
            # The session has passed a second factor, as a moderator's or admin's must have (web.factor_guard).
            session.add(Session(token_hash=token_hash(token), user_id=user.id, factor_at=datetime.now(UTC),
                                expires_at=datetime.now(UTC) + timedelta(days=1)))
        client = Client(base_url=self.server.url, timeout=30)
        client.cookies.set("session", token)
        await client.ensure_csrf()
        self.tokens[key], self.clients[key] = token, client
        self.ids[f"{key}_id"] = user.id
        return client

    async def post(self, key: str, url: str, data: dict[str, str], expect=(303,)) -> str:
        response = await self.clients[key].post_form(url, data)
        assert response.status_code in expect, (url, response.status_code, response.text[:1500])
        location = response.headers.get("location", "")
        # A redirect to sign in or to the second-factor pages is a refusal, not the piece being written.
        assert not location.startswith(("/signin", "/account/security")), (url, location)
        return location

    async def sql(self, statement: str, **params):
        async with self.db.transaction() as session:
            return (await session.execute(text(statement), params)).scalar()


@pytest.fixture(scope="module")
async def site(database_urls, tmp_path_factory):
    port = free_port()
    url = await clone_database(database_urls, f"{database_urls['main'].rsplit('/', 1)[-1].split('?')[0][:-5]}"
                                              f"_xss{port}")
    server = LiveServer(url, port, tmp_path_factory.mktemp("xss"), extra_env={"POSTS_PER_MINUTE": "10000"})
    await asyncio.get_running_loop().run_in_executor(None, server.wait_ready)
    db = Database(url, pool_size=2)
    s = Site(server, db)
    try:
        yield s
    finally:
        for client in s.clients.values():
            await client.aclose()
        await db.dispose()
        server.stop()


async def _profiles(site: Site, names: list[str]) -> None:
    """Display name, specialty and pronouns of two members carry vectors (names are at most 60 characters)."""
    for key, name, (specialty, pronouns) in (("other", names[1], names[2:4]), ("writer", names[0], names[4:6])):
        await site.post(key, "/account", {"display_name": name, "specialty": specialty[:80], "pronouns": pronouns[:40],
                                          "training_year": "", "timezone": "UTC"})


async def _discussions(site: Site, body: list[str], heads: list[str]) -> None:
    location = await site.post("writer", "/c/introductions/new", {"title": heads[0], "body": body[0]})
    thread_id = int(re.search(r"/t/(\d+)", location).group(1))
    site.ids["thread_id"] = thread_id
    for piece in body[1:]:
        await site.post("other", f"/t/{thread_id}/reply", {"body": piece})
    for head in heads[1:]:
        await site.post("writer", "/c/introductions/new", {"title": head, "body": "xsstitlemark"})
    op = await site.sql("SELECT min(id) FROM posts WHERE thread_id = :t", t=thread_id)
    last = await site.sql("SELECT max(id) FROM posts WHERE thread_id = :t", t=thread_id)
    site.ids.update(op=op, reply=last)
    await site.post("writer", f"/p/{op}/edit", {"body": body[0].replace("mark", "mark edited", 1)})


async def _reflections(site: Site, body: list[str], heads: list[str], short: list[str]) -> None:
    half = len(body) // 2
    named = await site.post("writer", "/reflections/new", {"title": heads[0], "body": "\n\n".join(body[:half]),
                                                           "visibility": "named", "intent": "publish",
                                                           "prompt_id": "", "theme": ""})
    anonymous = await site.post("writer", "/reflections/new", {"title": heads[1 % len(heads)],
                                                               "body": "\n\n".join(body[half:]),
                                                               "visibility": "anonymous", "intent": "publish",
                                                               "prompt_id": "", "theme": ""})
    site.ids["named"] = int(re.search(r"/reflections/(\d+)", named).group(1))
    site.ids["anonymous"] = int(re.search(r"/reflections/(\d+)", anonymous).group(1))
    for n, piece in enumerate(short):
        extra = {"anonymous": "yes"} if n % 2 else {}
        await site.post("other", f"/reflections/{site.ids['named']}/replies", {"body": piece, **extra})
    # The edit surfaces: the anonymous reflection and the first reply, written again.
    await site.post("writer", f"/reflections/{site.ids['anonymous']}/edit", {
        "title": heads[1 % len(heads)], "body": "\n\n".join(body[half:]).replace("mark", "mark edited", 1),
        "visibility": "anonymous", "prompt_id": "", "theme": ""})
    first_reply = await site.sql("SELECT min(id) FROM reflection_replies WHERE reflection_id = :r", r=site.ids["named"])
    await site.post("other", f"/reflections/replies/{first_reply}/edit",
                    {"body": short[0].replace("mark", "mark edited", 1)})
    site.ids["half"] = half


async def _room_messages(site: Site, pieces: list[str], key: str = "writer") -> None:
    """A member joins the lounge and sends every piece over the real socket; each comes back as a message."""
    room = await site.sql("SELECT id FROM rooms WHERE slug = 'night-float-lounge'")
    site.ids["lounge"] = room
    await site.post(key, f"/rooms/{room}/join", {"accept": "1", "as": "name"})
    url = site.server.url.replace("http://", "ws://") + f"/rooms/{room}/ws"
    headers = {"Origin": site.server.url, "Cookie": f"session={site.tokens[key]}"}
    async with connect(url, additional_headers=headers, open_timeout=10) as ws:
        assert (await recv(ws))["type"] == "welcome"
        for n, piece in enumerate(pieces):
            await ws.send(json.dumps({"type": "send", "client_id": f"xss-{n}", "text": piece}))
            marker = piece.split("\n", 1)[0]
            await recv_until(ws, lambda f, m=marker: f.get("type") == "message" and m in f.get("html", ""))


async def _staff_surfaces(site: Site, notes: list[str], heads: list[str]) -> None:
    """Flags, moderation reasons, a check-in and its reply, a session, a category, a prompt, an invitation and an
    unmasking request."""
    op, reply = site.ids["op"], site.ids["reply"]
    await site.post("other", f"/flag/post/{op}", {"reason": "other", "note": notes[0]})
    await site.post("host", f"/flag/post/{op}", {"reason": "privacy", "note": notes[1 % len(notes)]})
    await site.post("mod", f"/review/post/{reply}/decide", {"action": "warn", "reason": notes[2 % len(notes)]})
    await site.post("mod", f"/review/post/{op}/decide", {"action": "check_in", "reason": notes[3 % len(notes)]})
    async with site.db.transaction() as session:
        site.ids["checkin"] = (await session.scalars(select(Checkin.id).order_by(Checkin.id.desc()))).first()
    await site.post("writer", f"/checkins/{site.ids['checkin']}/reply", {"body": notes[4 % len(notes)]})
    start = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    end = (datetime.now() + timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M")
    location = await site.post("host", "/rooms/new", {
        "title": heads[2 % len(heads)][:120], "description": notes[5 % len(notes)],
        "theme_prompt": heads[3 % len(heads)][:200], "starts_at": start, "ends_at": end, "capacity": "8",
        "allow_anonymous": "1", "ground_rules": notes[6 % len(notes)], "retention": "24"})
    site.ids["room"] = int(location.rsplit("/", 1)[1])
    await site.post("admin", "/admin/categories", {"name": heads[4 % len(heads)][:60],
                                                   "description": notes[7 % len(notes)][:300]})
    await site.post("mod", "/prompts/new", {"theme": "time", "title": heads[5 % len(heads)][:120],
                                            "text": notes[8 % len(notes)], "minutes": "5"})
    await site.post("admin", "/admin/invitations", {"role": "resident", "cohort": heads[6 % len(heads)][:60],
                                                    "days": "3"}, expect=(201, 303))
    location = await site.post("admin", f"/reflections/unmask/reflection/{site.ids['anonymous']}",
                               {"reason": "A credible threat was reported: " + notes[9 % len(notes)][:400]})
    site.ids["unmask"] = await site.sql("SELECT max(id) FROM unmask_requests")


def pages(site: Site, body: list[str], short: list[str], heads: list[str]) -> list[tuple[str, str, list[str]]]:
    """(who, path, markers the page must show) for every page that shows what was written."""
    ids = site.ids
    first = [b.split("\n", 1)[0] for b in body]
    return [
        ("writer", f"/t/{ids['thread_id']}", first),
        ("writer", f"/p/{ids['op']}/edit", [first[0]]),
        ("mod", f"/p/{ids['op']}/history", [first[0]]),
        ("writer", "/c/introductions", []),
        ("writer", "/", []),
        ("writer", f"/search?q={heads[0][:80]}", []),
        ("writer", "/search?q=xssbody0mark", [first[0]]),
        ("writer", "/reflections", []),
        ("writer", f"/reflections/{ids['named']}", ["xssreply0mark edited", *(s.split("\n", 1)[0] for s in short)]),
        ("writer", f"/reflections/{ids['anonymous']}", [f"xssbody{ids['half']}mark edited"]),
        ("writer", f"/reflections/{ids['named']}/edit", []),
        ("writer", "/journal", []),
        ("writer", "/notifications", []),
        ("other", "/notifications", []),
        ("writer", f"/checkins/{ids['checkin']}", ["xssnote"]),
        ("mod", f"/checkins/{ids['checkin']}", ["xssnote"]),
        ("writer", f"/rooms/{ids['lounge']}", ["xssroom"]),
        ("writer", "/rooms", []),
        ("writer", f"/rooms/{ids['room']}", ["xssnote"]),
        ("mod", "/review", []),
        ("mod", f"/review/post/{ids['op']}", ["xssnote"]),
        ("mod", f"/review/post/{ids['reply']}", []),
        ("writer", "/c", []),
        ("writer", "/prompts", []),
        ("admin", "/admin/members", []),
        ("admin", f"/admin/members/{ids['writer_id']}", []),
        ("admin", "/admin/categories", []),
        ("admin", "/admin/invitations", []),
        ("admin", "/admin/audit", []),
        ("admin2", f"/admin/unmask/{ids['unmask']}", ["xssnote"]),
        ("anonymous", f"/signin?next={heads[0][:100]}", []),
    ]


async def test_no_vector_runs_on_any_page(site, browser):  # noqa: F811  (the browser fixture)
    vectors = load_corpus()
    assert len(vectors) >= 300
    body = batches(vectors, 1900, "xssbody")          # thread posts, replies, reflections
    short = batches(vectors, 4900, "xssreply")        # reflection replies
    room = batches(vectors, 1950, "xssroom")          # room messages (2,000 at most)
    notes = batches(vectors, 990, "xssnote")          # flag notes, reasons, check-ins (1,000 at most)
    heads = titles(vectors, 120, every=3)
    names = titles([v for v in vectors if "onerror=" in v or "onload=" in v or "onfocus=" in v], 60)
    for key, role in (("writer", "resident"), ("other", "resident"), ("host", "attending"), ("mod", "moderator"),
                      ("admin", "admin"), ("admin2", "admin")):
        await site.member(key, role, f"Xss {key.title()}")
    await _profiles(site, names)
    await _discussions(site, body, heads)
    await _reflections(site, body, heads, short)
    await _room_messages(site, room)
    await _staff_surfaces(site, notes, heads)

    audit = Audit()
    contexts = {}
    for who in ("writer", "other", "mod", "admin", "admin2", "anonymous"):
        context = await browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        await context.add_init_script(HOOK)
        if who in site.tokens:
            await context.add_cookies([{"name": "session", "value": site.tokens[who], "url": site.server.url}])
        page = await context.new_page()
        page.on("dialog", lambda dialog, w=who: (audit.ran.append((w, "a dialog", dialog.message)),
                                                  asyncio.ensure_future(dialog.dismiss())))
        contexts[who] = (context, page)
    try:
        for who, path, markers in pages(site, body, short, heads):
            page = contexts[who][1]
            response = await page.goto(site.server.url + path, wait_until="load")
            assert response is not None and response.status < 400, (who, path, response and response.status)
            await audit.check(page, who, path, markers)
        # Live: with the writer's room page open, another member sends; room.js renders each frame as it comes.
        page = contexts["writer"][1]
        path = f"/rooms/{site.ids['lounge']}"
        await page.goto(site.server.url + path, wait_until="load")
        await page.wait_for_function("() => document.querySelector('#room-connection').dataset.state === 'live'")
        live = batches(vectors, 1950, "xsslive")
        await _room_messages(site, live, "other")
        await audit.check(page, "writer", path + " (live)", [piece.split("\n", 1)[0] for piece in live])
    finally:
        for context, _ in contexts.values():
            await context.close()
    assert not audit.ran, audit.ran
    assert not audit.survived, audit.survived
    assert not audit.missing, f"pages that should show the vectors did not: {audit.missing}"


class Audit:
    """What ran, what survived sanitizing, and which pages did not show what they should have."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, str, str]] = []
        self.survived: list[tuple[str, str, list[str]]] = []
        self.missing: list[tuple[str, str, str]] = []

    async def check(self, page, who: str, path: str, markers: list[str]) -> None:
        for marker in markers:
            try:
                await page.wait_for_function(SHOWS, arg=marker, timeout=10_000)
            except PlaywrightError:
                self.missing.append((who, path, marker))
        await page.wait_for_timeout(150)  # onerror, onbegin, ontoggle and autofocus fire just after load
        try:
            values, found, html = (await page.evaluate("window.__xss"), await page.evaluate(AUDIT),
                                   await page.content())
        except PlaywrightError as exc:  # a vector navigated the page away (meta refresh, location=...)
            self.ran.append((who, path, f"the page navigated away: {str(exc)[:120]}"))
            return
        if urlsplit(page.url).path != urlsplit(path).path.split(" ")[0]:
            self.ran.append((who, path, f"the page navigated to {page.url}"))
        self.ran.extend((who, path, str(value)) for value in values)
        if found:
            self.survived.append((who, path, sorted(set(found))[:12]))
        if EVALUATED in html:
            self.ran.append((who, path, "a template expression was evaluated"))
