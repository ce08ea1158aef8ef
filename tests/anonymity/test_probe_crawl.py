"""The anonymity probe: as each role, crawl every page a seeded community serves, and look for the writers of its
anonymous pieces.

The community has signed threads and replies interleaved with anonymous reflections and replies, written by
residents, an attending and a moderator (staff write anonymously too). One anonymous writer also writes signed
threads. The anonymous rows get a distinctive exact time. Then a resident, an attending, a moderator and an
admin, none of them a writer, each follow every same-site link from their start pages (GET only, bounded), and
on every page:
- a page that shows an anonymous piece names none of its writers (name, handle, email, profile or member-page
  link), unless it also shows that writer's signed writing, which is theirs to show;
- no tag (the keyed values the app files anonymous rows under) appears anywhere;
- the anonymous rows' exact time (minute and second) appears nowhere;
- nothing answers 500.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

from sqlalchemy import text

from tests.discussions.conftest import reply_to, start_thread
from tests.reflections.conftest import write

HREF = re.compile(r'href="([^"#]+)')
PAGE_LIMIT = 300
SHAPE_LIMIT = 3
# Pages about a reflection or a reply are always followed, whatever their shape's count.
ANON_PAGE = re.compile(r"/reflection(s|_reply)?/\d+(/[a-z-]+)?$")
# Followed from every start page, but never: signing out, static files, downloads of the member's own data, or
# the one-time links' pages.
SKIP = ("/static/", "/signout", "/link/", "/join/", "/account/data/export")
START = ["/", "/reflections", "/journal", "/notifications", "/prompts", "/rooms", "/review", "/admin",
         "/admin/members", "/admin/audit", "/admin/unmask", "/account"]
# A moment no seeded signed row has: the anonymous rows are moved to it.
ANON_MOMENT = datetime(2026, 11, 17, 13, 37, 42, tzinfo=UTC)


def _marks(member) -> list[str]:
    return [member.display_name, f"@{member.handle}", member.email, f"/u/{member.handle}",
            f"/admin/members/{member.id}\"", f"/members/{member.id}\""]


async def _seed(member_factory, login, db):
    people = {
        "w1": await member_factory("resident", name="Wren Alderney"),
        "w2": await member_factory("attending", name="Ollie Brackwater"),
        "w3": await member_factory("moderator", name="Maren Coldharbour"),
        "s1": await member_factory("resident", name="Signe Dunmore"),
        "s2": await member_factory("attending", name="Tobiah Eastleigh"),
    }
    clients = {key: await login(member) for key, member in people.items()}
    anon: dict[str, list[str]] = {"w1": [], "w2": [], "w3": []}
    signed: dict[str, list[str]] = {"w1": [], "w2": [], "w3": []}
    pieces = {}
    for key in anon:
        marker = f"quillmark {key} alone after the code"
        pieces[key] = await write(clients[key], title=f"Night {key}", body=f"I keep thinking about it, {marker}.",
                                  visibility="anonymous", theme="hidden-curriculum")
        anon[key].append(marker)
    # Signed threads, one of them by an anonymous writer, with replies interleaved.
    thread, _ = await start_thread(clients["s1"], title="Debriefing after a hard night",
                                   body="What helps you after a death on your service? signedmark s1")
    await reply_to(clients["s2"], thread, body="Walking home slowly helps me. signedmark s2")
    own, _ = await start_thread(clients["w1"], title="Sleep after nights",
                                body="How do you all sleep after a run of nights? signedmark w1")
    signed["w1"].append("signedmark w1")
    await reply_to(clients["s1"], own, body="Blackout curtains. signedmark s1 again")
    # Anonymous replies across the anonymous pieces.
    for writer, target in (("w1", "w2"), ("w2", "w3"), ("w3", "w1")):
        marker = f"replymark {writer} you are not alone"
        response = await clients[writer].post_form(f"/reflections/{pieces[target]}/replies",
                                                   {"body": f"Thank you for writing this; {marker}.",
                                                    "anonymous": "yes"})
        assert response.status_code == 303, response.text[:500]
        anon[writer].append(marker)
    await clients["s2"].post_form(f"/reflections/{pieces['w1']}/replies", {"body": "Signed, I hear you. signedmark s2b"})
    for key in anon:
        await clients["s1"].post_form(f"/reflections/{pieces[key]}/react", {"kind": "thanks"})
    for key in ("w1", "w2"):  # w2's is decided below; w1's stays in the queue
        await clients["s1"].post_form(f"/flag/reflection/{pieces[key]}", {"reason": "concern", "note": "Worried."})
    async with db.transaction() as session:
        await session.execute(text("UPDATE reflections SET created_at = :at WHERE visibility = 'anonymous'"),
                              {"at": ANON_MOMENT})
        await session.execute(text("UPDATE reflection_replies SET created_at = :at WHERE anonymous"),
                              {"at": ANON_MOMENT})
    return people, anon, signed, pieces


async def _staff_actions(member_factory, login, pieces):
    moderator = await member_factory("moderator", name="Probe Moderator")
    admin = await member_factory("admin", name="Probe Admin")
    mod = await login(moderator)
    assert (await mod.post_form(f"/review/reflection/{pieces['w2']}/decide",
                                {"action": "check_in", "reason": "Thinking of you tonight."})).status_code == 303
    assert (await mod.post_form(f"/review/reflection/{pieces['w3']}/decide",
                                {"action": "warn", "reason": "Please keep to the guidelines."})).status_code == 303
    adm = await login(admin)
    assert (await adm.post_form(f"/reflections/unmask/reflection/{pieces['w1']}", {
        "reason": "A credible threat to a patient was reported and must be followed up."})).status_code == 303
    return moderator, admin


async def _tags(db) -> set[str]:
    async with db.transaction() as session:
        rows = await session.execute(text(
            "SELECT author_tag FROM reflections UNION SELECT author_tag FROM reflection_replies "
            "UNION SELECT reactor_tag FROM reflection_reactions UNION SELECT recipient_tag FROM notifications"))
        return {tag for (tag,) in rows if tag}


def _shape(path: str) -> str:
    """/prompts/12/edit and /prompts/13/edit have one shape: a few of each are enough."""
    return re.sub(r"\d+", "N", path.split("?")[0]) + ("?" + re.sub(r"=[^&]*", "=", path.split("?")[1])
                                                      if "?" in path else "")


async def _crawl(client, extra: list[str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    shapes: dict[str, int] = {}
    queue = deque(START + extra)
    while queue and len(seen) < PAGE_LIMIT:
        path = queue.popleft()
        if path in seen or any(path.startswith(skip) for skip in SKIP):
            continue
        shape = _shape(path)
        if shapes.get(shape, 0) >= SHAPE_LIMIT and not ANON_PAGE.search(path):
            continue
        shapes[shape] = shapes.get(shape, 0) + 1
        response = await client.get(path)
        assert response.status_code < 500, (path, response.status_code)
        seen[path] = response.text if "html" in response.headers.get("content-type", "") or \
            "json" in response.headers.get("content-type", "") else ""
        for href in HREF.findall(seen[path]):
            href = href.replace("&amp;", "&")
            target = urlsplit(urljoin(path, href))
            if target.netloc or not target.path.startswith("/"):
                continue
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return seen


async def test_no_role_finds_a_writer_tag_or_exact_time_on_any_page(member_factory, login, db):
    people, anon, signed, pieces = await _seed(member_factory, login, db)
    moderator, admin = await _staff_actions(member_factory, login, pieces)
    tags = await _tags(db)
    async with db.transaction() as session:
        replies = list(await session.scalars(text("SELECT id FROM reflection_replies")))
    extra = [f"/review/reflection/{rid}" for rid in pieces.values()] + [f"/review/reflection_reply/{r}" for r in replies]
    assert len(tags) >= 6
    exact = [ANON_MOMENT.strftime("%H:%M"), ANON_MOMENT.isoformat(timespec="minutes")[:16], "13:37:42"]
    probes = {"resident": await member_factory("resident", name="Probe Resident"),
              "attending": await member_factory("attending", name="Probe Attending"),
              "moderator": moderator, "admin": admin}
    crawled = 0
    for role, member in probes.items():
        pages = await _crawl(await login(member), extra)
        crawled += len(pages)
        assert any(anon["w1"][0] in body for body in pages.values()), role  # the crawl reaches the pieces
        for path, body in pages.items():
            for tag in tags:
                assert tag not in body, (role, path, "a tag")
            for moment in exact:
                assert moment not in body, (role, path, moment)
            for key, markers in anon.items():
                if not any(marker in body for marker in markers):
                    continue
                if any(marker in body for marker in signed[key]):
                    continue  # the writer's signed writing is on this page too: their name is theirs to show
                for mark in _marks(people[key]):
                    assert mark not in body, (role, path, key, mark)
    assert crawled > 100
