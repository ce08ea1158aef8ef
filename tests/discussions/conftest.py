"""Helpers for thread tests: post through the real endpoints, count SQL statements."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager, contextmanager

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

    from community.discussions.models import Post

    async with db.transaction() as session:
        return list(await session.scalars(select(Post.id).where(Post.thread_id == thread_id)
                                          .order_by(Post.position)))


async def add_replies(db, thread_id, author_id, last_position):
    """Replies 2..last_position by `author_id` ("<p>reply number N</p>"), written directly: a long thread."""
    from community.discussions.models import Post, Thread

    async with db.transaction() as session:
        thread = await session.get(Thread, thread_id)
        for position in range(2, last_position + 1):
            session.add(Post(thread_id=thread_id, author_id=author_id, position=position,
                             body_md=f"reply {position}", body_html=f"<p>reply number {position}</p>",
                             body_text=f"reply {position}"))
        thread.post_count, thread.reply_count = last_position, last_position - 1


_NOT_COUNTED = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO")
_RAW_METHODS = ("fetch", "fetchrow", "fetchval", "fetchmany", "execute", "executemany", "prepare", "cursor",
                "copy_records_to_table")


class _CountingConnection:
    """Stands for the asyncpg connection that Database.raw() hands out, recording every statement run on it."""

    def __init__(self, connection, statements: list[str]) -> None:
        self._connection = connection
        self._statements = statements

    def __getattr__(self, name):
        attr = getattr(self._connection, name)
        if name not in _RAW_METHODS:
            return attr

        def counted(query, *args, **kwargs):
            self._statements.append(query if isinstance(query, str) else str(query))
            return attr(query, *args, **kwargs)
        return counted


@contextmanager
def count_queries(engine, db=None):
    """The SQL statements run inside the block: through SQLAlchemy (engine events) and, with `db`, on the bare
    asyncpg connections that db.raw() hands out (the session lookup and the hot pages run there).
    """
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        if not statement.lstrip().upper().startswith(_NOT_COUNTED):
            statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    if db is not None:
        plain_raw = db.raw

        @asynccontextmanager
        async def counting_raw():
            async with plain_raw() as connection:
                yield _CountingConnection(connection, statements)

        db.raw = counting_raw
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)
        if db is not None:
            del db.raw  # back to the class's method


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
