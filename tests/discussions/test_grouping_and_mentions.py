"""Issue 16's in-app notifications: grouped rows (one per recipient, thread and kind while unread, updated in
place), mentions by @handle and by an exact, unique @Display Name (linked in the stored HTML, told once per post),
member cards and the composer's /members/suggest."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from community.discussions.models import Post, Thread, ThreadWatch
from community.platform.accounts.models import User
from community.platform.mentions import Mentioned, choose
from community.platform.notify.notifications import group_key, group_text, notify_grouped, people
from community.platform.review.models import Mention, Notification
from community.platform.text import mention_candidates, render_markdown
from tests.discussions.conftest import reply_to, start_thread

# ---- units: the wording of a group, the mention rule, the rendering -----------------------------------------


def test_people_names_two_and_counts_the_others():
    assert people([], 0) == "Someone"
    assert people(["Ana"], 1) == "Ana"
    assert people(["Ana", "Ben"], 2) == "Ana and Ben"
    assert people(["Ana", "Ben", "Cy"], 3) == "Ana, Ben and Cy"
    assert people(["Ana", "Ben", "Cy"], 57) == "Ana, Ben and 55 others"
    assert people(["Ana", "Ben", "Cy"], 4) == "Ana, Ben and 2 others"
    assert people(["Ana"], 2) == "Ana and 1 other"  # the other is no longer a member


def test_group_text_for_one_event_is_its_own_text_and_for_a_tag_names_nobody():
    assert group_text("reply", 1, "Ana replied to your thread “T”.", "T", ["Ana"], 1, False) \
        == "Ana replied to your thread “T”."
    assert group_text("reply", 57, "x", "Night float", ["Ana", "Ben"], 57, False) \
        == "Ana, Ben and 55 others replied in “Night float”."
    assert group_text("reply", 5, "x", "T", ["Ana"], 1, False) == "Ana replied in “T” (5 new)."
    assert group_text("mention", 2, "x", "T", ["Ana", "Ben"], 2, False) == "Ana and Ben mentioned you in “T”."
    tagged = group_text("reflection_reply", 3, "Someone replied to your anonymous reflection “Mine”.", "Mine",
                        ["Ana"], 1, True)
    assert tagged == "3 new replies to your anonymous reflection." and "Mine" not in tagged


def _m(uid, handle, name, suspended=False):
    return Mentioned(uid, handle, name, suspended)


def test_mention_rule_handles_unique_names_and_ambiguity():
    rows = [_m(1, "sam_okafor", "Sam Okafor"), _m(2, "ana", "Ana"), _m(3, "ana_lopez", "Ana Lopez"),
            _m(4, "jo_park", "Jo Park"), _m(5, "jo_park2", "Jo Park")]
    handles, names = mention_candidates("Thanks @SAM_OKAFOR, @Ana Lopez and @Jo Park! Also @ana.")
    resolved = choose(handles, names, rows)
    assert resolved.links["sam_okafor"] == "sam_okafor"  # a handle, whatever its case
    assert resolved.links["ana lopez"] == "ana_lopez"  # several words: the unique display name wins
    assert resolved.links["ana"] == "ana"  # one word: the handle
    assert "jo park" not in resolved.links and 4 not in resolved.members and 5 not in resolved.members  # two Jo Parks
    assert set(resolved.members) == {1, 2, 3}


def test_mentions_are_prose_only():
    handles, names = mention_candidates("`@sam_okafor` in code, mail sam@example.org, https://x.org/@sam_okafor\n\n"
                                        "```\n@ana\n```\n")
    assert handles == [] and names == []


def test_rendered_mentions_are_links_to_the_card_and_stay_sanitized():
    html = render_markdown("Hi @sam_okafor and @Ana Lopez. [a link @sam_okafor](https://x.org) `@sam_okafor`",
                           {"sam_okafor": "sam_okafor", "ana lopez": "ana_lopez"})
    assert '<a href="/members/sam_okafor" rel="nofollow noopener ugc">@sam_okafor</a>' in html
    assert '<a href="/members/ana_lopez" rel="nofollow noopener ugc">@Ana Lopez</a>' in html
    assert html.count("/members/") == 2  # not inside the other link, not in code
    # A handle never reaches the HTML unquoted (handles are [a-z0-9_] today; the quoting is the guard).
    odd = render_markdown("@x", {"x": 'a"><script>'})
    assert "<script>" not in odd and "%22%3E%3Cscript%3E" in odd


# ---- grouping over HTTP and in the database ------------------------------------------------------------------

async def _rows(db, user_id, kind=None):
    async with db.transaction() as session:
        query = select(Notification).where(Notification.user_id == user_id)
        if kind:
            query = query.where(Notification.kind == kind)
        return list(await session.scalars(query.order_by(Notification.id)))


async def test_replies_in_one_thread_are_one_row_updated_in_place(db, member_factory, login):
    author = await member_factory()
    ana, ben, cy = [await member_factory(name=n) for n in ("Ana Grouping", "Ben Grouping", "Cy Grouping")]
    a = await login(author)
    thread_id, _ = await start_thread(a, "Busy night")
    await reply_to(await login(ana), thread_id, "First reply.")
    [row] = await _rows(db, author.id)
    row_id, first_at = row.id, row.created_at
    await reply_to(await login(ben), thread_id, "Second.")
    cy_client = await login(cy)
    await reply_to(cy_client, thread_id, "Third.")
    await reply_to(cy_client, thread_id, "Fourth.")
    [row] = await _rows(db, author.id)
    assert row.id == row_id and row.count == 4 and row.actor_ids == [cy.id, ben.id, ana.id]
    assert row.created_at >= first_at and row.last_id > row.id and row.group_key == group_key("reply", "thread", thread_id)
    page = await a.get("/notifications")
    assert "Cy Grouping, Ben Grouping and Ana Grouping replied in “Busy night” (4 new)." in page.text
    assert re.search(r'class="badge"[^>]*>\s*1\s*<', page.text)  # the unread count counts groups
    # Opening it marks the group read and goes to the first unread reply.
    posts = await _post_ids(db, thread_id)
    opened = await a.get(f"/notifications/{row_id}")
    assert opened.status_code == 303 and opened.headers["location"] == f"/p/{posts[1]}"
    [row] = await _rows(db, author.id)
    assert row.read_at is not None
    # The next reply starts a new group.
    await reply_to(await login(ana), thread_id, "Fifth.")
    rows = await _rows(db, author.id)
    assert len(rows) == 2 and rows[1].count == 1 and rows[1].read_at is None


async def _post_ids(db, thread_id):
    async with db.transaction() as session:
        return list(await session.scalars(select(Post.id).where(Post.thread_id == thread_id).order_by(Post.position)))


async def test_fifty_seven_repliers_are_one_row(db, member_factory, login):
    """The issue's thread: 57 "X replied" rows become "Ana, Ben and 55 others replied to <thread>"."""
    author = await member_factory()
    repliers = [await member_factory(name=f"Replier {n:02d}") for n in range(57)]
    async with db.transaction() as session:
        for replier in repliers:  # one upsert each, as the fan-out does per post
            await notify_grouped(session, [{"user_id": author.id, "kind": "reply", "text": "x replied",
                                            "url": "/notifications", "group_key": "reply:thread:999999",
                                            "subject": "Night float", "actor_ids": [replier.id]}])
    [row] = await _rows(db, author.id)
    assert row.count == 57 and len(row.actor_ids) == 57
    page = await (await login(author)).get("/notifications")
    assert "Replier 56, Replier 55 and 55 others replied in “Night float”." in page.text


