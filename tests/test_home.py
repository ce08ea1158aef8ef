"""The signed-in home page reads its sections fresh on every request: nothing on it is cached, so a new thread
or a reply shows on the very next page, for every member (rooms: tests/rooms/test_http.py)."""

from __future__ import annotations

from tests.discussions.conftest import reply_to, start_thread


def _recent(page: str) -> str:
    return page.split('id="home-threads"', 1)[1]


async def test_a_new_thread_and_a_reply_show_on_everyones_next_home_page(member_factory, login):
    writer, reader = await login(await member_factory("resident")), await login(await member_factory("attending"))
    await reader.get("/")  # the page was seen before the write
    thread_id, _ = await start_thread(writer, title="Fresh on the home page")
    for c in (writer, reader):
        recent = _recent((await c.get("/")).text)
        assert f'href="/t/{thread_id}">Fresh on the home page</a>' in recent
        assert "0 replies" in recent.split(f"/t/{thread_id}", 1)[1].split("</li>", 1)[0]
    await reply_to(reader, thread_id)
    recent = _recent((await writer.get("/")).text)
    assert "· 1 reply ·" in recent.split(f"/t/{thread_id}", 1)[1].split("</li>", 1)[0]
