"""The fast paths keep behaviour: cached post HTML follows every change and carries each browser's own CSRF
token; bounded search still finds older matches of rare words, and never hidden ones."""

import re

from community.discussions import search
from tests.discussions.conftest import post_ids, reply_to, start_thread


async def test_cached_posts_follow_changes_and_keep_each_csrf_token(resident, attending, login, db):
    a, b = await login(resident), await login(attending)
    thread_id, _ = await start_thread(a, "Cached thread", "The opening post, first version.")
    await reply_to(b, thread_id, "A reply from b.")
    first = (await b.get(f"/t/{thread_id}")).text
    assert "first version" in first
    # b's reaction forms carry b's own token, a's carry a's (the fragment is shared, the token is not).
    tokens_b = set(re.findall(r'name="csrf_token" value="([^"]+)"', first))
    assert tokens_b == {b.cookies.get("csrf")}
    page_a = (await a.get(f"/t/{thread_id}")).text
    assert set(re.findall(r'name="csrf_token" value="([^"]+)"', page_a)) == {a.cookies.get("csrf")}
    # A reaction shows at once, for the reactor (pressed) and for the author (count).
    opening = (await post_ids(db, thread_id))[0]
    assert (await b.post_form(f"/p/{opening}/react", {"kind": "thanks"})).status_code == 303
    after = (await b.get(f"/t/{thread_id}")).text
    assert 'aria-pressed="true"' in after
    assert "Thank you · 1" in (await a.get(f"/t/{thread_id}")).text
    # An edit shows at once.
    response = await a.post_form(f"/p/{opening}/edit", {"body": "The opening post, second version.",
                                                        "title": "Cached thread"})
    assert response.status_code == 303
    edited = (await b.get(f"/t/{thread_id}")).text
    assert "second version" in edited and "first version" not in edited


async def test_rare_words_are_found_beyond_the_window(resident, attending, moderator, login, db, monkeypatch):
    monkeypatch.setattr(search, "WINDOW", 1)
    monkeypatch.setattr(search, "CANDIDATES", 2)
    monkeypatch.setattr(search, "TITLE_CANDIDATES", 1)
    a, b, mod = await login(resident), await login(attending), await login(moderator)
    await start_thread(a, "An older piece", "The word quokka appears only here.")
    hidden, _ = await start_thread(a, "Hidden piece", "Another quokka, hidden by a moderator.")
    post_id = (await post_ids(db, hidden))[0]
    assert (await mod.post_form(f"/review/post/{post_id}/decide", {"action": "hide", "reason": "t"})).status_code == 303
    for n in range(3):
        await start_thread(a, f"Newer piece {n}", "Nothing special in here.")
    found = (await b.get("/search?q=quokka")).text
    assert "An older piece" in found
    assert "Hidden piece" not in found
    assert "Hidden piece" in (await mod.get("/search?q=quokka")).text


async def test_beyond_the_window_the_newest_older_matches_are_kept(resident, attending, login, monkeypatch):
    """Beyond the window, the newest CANDIDATES older matches are the ones ranked."""
    monkeypatch.setattr(search, "WINDOW", 1)
    monkeypatch.setattr(search, "CANDIDATES", 2)
    monkeypatch.setattr(search, "TITLE_CANDIDATES", 1)
    a, b = await login(resident), await login(attending)
    for n in range(4):
        await start_thread(a, f"Piece number {n}", f"A wombat story, part {n}.")
    await start_thread(a, "The newest piece", "Nothing special in here.")
    found = (await b.get("/search?q=wombat")).text
    # Titles match nothing ("wombat" is only in the bodies): the two newest of the four body matches are ranked.
    assert "Piece number 3" in found and "Piece number 2" in found
    assert "Piece number 1" not in found and "Piece number 0" not in found