async def test_a_members_kinds_are_separate_groups(db, member_factory, login):
    author, sam = await member_factory(), await member_factory(name="Sam Kinds")
    thread_id, _ = await start_thread(await login(author), "Two kinds")
    other = await member_factory()
    await reply_to(await login(other), thread_id, f"Adding @{sam.handle} here.")
    await reply_to(await login(other), thread_id, "And a plain reply.")
    rows = await _rows(db, author.id)
    assert [(r.kind, r.count) for r in rows] == [("reply", 2)]
    [mention] = await _rows(db, sam.id)
    assert mention.kind == "mention" and mention.group_key == group_key("mention", "thread", thread_id)


# ---- mentions -------------------------------------------------------------------------------------------------

async def test_mentions_link_and_notify_once_per_post(db, member_factory, login):
    writer = await member_factory(name="Writer Mentions")
    sam = await member_factory(name="Sam Mentionable")
    lee = await member_factory(name="Lee Uniquename")
    jo1, jo2 = await member_factory(name="Jo Twin"), await member_factory(name="Jo Twin")
    w = await login(writer)
    thread_id, _ = await start_thread(w, "Mentions", body=f"Thanks @{sam.handle}, @Lee Uniquename and @Jo Twin.")
    async with db.transaction() as session:
        html = await session.scalar(select(Post.body_html).where(Post.thread_id == thread_id))
    assert f'<a href="/members/{sam.handle}" rel="nofollow noopener ugc">@{sam.handle}</a>' in html
    assert f'<a href="/members/{lee.handle}" rel="nofollow noopener ugc">@Lee Uniquename</a>' in html
    assert "@Jo Twin" in html and jo1.handle not in html and jo2.handle not in html  # ambiguous: plain text
    for member in (sam, lee):
        [row] = await _rows(db, member.id)
        assert row.kind == "mention" and row.text == "Writer Mentions mentioned you in “Mentions”."
    assert await _rows(db, jo1.id) == [] and await _rows(db, jo2.id) == []
    # An edit neither tells them again nor misses someone it adds.
    post_id = (await _post_ids(db, thread_id))[0]
    kim = await member_factory(name="Kim Added")
    response = await w.post_form(f"/p/{post_id}/edit", {"title": "Mentions",
                                                         "body": f"Thanks @{sam.handle} and @{kim.handle}!"})
    assert response.status_code == 303, response.text[:500]
    assert len(await _rows(db, sam.id)) == 1 and (await _rows(db, sam.id))[0].count == 1
    [kim_row] = await _rows(db, kim.id)
    assert kim_row.kind == "mention"
    response = await w.post_form(f"/p/{post_id}/edit", {"title": "Mentions", "body": f"Only @{kim.handle} now."})
    assert response.status_code == 303 and len(await _rows(db, kim.id)) == 1
    async with db.transaction() as session:
        told = set(await session.scalars(select(Mention.user_id).where(Mention.target_id == post_id)))
    assert told == {sam.id, lee.id, kim.id}


