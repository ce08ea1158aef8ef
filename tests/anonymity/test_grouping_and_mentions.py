"""Issue 16's grouping and mentions leak nothing about anonymous writing.

- A grouped row never combines a member-addressed and a tag-addressed notification: a writer's signed thread, named
  reflection and anonymous reflection give three groups, the anonymous one addressed to its tag only, with no
  actor, no title, the day only and numbers of the tag sequence (the signed sequence does not move when it grows).
- A group on a named reflection names nobody (its replies may be anonymous).
- Mentions resolve to members, never through anonymous writing: an anonymous piece's "@handle" links nobody and
  tells nobody (telling would hand the mentioned member a piece to match with its writer), a pseudonym is nobody's
  handle, and a member's card shows none of their writing.
"""

from __future__ import annotations

import re
from datetime import UTC, time

from sqlalchemy import select, text

from community.platform.review.models import Mention, Notification
from community.reflections.models import Reflection, ReflectionReply
from tests.discussions.conftest import reply_to, start_thread
from tests.reflections.conftest import write

ANON_IDS = 10**11


async def _reply(client, rid: int, body: str, anonymous: bool = True) -> int:
    response = await client.post_form(f"/reflections/{rid}/replies",
                                      {"body": body, **({"anonymous": "yes"} if anonymous else {})})
    assert response.status_code == 303, response.text[:1000]
    return int(re.search(r"#reply-(\d+)", response.headers["location"]).group(1))


async def _member_sequence(db) -> int:
    async with db.transaction() as session:
        return await session.scalar(text("SELECT last_value FROM notifications_id_seq"))


async def test_signed_and_anonymous_groups_never_combine(member_factory, login, db):
    writer, reader = await member_factory(), await member_factory(name="Reader Grouping")
    me, them = await login(writer), await login(reader)
    thread_id, _ = await start_thread(me, "A signed thread")
    named = await write(me, title="A named piece", body="Signed words.", visibility="named")
    hidden = await write(me, title="My secret title", body="Unsigned words.", visibility="anonymous")
    for n in range(2):
        await reply_to(them, thread_id, f"Signed reply {n}.")
        await _reply(them, hidden, f"Kind words {n}.", anonymous=False)
    await _reply(them, named, "Anonymous kindness.", anonymous=True)
    await _reply(them, named, "Signed kindness.", anonymous=False)
    before = await _member_sequence(db)
    await _reply(them, hidden, "One more.", anonymous=False)  # the tag's group grows in place
    assert await _member_sequence(db) == before  # ... without a number of the signed sequence
    async with db.transaction() as session:
        tag = await session.scalar(select(Reflection.author_tag).where(Reflection.id == hidden))
        rows = list(await session.scalars(select(Notification).where(
            (Notification.user_id == writer.id) | (Notification.recipient_tag == tag))))
    assert all((row.user_id is None) != (row.recipient_tag is None) for row in rows)
    groups = {row.group_key: row for row in rows}
    assert len(rows) == len(groups) == 3
    thread = groups[f"reply:thread:{thread_id}"]
    assert thread.user_id == writer.id and thread.count == 2 and thread.actor_ids == [reader.id]
    on_named = groups[f"reflection_reply:reflection:{named}"]
    assert on_named.user_id == writer.id and on_named.count == 2 and on_named.actor_ids == []
    anonymous = groups[f"reflection_reply:reflection:{hidden}"]
    assert anonymous.user_id is None and anonymous.recipient_tag == tag and anonymous.count == 3
    assert anonymous.actor_ids == [] and anonymous.subject is None
    assert anonymous.created_at.astimezone(UTC).time() == time(0, 0)
    assert min(anonymous.id, anonymous.last_id, *anonymous.event_ids) >= ANON_IDS and len(anonymous.event_ids) == 3
    page = (await me.get("/notifications")).text
    assert "3 new replies to your anonymous reflection." in page and "My secret title" not in page
    assert "2 new replies to “A named piece”." in page and "Reader Grouping replied in “A signed thread” (2 new)" in page
    # "Mark all as read" moves the watermark; the next reply counts only itself.
    assert (await me.post_form("/notifications/read", {})).status_code == 303
    await _reply(them, hidden, "After the watermark.", anonymous=False)
    page = (await me.get("/notifications")).text
    assert "Someone replied to your anonymous reflection" in page and "4 new replies" not in page


async def test_mentions_never_pass_through_anonymous_writing(member_factory, login, db):
    sam = await member_factory(name="Sam Mentioned")
    writer = await member_factory(name="Writer Hidden")
    me, other = await login(writer), await login(await member_factory())
    hidden = await write(me, body=f"Thinking of @{sam.handle} and @Sam Mentioned tonight.", visibility="anonymous")
    named = await write(await login(await member_factory()), body="A named piece.", visibility="named")
    reply_id = await _reply(me, named, f"@{sam.handle} would know.", anonymous=True)
    async with db.transaction() as session:
        html = await session.scalar(select(Reflection.body_html).where(Reflection.id == hidden))
        reply = await session.get(ReflectionReply, reply_id)
        told = list(await session.scalars(select(Mention.user_id)))
        sams = list(await session.scalars(select(Notification).where(Notification.user_id == sam.id)))
    assert "/members/" not in html and "/members/" not in reply.body_html
    assert sam.id not in told and sams == []
    # A pseudonym is nobody's handle: mentioning it in a thread tells the writer nothing, and no one is suggested.
    pseudonym = reply.pseudonym
    assert pseudonym
    thread_id, _ = await start_thread(other, "Asking around", body=f"@{pseudonym} and @{pseudonym.lower()}, thanks.")
    async with db.transaction() as session:
        mine = list(await session.scalars(select(Notification).where(Notification.user_id == writer.id,
                                                                     Notification.kind == "mention")))
    assert mine == []
    suggested = (await other.get(f"/members/suggest?q={pseudonym}")).json()["members"]
    assert writer.handle not in {m["handle"] for m in suggested}
    # The writer's card shows who they are, none of their writing.
    card = (await other.get(f"/members/{writer.handle}")).text
    assert "Thinking of" not in card and "/reflections/" not in card and pseudonym not in card
