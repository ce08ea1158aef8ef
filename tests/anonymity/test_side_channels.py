"""Side channels of issue 14's findings 8 and 9: nothing that happens to anonymous writing may depend on, or
show, who wrote it. Each test fails on the code before the fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from community.platform.review.models import Notification
from community.platform.review.queue import waited
from community.reflections.models import Reflection, ReflectionReply
from tests.conftest import PASSWORD
from tests.reflections.conftest import write


async def _notes(db, user_id):
    async with db.transaction() as session:
        return list(await session.scalars(select(Notification.text).where(Notification.user_id == user_id)))


async def test_an_anonymous_reply_under_your_own_named_reflection_is_not_marked_author(member_factory, login, db):
    author = await member_factory(name="Named Writer")
    me = await login(author)
    rid = await write(me, body="Signed, about a hard night.", visibility="named")
    response = await me.post_form(f"/reflections/{rid}/replies", {"body": "A second thought, unsigned.",
                                                                 "anonymous": "yes"})
    assert response.status_code == 303, response.text[:2000]
    async with db.transaction() as session:
        reply = (await session.scalars(select(ReflectionReply).where(ReflectionReply.reflection_id == rid))).one()
    assert reply.anonymous and not reply.is_author and reply.pseudonym
    reader = await login(await member_factory(name="Some Reader"))
    page = (await reader.get(f"/reflections/{rid}")).text
    assert f"Anonymous · {reply.pseudonym}" in page
    assert "Anonymous · author" not in page and ">author<" not in page


async def test_staff_anonymous_writing_is_held_by_an_approval_word_like_anyone_elses(member_factory, admin, login,
                                                                                    db):
    adm = await login(admin)
    assert (await adm.post_form("/admin/watched-words", {"phrase": "heldword", "action": "approve",
                                                         "message": ""})).status_code == 303
    states = {}
    for role in ("resident", "moderator"):
        client = await login(await member_factory(role))
        rid = await write(client, body=f"A piece with heldword in it, by a {role}.", visibility="anonymous")
        async with db.transaction() as session:
            states[role] = (await session.get(Reflection, rid)).state
    assert states == {"resident": "hidden", "moderator": "hidden"}
    # Signed writing by staff is still trusted.
    mod = await login(await member_factory("moderator"))
    rid = await write(mod, body="Signed, with heldword in it.", visibility="named")
    async with db.transaction() as session:
        assert (await session.get(Reflection, rid)).state == "visible"


async def test_sanctioning_anonymous_writing_answers_the_same_whoever_wrote_it(member_factory, login, db):
    moderator = await login(await member_factory("moderator", name="Deciding Moderator"))
    answers = {}
    for role in ("resident", "moderator", "admin"):
        writer = await login(await member_factory(role))
        rid = await write(writer, body=f"Anonymous words from a {role}.", visibility="anonymous")
        suspend = await moderator.post_form(f"/review/reflection/{rid}/decide",
                                            {"action": "suspend", "reason": "Guidelines", "days": "1"})
        warn = await moderator.post_form(f"/review/reflection/{rid}/decide",
                                         {"action": "warn", "reason": "Please be kind"})
        answers[role] = (suspend.status_code, "moderator" in suspend.text.lower() and "admin" in suspend.text.lower()
                         and "sanction a moderator" in suspend.text, warn.status_code)
    assert answers["resident"] == answers["moderator"] == answers["admin"], answers
    assert answers["resident"][0] == 403 and answers["resident"][2] == 303


async def test_flaggers_learn_that_action_was_taken_not_which_sanction(member_factory, login, db):
    writer = await login(await member_factory())
    rid = await write(writer, body="Anonymous and flagged.", visibility="anonymous")
    flagger_user = await member_factory(name="Flagging Member")
    flagger = await login(flagger_user)
    assert (await flagger.post_form(f"/flag/reflection/{rid}", {"reason": "harassment"})).status_code == 303
    moderator = await login(await member_factory("moderator"))
    response = await moderator.post_form(f"/review/reflection/{rid}/decide",
                                         {"action": "silence", "reason": "Guidelines", "hours": "24"})
    assert response.status_code == 303, response.text[:2000]
    notes = " ".join(await _notes(db, flagger_user.id))
    assert "took action" in notes
    assert "paused" not in notes and "suspend" not in notes and "contacted" not in notes


def test_the_queue_dates_anonymous_items_by_the_day():
    now = datetime.now(UTC)
    assert waited(now - timedelta(minutes=7), anonymous=True) == "since today" or \
        waited(now - timedelta(minutes=7), anonymous=True) == "since yesterday"  # just after midnight
    assert "min" not in waited(now - timedelta(hours=3), anonymous=True)
    assert waited(now - timedelta(days=3, hours=1), anonymous=True).endswith("days")
    assert "min" in waited(now - timedelta(minutes=7))  # named writing keeps its precise wait


async def test_leaving_anonymously_gives_signed_replies_no_pseudonym_of_the_anonymous_ones(member_factory, login,
                                                                                          db):
    host = await login(await member_factory(name="Thread Host"))
    rid = await write(host, body="Somewhere to answer.", visibility="anonymous")
    leaver = await member_factory(name="Leaving Member", email="leaving@example.org")
    client = await login(leaver)
    assert (await client.post_form(f"/reflections/{rid}/replies", {"body": "Signed words."})).status_code == 303
    assert (await client.post_form(f"/reflections/{rid}/replies", {"body": "Unsigned words.",
                                                                  "anonymous": "yes"})).status_code == 303
    response = await client.post_form("/account/data/delete", {"password": PASSWORD, "choice": "anonymize"})
    assert response.status_code == 303, response.text[:2000]
    async with db.transaction() as session:
        replies = {r.body: r for r in await session.scalars(
            select(ReflectionReply).where(ReflectionReply.reflection_id == rid))}
    signed, unsigned = replies["Signed words."], replies["Unsigned words."]
    assert signed.author_id is None and unsigned.pseudonym
    assert signed.pseudonym != unsigned.pseudonym


async def test_a_sanction_on_anonymous_writing_is_not_in_the_authors_signed_history(member_factory, login, db):
    """Finding 1: sanction the writer of an anonymous piece, then open a signed post of the suspect's: the
    author's history beside it must not list that sanction (walking ids would name every anonymous writer)."""
    from tests.discussions.conftest import post_ids, start_thread

    suspect = await member_factory(name="Suspected Writer")
    client = await login(suspect)
    rid = await write(client, body="Anonymous words moderators will act on.", visibility="anonymous")
    thread_id, _ = await start_thread(client, "A signed thread", "Signed words under my own name.")
    post_id = (await post_ids(db, thread_id))[0]
    moderator = await login(await member_factory("moderator"))
    response = await moderator.post_form(f"/review/reflection/{rid}/decide",
                                         {"action": "warn", "reason": "Distinctive warning words"})
    assert response.status_code == 303, response.text[:2000]
    page = (await moderator.get(f"/review/post/{post_id}")).text
    assert "Signed words under my own name." in page
    assert "Distinctive warning words" not in page and "warn ·" not in page
