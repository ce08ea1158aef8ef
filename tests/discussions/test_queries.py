"""Hot pages run a fixed number of SQL statements, whatever the number of posts or threads.

The counts include the statements on the bare asyncpg connection (Database.raw: the session lookup and the
page queries) as well as SQLAlchemy's.
"""

from sqlalchemy import func, select

from community.discussions.models import Category, Post, Reaction, Thread
from tests.discussions.conftest import count_queries, start_thread


async def _fill(db, thread_id, author_id, reactor_id, count):
    async with db.transaction() as session:
        thread = await session.get(Thread, thread_id)
        start = thread.post_count
        for n in range(count):
            session.add(Post(thread_id=thread_id, author_id=author_id, position=start + n + 1,
                             body_md="x", body_html="<p>x</p>", body_text="x", reply_to_id=thread.first_post_id))
        thread.post_count = start + count
        thread.reply_count += count
        await session.flush()
        for post_id in await session.scalars(select(Post.id).where(Post.thread_id == thread_id,
                                                                   Post.position > start)):
            session.add(Reaction(post_id=post_id, kind="thanks", user_id=reactor_id))


async def test_thread_page_query_count_is_fixed(resident, attending, login, db, engine):
    a = await login(resident)
    thread_id, _ = await start_thread(a)
    await _fill(db, thread_id, attending.id, resident.id, 2)
    await a.get(f"/t/{thread_id}")  # warm the viewer cache
    with count_queries(engine, db) as few:
        assert (await a.get(f"/t/{thread_id}")).status_code == 200
    await _fill(db, thread_id, attending.id, resident.id, 60)
    with count_queries(engine, db) as many:
        page = await a.get(f"/t/{thread_id}")
    assert page.text.count('class="post') >= 50
    # The session lookup, and one statement for the thread, the read-position upsert and the page of posts.
    assert len(few) == len(many) <= 2, many
    assert any("FROM sessions" in s for s in many) and any("FROM posts p" in s for s in many), many


async def test_category_page_query_count_is_fixed(resident, login, db, engine):
    client = await login(resident)
    await client.get("/c/introductions")
    with count_queries(engine, db) as few:
        assert (await client.get("/c/introductions")).status_code == 200
    async with db.transaction() as session:
        cid = await session.scalar(select(Category.id).where(Category.slug == "introductions"))
        for n in range(40):
            session.add(Thread(category_id=cid, author_id=resident.id, title=f"t{n}", post_count=1))
    with count_queries(engine, db) as many:
        page = await client.get("/c/introductions")
    assert page.status_code == 200 and page.text.count('class="thread-row') >= 30
    # The session lookup, then the category with its page of threads in one statement.
    assert len(few) == len(many) <= 2, many
    assert any("FROM threads t" in s for s in many), many
    with count_queries(engine, db) as index:
        assert (await client.get("/c")).status_code == 200
    assert len(index) <= 2, index


async def test_category_page_in_one_statement_keeps_every_case(resident, moderator, login, db):
    """The category rides on every thread row: an empty category, an archived one, pinned threads first, the
    cursor's next page, and a missing slug all still behave."""
    client = await login(resident)
    async with db.transaction() as session:
        empty = Category(slug="empty-one", name="Empty one", description="Nothing yet", position=99)
        archived = Category(slug="old-one", name="Old one", description="", position=100)
        session.add_all([empty, archived])
        await session.flush()
        archived.archived_at = func.now()
        for n in range(35):
            session.add(Thread(category_id=archived.id, author_id=resident.id,
                               title=f"Old thread {n}", post_count=1, pinned=n == 34))
    page = await client.get("/c/empty-one")
    assert page.status_code == 200 and "Empty one" in page.text and "No threads yet." in page.text
    assert "Start the first one." in page.text
    page = await client.get("/c/old-one")
    assert page.status_code == 200 and "This category is archived." in page.text and "Start a thread" not in page.text
    rows = page.text.split('class="thread-row')[1:]
    assert "Old thread 34" in rows[0]  # the pinned one leads
    assert len(rows) == 31 and "Older threads" in page.text  # one pinned + 30, and a next page
    cursor = page.text.split('/c/old-one?after=')[1].split('"')[0]
    older = await client.get(f"/c/old-one?after={cursor}")
    assert older.status_code == 200 and older.text.count('class="thread-row') == 4
    assert (await client.get("/c/no-such-one")).status_code == 404
    assert (await client.get("/c/NOT_A_SLUG")).status_code == 404
