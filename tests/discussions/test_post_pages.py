"""The per-process cache of pages of posts (discussion_reads.PostPages) is never stale: every change that shows
on a thread page gives the thread a new content version (or the content epoch a new value) in the same
transaction, and a cached page is used only when the page statement finds the same pair in its own snapshot.

Each test views a page (filling the cache), checks that an unchanged page is served from the cache, then makes
one change by the app's own paths (or plain SQL, for the triggers) and checks the next view shows it.
"""

import pytest
from sqlalchemy import text

from community.discussions import reads
from community.platform.web import fragments
from tests.discussions.conftest import add_replies, post_ids, reply_to, start_thread


@pytest.fixture
def views(monkeypatch):
    """`await view(client, thread_id)` -> (html, served from the cache?)."""
    seen = []
    plain = reads.thread_page

    async def recording(*args, **kwargs):
        page = await plain(*args, **kwargs)
        seen.append(page)
        return page

    monkeypatch.setattr(reads, "thread_page", recording)

    async def view(client, thread_id, page=1):
        response = await client.get(f"/t/{thread_id}?page={page}")
        assert response.status_code == 200, response.text[:500]
        return response.text, not seen[-1].thread["stale"]
    return view


async def _cached(view, client, thread_id):
    """Views twice: the second view must come from the cache (so the next check tests a cached page)."""
    await view(client, thread_id)
    html, hit = await view(client, thread_id)
    assert hit
    return html


async def _version(db, thread_id):
    async with db.transaction() as session:
        return (await session.execute(text(
            "SELECT t.content_version, e.value FROM threads t, content_epoch e WHERE t.id = :id"),
            {"id": thread_id})).one()


async def test_unchanged_pages_come_from_the_cache_and_changes_show_at_once(resident, attending, login, db,
                                                                           views):
    a, b = await login(resident), await login(attending)
    thread_id, _ = await start_thread(a, "Cached posts", "The opening post.")
    await reply_to(b, thread_id, "A reply from b, first version.")
    opening, reply = await post_ids(db, thread_id)

    # A reaction (by b): counts for a, pressed for b.
    await _cached(views, a, thread_id)
    assert (await b.post_form(f"/p/{opening}/react", {"kind": "thanks"})).status_code == 303
    html, hit = await views(a, thread_id)
    assert not hit and "Thank you · 1" in html
    # Taken back.
    await _cached(views, a, thread_id)
    assert (await b.post_form(f"/p/{opening}/react", {"kind": "thanks"})).status_code == 303
    html, _ = await views(a, thread_id)
    assert "Thank you · 1" not in html

    # An edit.
    await _cached(views, a, thread_id)
    assert (await b.post_form(f"/p/{reply}/edit", {"body": "A reply from b, second version."})).status_code == 303
    html, hit = await views(a, thread_id)
    assert not hit and "second version" in html and "first version" not in html

    # A new reply on the same page.
    await _cached(views, a, thread_id)
    await reply_to(b, thread_id, "Another reply, just posted.")
    assert "Another reply, just posted." in (await views(a, thread_id))[0]

    # Deleted by its author: a placeholder only where the conversation needs it (nothing replies to it here).
    await _cached(views, a, thread_id)
    assert (await b.post_form(f"/p/{reply}/delete", {})).status_code == 303
    html, _ = await views(a, thread_id)
    assert "second version" not in html


async def test_moderation_shows_at_once_and_each_viewer_sees_only_what_they_may(resident, attending, moderator,
                                                                              login, db, views):
    a, b, mod = await login(resident), await login(attending), await login(moderator)
    thread_id, _ = await start_thread(a, "Moderated", "The opening post.")
    await reply_to(b, thread_id, "A reply that will be hidden.")
    reply = (await post_ids(db, thread_id))[1]
    await _cached(views, a, thread_id)
    response = await mod.post_form(f"/review/post/{reply}/decide", {"action": "hide", "reason": "check"})
    assert response.status_code == 303
    html, hit = await views(a, thread_id)
    assert not hit and "A reply that will be hidden." not in html
    # The same cached page of posts, filtered per viewer: the author and moderators still see it, marked.
    html, hit = await views(b, thread_id)
    assert hit and "A reply that will be hidden." in html and "Hidden from others" in html
    html, hit = await views(mod, thread_id)
    assert hit and "A reply that will be hidden." in html and "Hidden pending review." in html
    html, hit = await views(a, thread_id)
    assert hit and "A reply that will be hidden." not in html
    # Restored.
    response = await mod.post_form(f"/review/post/{reply}/decide", {"action": "restore", "reason": "fine"})
    assert response.status_code == 303
    html, hit = await views(a, thread_id)
    assert not hit and "A reply that will be hidden." in html


