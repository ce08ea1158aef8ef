"""Issue 16: notification mail follows the grouped notifications, and members may opt in to excerpts of signed
thread posts (off by default; never anonymous or private writing; never a post a patient-identifier check held)."""

from sqlalchemy import select, update

from community.discussions.models import Post
from community.platform.accounts.models import User
from community.platform.review import items as review_items
from community.platform.review.models import Notification
from tests.discussions.conftest import reply_to, start_thread
from tests.mail.test_notification_mail import mails, run, start
from tests.reflections.conftest import write


async def _open_group(db, client, user_id):
    async with db.transaction() as session:
        note_id = await session.scalar(select(Notification.id).where(Notification.user_id == user_id,
                                                                     Notification.read_at.is_(None)))
    assert (await client.get(f"/notifications/{note_id}")).status_code == 303


async def test_excerpts_are_off_by_default_and_opt_in_from_the_settings_page(db, settings, member_factory, login):
    author = await member_factory(email="excerpt.author@example.org")
    a = await login(author)
    page = await a.get("/account/email")
    assert 'name="excerpts"' in page.text and 'value="1" checked' not in page.text
    bad = await a.post_form("/account/email", {"kind_replies": "daily", "excerpts": "yes please"})
    assert bad.status_code == 400 and "Tick the box" in bad.text
    thread_id, _ = await start_thread(a, title="Handing over", body="How do you hand over a dying patient?")
    await start(db, settings)
    replier = await login(await member_factory(name="Kit Excerpt"))
    await reply_to(replier, thread_id, body="I say out loud what matters to the family.")
    await run(db, settings, days=1.01)
    [plain] = await mails(db, "excerpt.author@example.org")
    assert "Kit Excerpt replied to your thread “Handing over”." in plain.text_body
    assert "what matters to the family" not in plain.text_body  # titles and links only, by default
    assert (await a.post_form("/account/email", {"kind_replies": "daily", "excerpts": "1"})).status_code == 303
    assert 'value="1" checked' in (await a.get("/account/email")).text
    # The excerpt is of the post the group opens at (its first unread): read the group, then a new one starts.
    await _open_group(db, a, author.id)
    await reply_to(replier, thread_id, body="And I sit down, even for a minute.")
    await run(db, settings, days=2.02)
    digest = (await mails(db, "excerpt.author@example.org"))[-1]
    assert "“And I sit down, even for a minute.”" in digest.text_body
    assert "And I sit down, even for a minute." in digest.html_body
    # A post a patient-identifier check held is never quoted, even after a moderator approved it.
    await _open_group(db, a, author.id)
    await reply_to(replier, thread_id, body="A third thought, later approved.")
    async with db.transaction() as session:
        post_id = await session.scalar(select(Post.id).where(Post.thread_id == thread_id).order_by(Post.id.desc()))
        await review_items.open_item(session, target_kind="post", target_id=post_id, reason="approval", source="phi")
    await run(db, settings, days=3.03)
    digest = (await mails(db, "excerpt.author@example.org"))[-1]
    assert "A third thought" not in digest.text_body and "Kit Excerpt replied" in digest.text_body


async def test_anonymous_writing_is_never_excerpted(db, settings, member_factory, login):
    writer = await member_factory(email="excerpt.writer@example.org")
    async with db.transaction() as session:
        await session.execute(update(User).where(User.id == writer.id).values(mail_excerpts=True))
    me = await login(writer)
    named = await write(me, title="Signed piece", body="Signed words.", visibility="named")
    hidden = await write(me, body="Unsigned words.", visibility="anonymous")
    await start(db, settings)
    other = await login(await member_factory())
    for rid in (named, hidden):
        response = await other.post_form(f"/reflections/{rid}/replies", {"body": f"Quiet support {rid}."})
        assert response.status_code == 303
    await run(db, settings, days=1.01)
    for mail in await mails(db, "excerpt.writer@example.org"):
        assert "Quiet support" not in mail.text_body and "Unsigned words" not in mail.text_body
