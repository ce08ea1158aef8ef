"""Admin category management, and the notifications page."""

import re

from sqlalchemy import select

from community.discussions.models import Category
from community.platform.review.models import AuditEntry, Notification
from tests.discussions.conftest import reply_to, start_thread


async def test_admin_adds_edits_reorders_archives(admin, login, db):
    client = await login(admin)
    assert (await client.post_form("/admin/categories", {"name": "Night shift", "description": "After dark"}))\
        .status_code == 303
    async with db.transaction() as session:
        new = (await session.scalars(select(Category).where(Category.slug == "night-shift"))).one()
        last_position = new.position
    assert (await client.post_form(f"/admin/categories/{new.id}/move", {"direction": "up"})).status_code == 303
    assert (await client.post_form(f"/admin/categories/{new.id}", {"name": "Nights", "description": "x"}))\
        .status_code == 303
    async with db.transaction() as session:
        new = await session.get(Category, new.id)
        assert new.position < last_position and new.name == "Nights"
        actions = set(await session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "category")))
    assert {"category.create", "category.reorder", "category.edit"} <= actions
    for data, message in (({"name": ""}, "Please fill this in."), ({"name": "n" * 81}, "Use at most 80"),
                          ({"name": "Ok", "slug": "Bad Slug!"}, "Use lower-case letters"),
                          ({"name": "Ok", "slug": "introductions"}, "already uses this address")):
        response = await client.post_form("/admin/categories", data)
        assert response.status_code == 400 and message in response.text, data
    assert (await client.post_form(f"/admin/categories/{new.id}/move", {"direction": "sideways"})).status_code == 400
    assert (await client.get("/admin/categories/999999")).status_code == 404


async def test_notifications_page_mark_read_and_open(resident, attending, login, db):
    a, b = await login(resident), await login(attending)
    thread_id, _ = await start_thread(a, "Notify me")
    await reply_to(b, thread_id, "first")
    await reply_to(b, thread_id, "second")
    page = await a.get("/notifications")
    # Two replies in one thread: one grouped row (issue 16), which says how many.
    rows = re.findall(r'href="/notifications/\d+">([^<]*)</a>', page.text)
    assert len(rows) == 1 and "replied in “Notify me” (2 new)" in rows[0] and 'class="badge"' in page.text
    note_id = re.search(r'href="/notifications/(\d+)"', page.text).group(1)
    opened = await a.get(f"/notifications/{note_id}")
    assert opened.status_code == 303 and opened.headers["location"].startswith("/p/")
    assert (await b.get(f"/notifications/{note_id}")).status_code == 404  # not b's
    assert (await a.post_form("/notifications/read")).status_code == 303
    async with db.transaction() as session:
        unread = list(await session.scalars(select(Notification.id).where(Notification.user_id == resident.id,
                                                                          Notification.read_at.is_(None))))
    assert unread == []
    assert (await a.post_form("/notifications/read", {"id": "%FF"})).status_code in (303, 400)