async def test_own_reactions_are_per_viewer_on_a_shared_cached_page(resident, attending, member_factory, login,
                                                                   db, views):
    a, b = await login(resident), await login(attending)
    c = await login(await member_factory("resident"))
    thread_id, _ = await start_thread(a, "Reactions", "The opening post.")
    opening = (await post_ids(db, thread_id))[0]
    assert (await b.post_form(f"/p/{opening}/react", {"kind": "helped"})).status_code == 303
    await _cached(views, c, thread_id)
    html, hit = await views(b, thread_id)  # filled by c's views: b's own reaction is still b's
    assert hit and 'value="helped" class="reaction on" aria-pressed="true"' in html
    html, hit = await views(c, thread_id)
    assert hit and 'aria-pressed="true"' not in html and "This helped <span class=\"count\">1</span>" in html


async def test_member_renames_and_role_changes_show_at_once(resident, attending, login, db, views):
    a, b = await login(resident), await login(attending)
    thread_id, _ = await start_thread(a, "Names", "The opening post.")
    await reply_to(b, thread_id, "A reply.")
    await _cached(views, a, thread_id)
    async with db.transaction() as session:
        await session.execute(text("UPDATE users SET display_name = 'Renamed Attending' WHERE id = :id"),
                              {"id": attending.id})
    html, hit = await views(a, thread_id)
    assert not hit and "Renamed Attending" in html
    await _cached(views, a, thread_id)
    async with db.transaction() as session:
        await session.execute(text("UPDATE users SET role = 'moderator' WHERE id = :id"), {"id": attending.id})
    html, hit = await views(a, thread_id)
    assert not hit and '<span class="role-tag">moderator</span>' in html


async def test_every_write_that_shows_on_a_page_gives_a_new_version(resident, attending, login, db):
    """The triggers themselves, through plain SQL (any code path, present or future, is covered)."""
    a = await login(resident)
    thread_id, _ = await start_thread(a, "Triggers", "The opening post.")
    other_id, _ = await start_thread(a, "Another thread", "Unrelated.")
    opening = (await post_ids(db, thread_id))[0]
    writes = [
        ("INSERT INTO posts (thread_id, author_id, position, body_md, body_html, body_text) "
         "VALUES (:t, :b, 2, 'x', '<p>x</p>', 'x')", "version"),
        ("UPDATE posts SET body_html = '<p>y</p>' WHERE thread_id = :t AND position = 2", "version"),
        ("UPDATE posts SET state = 'hidden' WHERE thread_id = :t AND position = 2", "version"),
        ("INSERT INTO reactions (post_id, kind, user_id) VALUES (:p, 'thanks', :b)", "version"),
        ("UPDATE reactions SET kind = 'helped' WHERE post_id = :p", "version"),
        ("DELETE FROM reactions WHERE post_id = :p", "version"),
        ("DELETE FROM posts WHERE thread_id = :t AND position = 2", "version"),
        ("UPDATE users SET display_name = 'Someone Else' WHERE id = :b", "epoch"),
        ("UPDATE users SET handle = 'someone-else-x' WHERE id = :b", "epoch"),
        ("UPDATE users SET role = 'moderator' WHERE id = :b", "epoch"),
    ]
    for statement, bumped in writes:
        before, other_before = await _version(db, thread_id), await _version(db, other_id)
        async with db.transaction() as session:
            await session.execute(text(statement), {"t": thread_id, "p": opening, "b": attending.id})
        after, other_after = await _version(db, thread_id), await _version(db, other_id)
        if bumped == "version":
            assert after[0] != before[0] and after[1] == before[1], statement
            assert other_after[0] == other_before[0], statement  # other threads keep their cached pages
        else:
            assert after[1] != before[1], statement
    # Writes that show on no thread page change nothing.
    before = await _version(db, thread_id)
    async with db.transaction() as session:
        await session.execute(text("UPDATE users SET timezone = 'Europe/Paris' WHERE id = :id"),
                              {"id": attending.id})
        await session.execute(text("UPDATE threads SET last_activity_at = now() WHERE id = :id"), {"id": thread_id})
    assert await _version(db, thread_id) == before


async def test_a_rolled_back_change_never_gives_a_version_twice(resident, login, db):
    a = await login(resident)
    thread_id, _ = await start_thread(a, "Rollback", "The opening post.")
    first = await _version(db, thread_id)
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await session.execute(text("UPDATE posts SET body_html = '<p>gone</p>' WHERE thread_id = :t"),
                                  {"t": thread_id})
            raise RuntimeError("rolled back")
    assert await _version(db, thread_id) == first
    async with db.transaction() as session:
        await session.execute(text("UPDATE posts SET body_html = '<p>kept</p>' WHERE thread_id = :t"),
                              {"t": thread_id})
    # A different change after the rollback: a value never seen before (a sequence is not rolled back).
    second = await _version(db, thread_id)
    assert second[0] != first[0]


