"""Bad input on every thread form: a clear message, a 4xx, the draft kept, never a 500."""

import pytest
from sqlalchemy import select

from community.discussions.models import Post
from tests.discussions.conftest import post_ids, reply_to, start_thread


async def raw_post(client, url, body: bytes):
    token = await client.ensure_csrf()
    return await client.post(url, content=b"csrf_token=" + token.encode() + b"&" + body,
                             headers={"content-type": "application/x-www-form-urlencoded"})


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"title": "", "body": "Body"}, "title", "Please give your thread a title."),
    ({"title": "x" * 201, "body": "Body"}, "title", "Use at most 200 characters"),
    ({"title": "Title", "body": ""}, "body", "Please write something before posting."),
    ({"title": "Title", "body": "   \n  "}, "body", "Please write something before posting."),
    ({"title": "Title", "body": "y" * 20001}, "body", "Use at most 20,000 characters"),
    ({"title": "Title"}, "body", "Please write something before posting."),
])
async def test_new_thread_invalid(resident, login, data, field, message):
    client = await login(resident)
    response = await client.post_form("/c/introductions/new", data)
    assert response.status_code == 400
    assert message in response.text
    assert 'id="f-' + field + '"' in response.text and 'aria-invalid="true"' in response.text
    for value in data.values():
        if value.strip():
            assert value[:100] in response.text  # the draft is kept


@pytest.mark.parametrize("body", [b"title=Fine&body=bad%FFbytes", b"title=Fine&body=nul%00byte",
                                  b"title=%FF&body=fine", b"title=Fine&body=%C3%28"])
async def test_new_thread_invalid_bytes(resident, login, body, db):
    client = await login(resident)
    response = await raw_post(client, "/c/introductions/new", body)
    assert response.status_code == 400
    assert "not valid UTF-8" in response.text or "NUL character" in response.text
    assert "Fine" in response.text or "fine" in response.text
    async with db.transaction() as session:
        assert not (await session.scalars(select(Post.id).where(Post.author_id == resident.id))).all()


async def test_reply_invalid_inputs(resident, attending, login):
    a, b = await login(resident), await login(attending)
    thread_id, _ = await start_thread(a)
    for body, status in ((b"body=", 400), (b"body=%FF", 400), (b"body=ok%00", 400),
                         (b"body=" + b"z" * 20001, 400), (b"body=fine&reply_to=abc", 400),
                         (b"body=fine&reply_to=-1", 400), (b"body=fine&reply_to=99999999999999999999999", 400)):
        response = await raw_post(b, f"/t/{thread_id}/reply", body)
        assert response.status_code == status, (body, response.status_code)
        assert "alert-error" in response.text
    # Unknown threads and absurd ids are 404s, not database errors.
    assert (await b.post_form("/t/999999999/reply", {"body": "hi"})).status_code == 404
    assert (await b.get("/t/99999999999999999999999999")).status_code == 404
    assert (await b.get("/p/99999999999999999999999999")).status_code == 404


async def test_edit_invalid_keeps_draft(resident, login, db):
    client = await login(resident)
    thread_id, _ = await start_thread(client, "Title here", "Body here")
    post_id = (await post_ids(db, thread_id))[0]
    response = await client.post_form(f"/p/{post_id}/edit", {"title": "t" * 300, "body": "my new draft"})
    assert response.status_code == 400 and "my new draft" in response.text
    response = await raw_post(client, f"/p/{post_id}/edit", b"title=ok&body=%FF%FE")
    assert response.status_code == 400


async def test_script_payloads_are_stored_without_script(resident, login, db):
    client = await login(resident)
    payload = ('<script>alert(1)</script><img src=x onerror=alert(1)> [x](javascript:alert(1)) '
               '<a href="javascript:alert(2)">y</a> <svg onload=alert(3)>')
    thread_id, _ = await start_thread(client, '<script>alert("title")</script>', payload)
    async with db.transaction() as session:
        html = (await session.scalars(select(Post.body_html).where(Post.thread_id == thread_id))).one()
    from html.parser import HTMLParser

    found: list[tuple[str, list]] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Tags().feed(html)
    assert found and all(tag in ("p", "a") for tag, _ in found)
    for _, attrs in found:
        for name, value in attrs:
            assert not name.startswith("on") and "javascript" not in (value or "").lower()
    page = await client.get(f"/t/{thread_id}")
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;" in page.text


async def test_rate_limit_429_keeps_draft(resident, login_with):
    client = await login_with(resident, posts_per_minute=2)
    await start_thread(client, "One", "First")
    await start_thread(client, "Two", "Second")
    response = await client.post_form("/c/introductions/new", {"title": "Three", "body": "My precious draft"})
    assert response.status_code == 429
    assert "My precious draft" in response.text and "at most 2 posts a minute" in response.text
    assert 1 <= int(response.headers["retry-after"]) <= 61


async def test_reply_rate_limit_counts_the_writers_recent_posts(resident, login_with):
    """Replies are counted with the writer's other posts of the minute (read with the thread they go to)."""
    client = await login_with(resident, posts_per_minute=2)
    thread_id, _ = await start_thread(client, "One", "First")
    await reply_to(client, thread_id, "A first reply.")
    response = await client.post_form(f"/t/{thread_id}/reply", {"body": "A reply too many"})
    assert response.status_code == 429
    assert "A reply too many" in response.text and "at most 2 posts a minute" in response.text
    assert 1 <= int(response.headers["retry-after"]) <= 61


async def test_patient_identifiers_need_confirmation(resident, login, db):
    from community.platform.review.models import ReviewItem

    client = await login(resident)
    text = "My patient John Smith, MRN 12345678, was seen on 03/14/2024 in room 12B."
    response = await client.post_form("/c/introductions/new", {"title": "A hard case", "body": text})
    assert response.status_code == 400
    assert "<mark" in response.text and 'name="confirm_phi"' in response.text
    assert "A hard case" in response.text and "MRN 12345678" in response.text
    thread_id, _ = await start_thread(client, "A hard case", text, confirm_phi="yes")
    post_id = (await post_ids(db, thread_id))[0]
    async with db.transaction() as session:
        item = (await session.scalars(select(ReviewItem).where(ReviewItem.target_kind == "post",
                                                               ReviewItem.target_id == post_id))).one()
    assert "privacy" in item.reasons


async def test_crisis_language_shows_resources_and_queues_urgent_item(resident, login, db):
    from community.platform.review.models import ReviewItem

    client = await login(resident)
    thread_id, response = await start_thread(client, "Tonight", "I want to kill myself tonight. I can't go on.")
    assert "support=1" in response.headers["location"]
    page = await client.get(response.headers["location"])
    assert "crisis-panel" in page.text and "988" in page.text
    assert "I want to kill myself" in page.text  # not hidden
    post_id = (await post_ids(db, thread_id))[0]
    async with db.transaction() as session:
        item = (await session.scalars(select(ReviewItem).where(ReviewItem.target_id == post_id))).one()
        state = await session.scalar(select(Post.state).where(Post.id == post_id))
    assert item.urgent and item.priority == 0 and "crisis" in item.reasons and state == "visible"
