"""Ground rules render as Markdown (issue 19): a list is a list, not lines starting with "- "; rendered and
sanitized once, when the room is written."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from community.rooms.models import Room


async def test_seeded_rules_render_as_a_list(member_factory, login, db):
    me = await login(await member_factory("resident"))
    async with db.transaction() as session:
        room_id = await session.scalar(select(Room.id).where(Room.slug == "night-float-lounge"))
    page = await me.get(f"/rooms/{room_id}")
    assert page.status_code == 200
    rules = page.text.split('class="rules-text', 1)[1].split("</div>", 1)[0]
    assert "<ul>" in rules and "<li>Be kind; everyone here is tired.</li>" in rules
    assert "- Be kind" not in rules


async def test_a_hosts_rules_are_rendered_and_sanitized_when_written(member_factory, login, db):
    host = await login(await member_factory("attending"))
    start = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    end = (datetime.now() + timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M")
    rules = "- **Listen** first\n- No identifiers\n\n<script>alert(1)</script>"
    response = await host.post_form("/rooms/new", {
        "title": "Rules in Markdown", "description": "", "theme_prompt": "", "starts_at": start, "ends_at": end,
        "capacity": "8", "allow_anonymous": "1", "ground_rules": rules, "retention": "24"})
    assert response.status_code == 303, response.text[:500]
    async with db.transaction() as session:
        room = (await session.scalars(select(Room).where(Room.title == "Rules in Markdown"))).one()
    assert "<li><strong>Listen</strong> first</li>" in room.ground_rules_html
    assert "<script" not in room.ground_rules_html
    page = (await host.get(f"/rooms/{room.id}")).text
    assert "<strong>Listen</strong>" in page and "<script>alert(1)" not in page
