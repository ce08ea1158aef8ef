"""Hot pages run a fixed number of SQL statements, whatever the number of posts or threads.

The counts include the statements on the bare asyncpg connection (Database.raw: the session lookup and the
page queries) as well as SQLAlchemy's.
"""

from sqlalchemy import select

from community.models.discussions import Category, Post, Reaction, Thread
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
    # The session lookup, the category, its page of threads.
    assert len(few) == len(many) <= 3, many
    assert any("FROM threads t" in s for s in many), many
    with count_queries(engine, db) as index:
        assert (await client.get("/c")).status_code == 200
    assert len(index) <= 2, index
