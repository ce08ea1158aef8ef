"""The notifications page (notify.list_for: one statement on a raw connection): paging, rows addressed to any tag
of the member's keyring, groups naming their actors as they are called now, and a new notification on the very
next request."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, update

from community.platform.accounts import scopes
from community.platform.accounts.models import User
from community.platform.anonymity import SCOPE_BATCH, Anonymity
from community.platform.notify import notifications
from community.platform.review.models import Notification


def _items(page: str) -> list[str]:
    return [m.strip() for m in re.findall(
        r'<li class="notification[^"]*">\s*<div>\s*(?:<span[^>]*>Unread: </span>)?(?:<a [^>]*>)?([^<]*)', page)]


async def test_pages_of_fifty_newest_first_then_older(member_factory, login, db):
    member = await member_factory()
    now = datetime.now(UTC)
    async with db.transaction() as session:
        await session.execute(insert(Notification), [
            {"user_id": member.id, "kind": "warning", "text": f"Note {n}", "created_at": now - timedelta(minutes=n + 1)}
            for n in range(55)])
    c = await login(member)
    first = (await c.get("/notifications")).text
    assert _items(first) == [f"Note {n}" for n in range(50)]
    older = re.search(r'href="/notifications\?before=(\d+)">Older', first)
    assert older is not None
    second = (await c.get(f"/notifications?before={older.group(1)}")).text
    assert _items(second) == [f"Note {n}" for n in range(50, 55)] and "Older</a>" not in second
    assert _items((await c.get("/notifications?before=999999999")).text) == []  # no such notification
    assert _items((await c.get("/notifications?before=x")).text)[:1] == ["Note 0"]  # ignored
    # A notification written now shows on the member's very next page.
    async with db.transaction() as session:
        await notifications.notify(session, user_id=member.id, kind="warning", text="Written just now")
    assert _items((await c.get("/notifications")).text)[0] == "Written just now"


async def test_rows_addressed_to_a_tag_past_the_first_batches_of_the_keyring(member_factory, login, db, settings):
    member = await member_factory()
    anonymity = Anonymity(settings.anon_key)
    tags = [anonymity.tag(member.id, f"test:{n}") for n in range(SCOPE_BATCH * 2 + 3)]
    async with db.transaction() as session:
        for tag in tags:
            await scopes.enrol(session, anonymity, member.id, tag)
        await notifications.notify(session, tag=tags[-1], anonymity=anonymity, kind="reflection_reply",
                                   text="Someone replied to your anonymous reflection.")
    page = (await (await login(member)).get("/notifications")).text
    assert _items(page) == ["Someone replied to your anonymous reflection."]
    other = (await (await login(await member_factory())).get("/notifications")).text
    assert _items(other) == []


async def test_a_group_names_its_actors_as_they_are_called_now_and_not_the_departed(member_factory, login, db):
    member = await member_factory()
    ana, ben, cy = [await member_factory("resident", name=n) for n in ("Ana Actor", "Ben Actor", "Cy Actor")]
    async with db.transaction() as session:
        await session.execute(insert(Notification).values(
            user_id=member.id, kind="reply", text="Ana Actor replied.", count=4, group_key="reply:thread:1",
            subject="A calm title", actor_ids=[ana.id, ben.id, cy.id]))
        await session.execute(update(User).where(User.id == ben.id).values(display_name="Benjamin Actor"))
    page = (await (await login(member)).get("/notifications")).text
    assert _items(page) == ["Ana Actor, Benjamin Actor and Cy Actor replied in “A calm title” (4 new)."]
    async with db.transaction() as session:
        await session.execute(update(User).where(User.id == ben.id).values(deleted_at=datetime.now(UTC)))
    page = (await (await login(member)).get("/notifications")).text
    assert _items(page) == ["Ana Actor, Cy Actor and 1 other replied in “A calm title” (4 new)."]
