"""The per-process cache of signed-in members (web.viewer_cache) and the triggers that keep it true (0009).

On a cloned, committed database: NOTIFY is only delivered for committed transactions, so these tests cannot use
the rolled-back-transaction fixtures. Every wait is bounded. "Nothing was said about X" is checked with a marker:
a NOTIFY sent after the change arrives after anything the change sent (PostgreSQL delivers in commit order).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from community.discussions import actions as discussions
from community.platform.accounts import actions as accounts
from community.platform.anonymity import Anonymity, author_tag
from community.platform.db import Database, asyncpg_args
from community.platform.notify import notifications
from community.platform.viewer import Viewer
from community.platform.web.viewer_cache import APPLICATION_NAME, ViewerCache
from community.reflections import actions as reflections
from community.settings import Settings
from tests.conftest import create_member

ANON_KEY = "live-anon-key-" + "a" * 40  # what LiveServer gives its processes
SETTINGS = Settings(anon_key=ANON_KEY, posts_per_minute=10**6)


def scope_tags(viewer: Viewer) -> tuple[str, ...]:
    """Two of the member's scope tags, as a load that found them in the keyring gives them to the cache."""
    return (author_tag(ANON_KEY, viewer.id, "reflection:1"), author_tag(ANON_KEY, viewer.id, "room:1"))


class Env:
    def __init__(self, url: str) -> None:
        self.url = url
        self.db = Database(url, pool_size=2)
        self.cache = ViewerCache(url)

    async def member(self, role: str = "resident") -> tuple[Viewer, str]:
        user = await create_member(self.db, role)
        async with self.db.transaction() as session:
            token = await accounts.create_session(session, user.id, 1)
        async with self.db.raw() as connection:
            viewer = await accounts.load_viewer(connection, token)
        assert viewer is not None
        return viewer, token

    def store(self, viewer: Viewer, token: str, stamp: str = "") -> None:
        self.cache.put(token, stamp, viewer, scope_tags(viewer), self.cache.generation)
        assert self.cache.get(token, stamp) is viewer

    async def sql(self, statement: str, **params: Any) -> Any:
        async with self.db.transaction() as session:
            return (await session.execute(text(statement), params))

    async def settle(self) -> None:
        """Returns once everything committed so far has been heard (a marker NOTIFY comes back)."""
        heard = asyncio.Event()
        original = self.cache.changed

        def spy(payload: str) -> None:
            original(payload)
            if payload == "u:0":
                heard.set()

        self.cache.changed = spy  # type: ignore[method-assign]
        try:
            await self.sql("SELECT pg_notify('viewer_changes', 'u:0')")
            await asyncio.wait_for(heard.wait(), 10)
        finally:
            self.cache.changed = original  # type: ignore[method-assign]

    async def thread(self, author: Viewer, title: str = "After the code") -> discussions.Published:
        async with self.db.transaction() as session:
            slug = (await session.execute(text("SELECT slug FROM categories ORDER BY position LIMIT 1"))).scalar()
            return await discussions.create_thread(session, author, SETTINGS, category_slug=slug, title=title,
                                                   body="It stayed with me on the drive home.", confirmed=True)

    async def notify(self, recipient: Viewer | None, target: tuple[str, int] | None = None,
                     tag: str | None = None) -> None:
        async with self.db.transaction() as session:
            await notifications.notify(session, user_id=recipient.id if recipient else None, tag=tag,
                                       anonymity=Anonymity(ANON_KEY), kind="reply", text="Someone replied", url="/notifications", target=target)


@pytest.fixture
async def env(live_database: str) -> AsyncIterator[Env]:
    env = Env(live_database)
    await env.cache.start()
    assert env.cache.listening
    yield env
    await env.cache.stop()
    await env.db.dispose()


# ---- what each change says, and to whom ----------------------------------------------------------------------

async def test_a_member_change_drops_only_that_member(env: Env) -> None:
    (a, token_a), (b, token_b) = await env.member(), await env.member()
    env.store(a, token_a)
    env.store(b, token_b)
    await env.sql("UPDATE users SET display_name = 'New name' WHERE id = :id", id=a.id)
    await env.settle()
    assert env.cache.get(token_a, "") is None
    assert env.cache.get(token_b, "") is b


