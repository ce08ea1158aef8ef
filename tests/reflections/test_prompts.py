"""The prompt library: seeding, the prompt of the week, and staff editing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from community.reflections import prompts as actions
from community.reflections import seed as seed_prompts
from community.reflections.models import Prompt


async def test_seed_has_enough_prompts_across_themes(db):
    async with db.transaction() as session:
        rows = list(await session.scalars(select(Prompt)))
    assert len(rows) >= 36
    assert len({p.theme for p in rows}) >= 7
    assert {p.minutes for p in rows} == {2, 5, 15}
    assert all(p.theme in actions.THEMES and p.title and p.text for p in rows)
    assert len({p.slug for p in rows}) == len(rows)


async def test_seed_is_idempotent_and_keeps_edits(db):
    async with db.transaction() as session:
        prompt = (await session.scalars(select(Prompt).where(Prompt.slug == "four-letter-word"))).one()
        prompt.text = "An admin's better wording."
        prompt.active = False
    async with db.transaction() as session:
        before = await session.scalar(select(func.count()).select_from(Prompt))
        counts = await seed_prompts.seed(session)
        after = await session.scalar(select(func.count()).select_from(Prompt))
        edited = (await session.scalars(select(Prompt).where(Prompt.slug == "four-letter-word"))).one()
    assert counts == {"prompts": 0} and before == after
    assert edited.text == "An admin's better wording." and edited.active is False


async def test_prompt_of_the_week_is_deterministic_and_rotates(db):
    async with db.transaction() as session:
        monday = await actions.prompt_of_week(session, date(2026, 3, 2))
        sunday = await actions.prompt_of_week(session, date(2026, 3, 8))
        next_week = await actions.prompt_of_week(session, date(2026, 3, 9))
    assert monday.id == sunday.id
    assert next_week.id != monday.id
    assert actions.rotation_index(date(2026, 3, 2), 40) == actions.rotation_index(date(2026, 3, 6), 40)


async def test_admin_pins_and_unpins(member_factory, login, db):
    admin, mod = await member_factory("admin"), await member_factory("moderator")
    async with db.transaction() as session:
        target = (await session.scalars(select(Prompt).where(Prompt.slug == "one-breath"))).one()
    assert (await (await login(mod)).post_form(f"/prompts/{target.id}/pin")).status_code == 403
    client = await login(admin)
    assert (await client.post_form(f"/prompts/{target.id}/pin")).status_code == 303
    async with db.transaction() as session:
        for day in (date(2026, 1, 5), date(2027, 7, 19)):
            assert (await actions.prompt_of_week(session, day)).id == target.id
    page = await client.get("/prompts")
    assert "(pinned)" in page.text and target.title in page.text
    assert (await client.post_form("/prompts/unpin")).status_code == 303
    async with db.transaction() as session:
        assert (await actions.prompt_of_week(session, date(2026, 3, 2))).pinned_at is None


async def test_browse_by_theme_and_write_to_prompt(member_factory, login, any_prompt):
    me = await login(await member_factory())
    page = await me.get("/prompts", params={"theme": any_prompt.theme})
    assert page.status_code == 200 and any_prompt.title in page.text
    assert f"/reflections/new?prompt={any_prompt.id}" in page.text
    compose = await me.get(f"/reflections/new?prompt={any_prompt.id}")
    assert any_prompt.text.split("\"")[0][:30] in compose.text or any_prompt.title in compose.text
    assert (await me.get("/prompts", params={"theme": "nonsense"})).status_code == 200
    assert (await me.get("/reflections/new", params={"prompt": "²"})).status_code == 200


async def test_staff_add_and_edit_prompts(member_factory, login, db):
    member, mod = await member_factory("attending"), await member_factory("moderator")
    assert (await (await login(member)).get("/prompts/new")).status_code == 403
    client = await login(mod)
    bad = await client.post_form("/prompts/new", {"theme": "nope", "title": "", "text": "x" * 1001, "minutes": "7"})
    assert bad.status_code == 400
    for message in ("Choose one of the themes", "Please enter the title", "at most 1,000", "2, 5 or 15"):
        assert message in bad.text
    ok = await client.post_form("/prompts/new", {"theme": "time", "title": "A pause", "text": "Where did you pause?",
                                                 "minutes": "2"})
    assert ok.status_code == 303
    async with db.transaction() as session:
        prompt = (await session.scalars(select(Prompt).where(Prompt.title == "A pause"))).one()
    edit = await client.post_form(f"/prompts/{prompt.id}/edit", {"theme": "time", "title": "A longer pause",
                                                                 "text": "Where?", "minutes": "15", "active": "yes"})
    assert edit.status_code == 303
    async with db.transaction() as session:
        assert (await session.get(Prompt, prompt.id)).minutes == 15


async def test_prompt_of_the_week_in_one_statement_agrees(db, member_factory, login):
    """The wall's one-statement prompt of the week (raw asyncpg) picks what prompt_of_week() picks."""
    days = [date(2026, 3, 2), date(2026, 3, 9), date(2027, 1, 4), date(2030, 12, 30)]
    async with db.transaction() as session:
        expected = [(await actions.prompt_of_week(session, day)).id for day in days]
    async with db.raw() as connection:
        got = [(await actions.prompt_of_week_row(connection, day))["id"] for day in days]
    assert got == expected
    async with db.transaction() as session:
        target = (await session.scalars(select(Prompt).where(Prompt.slug == "one-breath"))).one()
    client = await login(await member_factory("admin"))
    assert (await client.post_form(f"/prompts/{target.id}/pin")).status_code == 303
    async with db.raw() as connection:
        assert (await actions.prompt_of_week_row(connection, days[0]))["id"] == target.id
    assert f"/reflections/new?prompt={target.id}" in (await client.get("/reflections")).text


