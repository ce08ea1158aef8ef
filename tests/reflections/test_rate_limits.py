"""Posting rate limits on reflections and replies: 429 with Retry-After and the draft kept, counted without linking
anonymous writing to its writer; private journal entries only have a generous ceiling."""

from __future__ import annotations

import re

from sqlalchemy import func, select, text

from community.reflections.models import Reflection, ReflectionReply
from tests.reflections.conftest import write


def _assert_429(response, *, limit: int, what: str, kept: str) -> None:
    assert response.status_code == 429, response.text[:1000]
    assert 1 <= int(response.headers["retry-after"]) <= 61
    assert f"at most {limit} {what} a minute" in response.text
    wait = re.search(r"try again in (\d+) seconds", response.text)
    assert wait and 1 <= int(wait.group(1)) <= 61
    assert kept in response.text  # the draft is back in the form


async def _compose(client, body: str, visibility: str, **extra):
    return await client.post_form("/reflections/new", {"title": "", "body": body, "visibility": visibility,
                                                      "prompt_id": "", "theme": "", "intent": "publish", **extra})


async def _autosave(client, payload):
    return await client.post("/reflections/drafts", json=payload,
                             headers={"X-CSRF-Token": client.cookies.get("csrf")})


async def test_sharing_reflections_is_rate_limited_and_the_draft_is_kept(member_factory, login_with, db):
    author = await member_factory("attending")
    me = await login_with(author, posts_per_minute=2)
    # Named and anonymous pieces count together (by author_id and by the anonymous tag, both already stored).
    await write(me, body="Under my name.", visibility="named")
    await write(me, body="Without my name.", visibility="anonymous")
    response = await _compose(me, "My precious third reflection, anonymous.", "anonymous")
    _assert_429(response, limit=2, what="shared reflections", kept="My precious third reflection, anonymous.")
    assert "saved as a draft" in response.text
    # The autosave is never limited, so nothing typed after the refusal is lost either.
    for n in range(10):
        saved = await _autosave(me, {"slot": "new", "body": f"My precious third reflection, take {n}.",
                                     "visibility": "anonymous"})
        assert saved.status_code == 200 and saved.json()["saved"] is True
    page = await me.get("/reflections/new")
    assert "My precious third reflection, take 9." in page.text and "is restored below" in page.text
    async with db.transaction() as session:
        refused = await session.scalar(select(func.count()).select_from(Reflection).where(
            Reflection.body.like("My precious%")))
        # No anonymous row gained a member id, and no table holds new rows about the refused attempt.
        linked = await session.scalar(select(func.count()).select_from(Reflection).where(
            Reflection.visibility == "anonymous", Reflection.author_id.is_not(None)))
    assert refused == 0 and linked == 0


async def test_publishing_a_private_piece_counts_and_withdrawing_never_does(member_factory, login_with):
    me = await login_with(await member_factory(), posts_per_minute=2)
    first = await write(me, body="Shared one.", visibility="anonymous")
    await write(me, body="Shared two.", visibility="named")
    private = await write(me, body="Kept for myself, for now.", visibility="private")
    response = await me.post_form(f"/reflections/{private}/visibility", {"visibility": "anonymous"})
    _assert_429(response, limit=2, what="shared reflections", kept="Kept for myself, for now.")
    # Taking a piece off the wall is never refused.
    withdrawn = await me.post_form(f"/reflections/{first}/visibility", {"visibility": "private"})
    assert withdrawn.status_code == 303


async def test_edits_of_a_shared_reflection_are_limited_with_the_draft_kept(member_factory, login_with):
    me = await login_with(await member_factory(), posts_per_minute=2)
    rid = await write(me, body="First version.", visibility="anonymous")
    for n in (2, 3):
        response = await me.post_form(f"/reflections/{rid}/edit", {
            "title": "", "body": f"Version {n}.", "visibility": "anonymous", "intent": "publish"})
        assert response.status_code == 303, response.text[:1000]
    response = await me.post_form(f"/reflections/{rid}/edit", {
        "title": "", "body": "Version four, carefully worded.", "visibility": "anonymous", "intent": "publish"})
    _assert_429(response, limit=2, what="edits of shared reflections", kept="Version four, carefully worded.")
    page = await me.get(f"/reflections/{rid}/edit")
    assert "Version four, carefully worded." in page.text and "is restored below" in page.text
    # Making it private is still possible at once: withdrawing is never limited.
    response = await me.post_form(f"/reflections/{rid}/edit", {
        "title": "", "body": "Version four, carefully worded.", "visibility": "private", "intent": "publish"})
    assert response.status_code == 303