@pytest.mark.parametrize("change", [
    "DELETE FROM sessions WHERE user_id = :id",
    "UPDATE users SET suspended_at = now() WHERE id = :id",
    "UPDATE users SET role = 'moderator' WHERE id = :id",
    "UPDATE users SET timezone = 'Europe/Paris' WHERE id = :id",
    "UPDATE users SET silenced_until = now() + interval '1 day' WHERE id = :id",
    "UPDATE users SET deleted_at = now() WHERE id = :id",
])
async def test_sign_out_suspension_role_and_profile_changes_are_heard(env: Env, change: str) -> None:
    a, token = await env.member()
    env.store(a, token)
    await env.sql(change, id=a.id)
    await env.settle()
    assert env.cache.get(token, "") is None


async def test_notifications_to_a_member_or_to_their_sealed_tag_are_heard(env: Env) -> None:
    (a, token_a), (b, token_b) = await env.member(), await env.member()
    env.store(a, token_a)
    env.store(b, token_b)
    await env.notify(a)
    await env.settle()
    assert env.cache.get(token_a, "") is None
    assert env.cache.get(token_b, "") is b

    # About b's anonymous writing in one of their scopes: addressed to that scope's tag.
    await env.notify(None, tag=scope_tags(b)[1])
    await env.settle()
    assert env.cache.get(token_b, "") is None

    env.store(a, token_a)
    await env.sql("UPDATE notifications SET read_at = now() WHERE user_id = :id", id=a.id)
    await env.settle()
    assert env.cache.get(token_a, "") is None


async def test_hiding_or_deleting_what_an_unread_notification_is_about_is_heard_by_its_recipient(env: Env) -> None:
    (author, _), (reader, token), (other, other_token) = await env.member(), await env.member(), await env.member()
    published = await env.thread(author)
    post_id = published.post_id
    await env.notify(reader, ("post", post_id))
    await env.settle()

    for change in ("UPDATE posts SET state = 'hidden' WHERE id = :id",
                   "UPDATE threads SET state = 'hidden' WHERE id = (SELECT thread_id FROM posts WHERE id = :id)",
                   "DELETE FROM posts WHERE id = :id"):
        env.store(reader, token)
        env.store(other, other_token)
        await env.sql(change, id=post_id)
        await env.settle()
        assert env.cache.get(token, "") is None, change
        assert env.cache.get(other_token, "") is other, change  # nothing of theirs is about this post


async def test_an_edit_that_changes_no_visibility_says_nothing(env: Env) -> None:
    (author, _), (reader, token) = await env.member(), await env.member()
    published = await env.thread(author)
    await env.notify(reader, ("post", published.post_id))
    await env.settle()  # the notification's own message is heard first
    env.store(reader, token)
    await env.sql("UPDATE posts SET body_md = 'edited', body_html = '<p>edited</p>' WHERE id = :id",
                  id=published.post_id)
    await env.settle()
    assert env.cache.get(token, "") is reader


async def test_a_reflection_taken_down_is_heard_by_those_notified_about_it(env: Env) -> None:
    (author, _), (reader, token) = await env.member(), await env.member()
    async with env.db.transaction() as session:
        reflection, _ = await reflections.create_reflection(
            session, author, Anonymity(ANON_KEY), settings=SETTINGS, title="The family meeting",
            body="I said the scripted line and then stayed.", visibility="named", confirmed=True)
    await env.notify(reader, ("reflection", reflection.id))
    await env.settle()
    env.store(reader, token)
    await env.sql("UPDATE reflections SET state = 'removed' WHERE id = :id", id=reflection.id)
    await env.settle()
    assert env.cache.get(token, "") is None


async def test_a_rolled_back_change_says_nothing(env: Env) -> None:
    a, token = await env.member()
    env.store(a, token)
    async with env.db.engine.connect() as connection:
        transaction = await connection.begin()
        await connection.execute(text("UPDATE users SET display_name = 'Never' WHERE id = :id"), {"id": a.id})
        await transaction.rollback()
    await env.settle()
    assert env.cache.get(token, "") is a


# ---- the cache's own rules ---------------------------------------------------------------------------------

async def test_a_lookup_that_raced_with_a_change_is_not_stored(env: Env) -> None:
    a, token = await env.member()
    began = env.cache.generation  # the lookup starts, reads the row...
    await env.sql("UPDATE users SET display_name = 'Changed meanwhile' WHERE id = :id", id=a.id)
    await env.settle()  # ...the change is heard before the lookup finishes
    env.cache.put(token, "", a, ("tag",), began)
    assert env.cache.get(token, "") is None


async def test_entries_are_used_only_for_the_stamp_they_were_loaded_with(env: Env) -> None:
    a, token = await env.member()
    env.store(a, token, stamp="s1")
    assert env.cache.get(token, "s2") is None  # the member wrote something since (on any process)
    assert env.cache.get(token, "s1") is a