async def test_the_library_is_cached_by_what_it_shows(member_factory, login, db):
    """The themed sections are one fragment per role: an edit, a retirement and a pin show on the very next read
    by a member who saw the old page; retired prompts only to staff; each admin's pin forms carry their own
    CSRF token, never the one of the admin whose page filled the cache."""
    reader, other, mod = await member_factory(), await member_factory(), await member_factory("moderator")
    admins = [await member_factory("admin"), await member_factory("admin")]
    r, o, m = await login(reader), await login(other), await login(mod)
    async with db.transaction() as session:
        target = (await session.scalars(select(Prompt).where(Prompt.slug == "one-breath"))).one()
    first = await r.get("/prompts")
    assert target.title in first.text and f"/prompts/{target.id}/edit" not in first.text
    assert (await o.get("/prompts")).text.count(f'id="prompt-{target.id}"') == 1
    assert f"/prompts/{target.id}/edit" in (await m.get("/prompts")).text
    edited = {"theme": target.theme, "title": "A renamed breath", "text": target.text, "minutes": str(target.minutes)}
    assert (await m.post_form(f"/prompts/{target.id}/edit", {**edited, "active": "yes"})).status_code == 303
    assert "A renamed breath" in (await r.get("/prompts")).text
    assert (await m.post_form(f"/prompts/{target.id}/edit", edited)).status_code == 303  # retired
    assert f'id="prompt-{target.id}"' not in (await o.get("/prompts")).text
    assert "retired" in (await m.get("/prompts")).text
    assert (await m.post_form(f"/prompts/{target.id}/edit", {**edited, "active": "yes"})).status_code == 303
    for admin in admins:
        client = await login(admin)
        token = await client.ensure_csrf()
        page = (await client.get("/prompts")).text
        assert f'action="/prompts/{target.id}/pin"><input type="hidden" name="csrf_token" value="{token}">' in page
    assert (await client.post_form(f"/prompts/{target.id}/pin")).status_code == 303
    assert f'action="/prompts/{target.id}/pin"' not in (await client.get("/prompts")).text
    assert "(pinned)" in (await r.get("/prompts")).text
