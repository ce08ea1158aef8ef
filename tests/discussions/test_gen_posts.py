"""A tiny run of the benchmark data generator (the real runs use 10,000 to 1,000,000 posts)."""

import asyncpg

from community.platform.db import asyncpg_args


async def test_generator_smoke(live_database):
    from bench.gen_posts import generate

    result = await generate(live_database, 200, authors=5, quiet=True)
    conn = await asyncpg.connect(**asyncpg_args(live_database))
    try:
        posts = await conn.fetchval("SELECT count(*) FROM posts WHERE author_id IN "
                                    "(SELECT id FROM users WHERE email LIKE 'bench%')")
        bad = await conn.fetchval("SELECT count(*) FROM threads t WHERE t.first_post_id IS NOT NULL AND "
                                  "t.post_count <> (SELECT count(*) FROM posts p WHERE p.thread_id = t.id) "
                                  "AND t.author_id IN (SELECT id FROM users WHERE email LIKE 'bench%')")
        found = await conn.fetchval("SELECT count(*) FROM posts WHERE search @@ to_tsquery('english', 'compassion')")
    finally:
        await conn.close()
    assert posts == 200 and result["threads"] >= 1 and bad == 0 and found > 0