async def test_an_expired_session_is_not_served(env: Env) -> None:
    a, token = await env.member()
    env.cache.put(token, "", replace(a, session_expires_at=datetime.now(UTC) - timedelta(seconds=1)), ("tag",),
                  env.cache.generation)
    assert env.cache.get(token, "") is None
    assert token not in env.cache.entries


async def test_the_cache_is_bounded() -> None:
    cache = ViewerCache("postgresql://unused/none", size=3)
    cache.listening = True
    later = datetime.now(UTC) + timedelta(days=1)
    for n in range(10):
        cache.put(f"t{n}", "", Viewer(id=n, display_name="x", handle="x", role="resident", email="x",
                                      session_expires_at=later), (f"g{n}", f"h{n}"), cache.generation)
    assert list(cache.entries) == ["t7", "t8", "t9"]
    assert set(cache.by_member) == {7, 8, 9} and set(cache.by_tag) == {"g7", "g8", "g9", "h7", "h8", "h9"}


async def test_nothing_is_served_while_not_listening_and_all_is_dropped_on_reconnect(env: Env) -> None:
    a, token = await env.member()
    env.store(a, token)
    admin = await asyncpg.connect(**asyncpg_args(env.url))
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1 "
            "AND datname = current_database()", APPLICATION_NAME)
        assert killed == 1
        # The member is revoked while the cache may not be listening: it must not be served from before.
        await admin.execute("DELETE FROM sessions WHERE user_id = $1", a.id)
    finally:
        await admin.close()
    async with asyncio.timeout(15):
        while not env.cache.listening or env.cache.entries:
            if not env.cache.listening:
                assert env.cache.get(token, "") is None
            await asyncio.sleep(0.02)
    assert env.cache.get(token, "") is None


# ---- through a real server -----------------------------------------------------------------------------------

async def _page(server: Any, token: str, path: str = "/notifications", **cookies: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, cookies={"session": token, **cookies}) as client:
        return await client.get(path, follow_redirects=False)


async def _until(check: Any, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110  (polling a server over HTTP: no event to wait on)
            await asyncio.sleep(0.05)


async def test_a_live_server_shows_changes_made_elsewhere(live_database: str, live_server_factory) -> None:
    env = Env(live_database)
    try:
        server = live_server_factory(live_database)
        (author, _), (reader, token) = await env.member(), await env.member()
        first = await _page(server, token)
        assert first.status_code == 200 and 'class="badge"' not in first.text
        assert (await _page(server, token)).status_code == 200  # now from the cache

        published = await env.thread(author)
        await env.notify(reader, ("post", published.post_id))

        async def badge_shows() -> bool:
            return 'aria-label="1 unread"' in (await _page(server, token)).text
        await _until(badge_shows)

        await env.sql("UPDATE posts SET state = 'removed' WHERE id = :id", id=published.post_id)

        async def badge_gone() -> bool:
            return 'class="badge"' not in (await _page(server, token)).text
        await _until(badge_gone)

        await env.sql("UPDATE users SET display_name = 'Dr Renamed' WHERE id = :id", id=reader.id)

        async def renamed() -> bool:
            return "Dr Renamed" in (await _page(server, token)).text
        await _until(renamed)

        await env.sql("DELETE FROM sessions WHERE user_id = :id", id=reader.id)  # signed out everywhere

        async def refused() -> bool:
            return (await _page(server, token)).status_code in (302, 303)
        await _until(refused)
    finally:
        await env.db.dispose()


async def test_a_members_own_write_gives_a_new_stamp(live_database: str, live_server_factory) -> None:
    env = Env(live_database)
    try:
        server = live_server_factory(live_database)
        _, token = await env.member()
        async with httpx.AsyncClient(base_url=server.url, cookies={"session": token}) as client:
            await client.get("/notifications")
            csrf = client.cookies["csrf"]
            response = await client.post("/notifications/read", data={"csrf_token": csrf},
                                         headers={"Origin": server.url}, follow_redirects=False)
            assert response.status_code == 303
            stamp = response.cookies.get("stamp")
            assert stamp
            again = await client.post("/notifications/read", data={"csrf_token": csrf},
                                      headers={"Origin": server.url}, follow_redirects=False)
            assert again.cookies.get("stamp") not in (None, stamp)
            anonymous = await client.get("/guidelines")
            assert "stamp" not in anonymous.cookies  # reads never change it
    finally:
        await env.db.dispose()