async def test_private_journal_entries_are_not_throttled_at_normal_use(member_factory, login_with):
    me = await login_with(await member_factory(), posts_per_minute=2)
    await write(me, body="Shared one.", visibility="anonymous")
    await write(me, body="Shared two.", visibility="anonymous")
    assert (await _compose(me, "Shared three.", "anonymous")).status_code == 429
    # At the sharing limit, a night of private writing goes on: entries and edits, one after another.
    ids = [await write(me, body=f"3 a.m., entry {n}.", visibility="private") for n in range(12)]
    for n, rid in enumerate(ids[:6]):
        response = await me.post_form(f"/reflections/{rid}/edit", {
            "title": "", "body": f"3 a.m., entry {n}, rewritten.", "visibility": "private", "intent": "publish"})
        assert response.status_code == 303, response.text[:1000]


async def test_private_entries_have_only_an_abuse_ceiling(member_factory, login_with):
    me = await login_with(await member_factory(), posts_per_minute=1, journal_entries_per_minute=4)
    for n in range(4):
        await write(me, body=f"Entry {n}.", visibility="private")
    response = await _compose(me, "A fifth entry in the same minute.", "private")
    _assert_429(response, limit=4, what="private journal entries", kept="A fifth entry in the same minute.")
    page = await me.get("/reflections/new")
    assert "A fifth entry in the same minute." in page.text


async def _reply(client, rid: int, body: str, anonymous: bool = True):
    return await client.post_form(f"/reflections/{rid}/replies", {"body": body,
                                                                   **({"anonymous": "yes"} if anonymous else {})})


async def test_replies_are_rate_limited_and_the_draft_is_kept(member_factory, login, login_with, db):
    author = await login(await member_factory())
    rid = await write(author, body="A hard night on the wards.", visibility="anonymous")
    replier = await member_factory("attending")
    me = await login_with(replier, posts_per_minute=2)
    # Anonymous (counted by the reply tag) and named (by member id) replies count together.
    assert (await _reply(me, rid, "You are not alone.")).status_code == 303
    assert (await _reply(me, rid, "Signed: same here.", anonymous=False)).status_code == 303
    response = await _reply(me, rid, "A third, carefully written reply.")
    _assert_429(response, limit=2, what="replies", kept="A third, carefully written reply.")
    async with db.transaction() as session:
        rows = list(await session.scalars(select(ReflectionReply).where(ReflectionReply.reflection_id == rid)))
        columns = set((await session.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'reflection_replies'"))).scalars())
    assert len(rows) == 2
    anonymous = [r for r in rows if r.anonymous]
    assert len(anonymous) == 1 and anonymous[0].author_id is None and anonymous[0].author_tag
    assert "member_id" not in columns and "user_id" not in columns


async def test_reply_edits_are_rate_limited_and_the_draft_is_kept(member_factory, login, login_with):
    author = await login(await member_factory())
    rid = await write(author, body="A hard night on the wards.", visibility="anonymous")
    me = await login_with(await member_factory(), posts_per_minute=2)
    response = await _reply(me, rid, "First words.")
    reply_id = int(re.search(r"#reply-(\d+)", response.headers["location"]).group(1))
    for n in (2, 3):
        edited = await me.post_form(f"/reflections/replies/{reply_id}/edit", {"body": f"Words, take {n}."})
        assert edited.status_code == 303, edited.text[:1000]
    # Saving the same text again is not an edit, and is not counted.
    assert (await me.post_form(f"/reflections/replies/{reply_id}/edit", {"body": "Words, take 3."})).status_code == 303
    response = await me.post_form(f"/reflections/replies/{reply_id}/edit", {"body": "Words, take four: the best."})
    _assert_429(response, limit=2, what="reply edits", kept="Words, take four: the best.")