async def test_a_joined_page_is_shared_only_where_it_is_the_same(resident, attending, member_factory, login, db,
                                                                 views):
    """The whole page of posts is cached too (web.post_fragments): readers in the same position share it, with
    their own CSRF token, unread marker and reactions; an author's page is their own."""
    a, b = await login(resident), await login(attending)
    c, d = await login(await member_factory("resident")), await login(await member_factory("resident"))
    thread_id, _ = await start_thread(a, "Shared page", "The opening post.")
    await reply_to(b, thread_id, "The first reply.")
    await _cached(views, c, thread_id)
    html_c, _ = await views(c, thread_id)
    html_d, _ = await views(d, thread_id)
    for html, client, other in ((html_c, c, d), (html_d, d, c)):
        assert f'value="{client.cookies["csrf"]}"' in html and f'value="{other.cookies["csrf"]}"' not in html
    assert "New since your last visit" not in html_c + html_d  # neither has read it before

    await reply_to(b, thread_id, "A second reply, new to c and d.")
    html_c, _ = await views(c, thread_id)
    assert html_c.count("New since your last visit") == 1 and 'id="p3"' in html_c
    html_d, _ = await views(d, thread_id)  # d's first visit was after the first reply only as well
    assert html_d.count("New since your last visit") == 1
    html_c, _ = await views(c, thread_id)  # now read: no marker, the same page as anyone who has read it all
    assert "New since your last visit" not in html_c

    # The author's own post is theirs (edit/delete tools), never shown as such to others.
    html_b, _ = await views(b, thread_id)
    html_d, _ = await views(d, thread_id)
    assert html_b.count(">Edit<") >= 1 and ">Edit<" not in html_d


async def test_the_cached_thread_body_follows_each_viewers_flags(resident, attending, moderator, member_factory,
                                                                 login, db, views):
    """The page around the posts is cached too (web.post_fragments.render_thread_body), keyed by what it shows:
    each viewer still gets their own tools, watch level, reply box and CSRF token."""
    a, mod = await login(resident), await login(moderator)
    c = await login(await member_factory("resident"))
    thread_id, _ = await start_thread(a, "Body cache", "The opening post.")
    for client in (a, a, c):
        await views(client, thread_id)
    html_c, _ = await views(c, thread_id)
    assert f'value="{c.cookies["csrf"]}"' in html_c and f'value="{a.cookies["csrf"]}"' not in html_c
    assert "Lock thread" not in html_c and "Post reply" in html_c
    html_mod, _ = await views(mod, thread_id)
    assert "Lock thread" in html_mod and "Pin thread" in html_mod

    assert (await c.post_form(f"/t/{thread_id}/watch", {"level": "mute"})).status_code == 303
    html_c, _ = await views(c, thread_id)
    assert '<option value="mute" selected' in html_c
    html_a, _ = await views(a, thread_id)
    assert '<option value="mute" selected' not in html_a

    async with db.transaction() as session:
        await session.execute(text("UPDATE threads SET locked = true WHERE id = :id"), {"id": thread_id})
    html_c, _ = await views(c, thread_id)
    assert "This thread is locked" in html_c and "Post reply" not in html_c
    assert "Unlock thread" in (await views(mod, thread_id))[0]

    html_support = (await c.get(f"/t/{thread_id}?support=1")).text
    assert 'id="crisis-panel-title"' in html_support
    assert 'id="crisis-panel-title"' not in (await views(c, thread_id))[0]


async def test_readers_whose_first_unread_post_is_elsewhere_share_the_page(resident, attending, member_factory,
                                                                          login, db, views):
    """The unread marker is in the joined page's key only on the page that holds the first unread post: readers
    at different positions past (or before) a page see, and share, the same page."""
    a = await login(resident)
    c, d = await login(await member_factory("resident")), await login(await member_factory("resident"))
    thread_id, _ = await start_thread(a, "Three pages", "Post one")
    await add_replies(db, thread_id, attending.id, 120)
    await views(c, thread_id)  # c has read to 50: first unread 51, on page 2
    await views(d, thread_id)
    await views(d, thread_id, 2)  # d has read to 100: first unread 101, on page 3
    await views(c, thread_id)  # page 1 without a marker, joined once
    hits = fragments._counts["page_html"][0]
    html_d, _ = await views(d, thread_id)
    html_c, _ = await views(c, thread_id)
    assert fragments._counts["page_html"][0] == hits + 2  # both from that one joined page
    assert "New since your last visit" not in html_c + html_d
    html_c2, _ = await views(c, thread_id, 2)  # page 2 holds c's first unread post, not d's
    assert html_c2.count("New since your last visit") == 1 and 'class="post first-unread" id="p51"' in html_c2
    html_d2, _ = await views(d, thread_id, 2)
    assert "New since your last visit" not in html_d2 and "first-unread" not in html_d2