async def test_no_mention_for_self_suspended_muted_or_unseen(db, member_factory, login, moderator):
    writer = await member_factory()
    gone = await member_factory(suspended_at=datetime.now(UTC))
    quiet = await member_factory()
    w = await login(writer)
    thread_id, _ = await start_thread(w, "Quiet please")
    async with db.transaction() as session:
        session.add(ThreadWatch(user_id=quiet.id, thread_id=thread_id, level="mute"))
    await reply_to(w, thread_id, f"@{writer.handle} @{gone.handle} @{quiet.handle}")
    assert await _rows(db, writer.id) == [] and await _rows(db, gone.id) == [] and await _rows(db, quiet.id) == []
    # A post the mentioned member cannot see: a moderator's reply in a hidden thread tells them nothing visible.
    reader = await member_factory()
    hidden_thread, _ = await start_thread(await login(await member_factory()), "Soon hidden")
    async with db.transaction() as session:
        await session.execute(update(Post).where(Post.thread_id == hidden_thread).values(state="hidden"))
        await session.execute(update(Thread).where(Thread.id == hidden_thread).values(state="hidden"))
    await reply_to(await login(moderator), hidden_thread, f"Checking with @{reader.handle}.")
    page = await (await login(reader)).get("/notifications")
    assert "mentioned you" not in page.text


async def test_member_card_and_handles_on_posts(db, member_factory, login):
    sam = await member_factory(name="Sam Card", specialty="Pediatrics")
    viewer = await login(await member_factory())
    card = await viewer.get(f"/members/{sam.handle}")
    assert card.status_code == 200 and f"@{sam.handle}" in card.text and "Pediatrics" in card.text
    assert sam.email not in card.text
    assert (await viewer.get("/members/nobody_here_at_all")).status_code == 404
    thread_id, _ = await start_thread(await login(sam), "Handles shown")
    page = await viewer.get(f"/t/{thread_id}")
    assert (f'<a href="/members/{sam.handle}" class="member-card-link">Sam Card</a> '
            f'<span class="handle">@{sam.handle}</span>') in page.text
    async with db.transaction() as session:
        await session.execute(update(User).where(User.id == sam.id).values(suspended_at=datetime.now(UTC)))
    assert (await viewer.get(f"/members/{sam.handle}")).status_code == 404


async def test_suggest_is_bounded_signed_in_and_lists_no_emails_or_suspended(db, member_factory, login, client,
                                                                             login_with):
    for n in range(12):
        await member_factory(name=f"Saoirse Suggest{n}")
    hidden = await member_factory(name="Saoirse Suspended", suspended_at=datetime.now(UTC),
                                  suspended_until=datetime.now(UTC) + timedelta(days=3))
    me = await member_factory(name="Saoirse Myself")
    c = await login(me)
    response = await c.get("/members/suggest?q=saoirse")
    found = response.json()["members"]
    assert response.status_code == 200 and 0 < len(found) <= 8
    assert all(set(m) == {"handle", "name", "role"} and m["name"].startswith("Saoirse") for m in found)
    assert hidden.handle not in response.text and me.handle not in response.text and "@example.org" not in response.text
    by_word = (await c.get("/members/suggest?q=@suggest1")).json()["members"]  # a later word of the name
    assert by_word and all("Suggest1" in m["name"] for m in by_word)
    assert (await c.get("/members/suggest?q=")).json() == {"members": []}
    wild = (await c.get("/members/suggest?q=%25%25")).json()["members"]  # "%" is not a wildcard
    assert wild == []
    bad = await c.get("/members/suggest?q=" + "x" * 31)
    assert bad.status_code == 400 and "at most 30" in bad.json()["error"]
    nul = await c.get("/members/suggest?q=a%00b")  # (the middleware may drop the NUL before the handler)
    assert nul.status_code in (200, 400) and "members" in nul.text or "error" in nul.text
    signed_out = await client.get("/members/suggest?q=sa")
    assert signed_out.status_code in (303, 401) and "Saoirse" not in signed_out.text
    limited = await login_with(me, member_suggest_per_minute=3)
    codes = [(await limited.get("/members/suggest?q=sao")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
