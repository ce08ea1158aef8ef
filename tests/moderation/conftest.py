"""Helpers for thread tests: post through the real endpoints, count SQL statements."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event

CATEGORY = "introductions"


async def start_thread(client, title="A calm title", body="A thoughtful opening post.", category=CATEGORY,
                       **extra):
    response = await client.post_form(f"/c/{category}/new", {"title": title, "body": body, **extra})
    assert response.status_code == 303, response.text[:2000]
    thread_id = int(re.search(r"/t/(\d+)", response.headers["location"]).group(1))
    return thread_id, response


async def reply_to(client, thread_id, body="A kind reply.", **extra):
    response = await client.post_form(f"/t/{thread_id}/reply", {"body": body, **extra})
    assert response.status_code == 303, response.text[:2000]
    return response


async def post_ids(db, thread_id):
    from sqlalchemy import select

    from community.models.discussions import Post

    async with db.transaction() as session:
        return list(await session.scalars(select(Post.id).where(Post.thread_id == thread_id)
                                          .order_by(Post.position)))


@contextmanager
def count_queries(engine):
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


@pytest.fixture
def settings(database_urls, tmp_path):
    """The rate limit is lifted by default here; tests of it build their own app (`login_with`)."""
    from tests.conftest import make_settings

    return make_settings(database_urls["main"], tmp_path, posts_per_minute=1000)


@pytest.fixture
async def login_with(settings, db):
    """`await login_with(user, posts_per_minute=2)` -> a signed-in client of an app with other settings."""
    import httpx

    from community.app import create_app
    from tests.conftest import Client, sign_in

    clients = []

    async def do(user, **overrides):
        app = create_app(settings.with_(**overrides), db=db)
        client = Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        clients.append(client)
        return await sign_in(client, db, user)

    yield do
    for client in clients:
        await client.aclose()


@pytest.fixture
async def resident(member_factory):
    return await member_factory("resident")


@pytest.fixture
async def attending(member_factory):
    return await member_factory("attending")


@pytest.fixture
async def moderator(member_factory):
    return await member_factory("moderator")


@pytest.fixture
async def admin(member_factory):
    return await member_factory("admin")
