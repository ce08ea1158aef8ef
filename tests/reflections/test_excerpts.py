"""A card's excerpt is stored with its piece (migration 0030): written with it, changed by an edit, and filled in
by the migration for pieces written before; the wall and the journal show it without reading the body."""

from __future__ import annotations

import asyncpg

from community.platform.db import asyncpg_args, with_database
from community.platform.migrate import upgrade
from community.platform.text import plain_text
from tests.conftest import RUN, _admin_execute, free_port
from tests.reflections.conftest import load, write

MARKDOWN = "**Bold** start, a [link](https://example.org/x) and `code`.\n\n- one\n- two\n\n" + "word " * 120


async def test_an_edit_changes_the_excerpt_on_the_wall_and_in_the_journal(login, member_factory, db):
    me = await login(await member_factory())
    rid = await write(me, title="Night float", body="The first wording, about a long night.", visibility="named")
    assert "The first wording" in (await me.get("/reflections")).text
    response = await me.post_form(f"/reflections/{rid}/edit", {"title": "Night float", "body": MARKDOWN,
                                                              "visibility": "named", "intent": "publish"})
    assert response.status_code == 303
    stored = (await load(db, rid)).excerpt
    assert stored == plain_text(MARKDOWN, 320) and stored.startswith("Bold start, a link and code.")
    assert len(stored) <= 320 and "**" not in stored
    for page in ("/reflections", "/journal"):
        text = (await me.get(page)).text
        assert "Bold start, a link and code." in text and "The first wording" not in text, page


async def test_the_migration_fills_in_the_excerpts_of_pieces_written_before(server_url):
    name = f"{RUN}_excerpts_{free_port()}"
    await _admin_execute(server_url, f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    try:
        await upgrade(url, "0029")
        conn = await asyncpg.connect(**asyncpg_args(url))
        try:
            await conn.executemany(
                "INSERT INTO reflections (visibility, author_tag, body, body_html) VALUES ('private', 't', $1, '')",
                [(MARKDOWN,), ("Plain words.",)])
        finally:
            await conn.close()
        await upgrade(url)
        conn = await asyncpg.connect(**asyncpg_args(url))
        try:
            rows = await conn.fetch("SELECT body, excerpt FROM reflections ORDER BY id")
            nullable = await conn.fetchval("SELECT is_nullable FROM information_schema.columns "
                                           "WHERE table_name = 'reflections' AND column_name = 'excerpt'")
        finally:
            await conn.close()
    finally:
        await _admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert [r["excerpt"] for r in rows] == [plain_text(MARKDOWN, 320), "Plain words."]
    assert nullable == "NO"
