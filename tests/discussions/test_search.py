"""Search: ranked, highlighted, escaped, and blind to what the searcher may not see."""

from tests.discussions.conftest import post_ids, start_thread


async def test_search_ranks_and_highlights_safely(resident, attending, login):
    a, b = await login(resident), await login(attending)
    await start_thread(a, "Chaplain shadowing", "Shadowing the chaplain changed how I sit with families. <b>bold?</b>")
    await start_thread(a, "Unrelated", "Coffee and sleep, mostly, and one chaplain mention.")
    page = await b.get("/search?q=chaplain")
    assert page.status_code == 200
    assert page.text.index("Shadowing") < page.text.index("Unrelated")
    assert "<mark>chaplain</mark>" in page.text.lower() or "<mark>Chaplain</mark>" in page.text
    assert "<b>bold" not in page.text
    assert (await b.get("/search?q=" + "x" * 300)).status_code == 400
    assert (await b.get("/search?q=%FF%00")).status_code == 200
    assert (await b.get("/search?q=&page=abc")).status_code == 200


async def test_hidden_and_removed_never_found_by_others(resident, attending, moderator, login, db):
    a, b, mod = await login(resident), await login(attending), await login(moderator)
    hidden_thread, _ = await start_thread(a, "Zebrafish hidden title", "zebrafish body one")
    removed_thread, _ = await start_thread(a, "Platypus title", "platypus body two")
    for thread_id, action in ((hidden_thread, "hide"), (removed_thread, "remove")):
        post_id = (await post_ids(db, thread_id))[0]
        response = await mod.post_form(f"/review/post/{post_id}/decide", {"action": action, "reason": "test"})
        assert response.status_code == 303
    for word in ("zebrafish", "platypus"):
        assert "Nothing found" in (await b.get(f"/search?q={word}")).text
    found = await mod.get("/search?q=zebrafish")
    assert "<mark>Zebrafish</mark> hidden title" in found.text
