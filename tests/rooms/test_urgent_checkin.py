"""An anonymous room participant's crisis message reaches the on-call moderator, and their check-in becomes a
conversation the writer answers under their room pseudonym: no page and no frame names them."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select

from community.platform.review.models import Notification, OnCallHours, ReviewItem, UrgentAlert
from tests.rooms.conftest import quiet, recv_until

pytestmark = pytest.mark.live

NAME, EMAIL = "Quintessa Marlowe-Finch", "qmf.room@example.org"
CRISIS = "Honestly I want to kill myself after tonight."


async def _client(server, member) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=server.url, headers={"origin": server.url})
    client.cookies.set("session", member.token)
    await client.get("/signin")
    return client


async def test_an_anonymous_participant_is_alerted_on_and_answers_unnamed(rooms_env):
    server = rooms_env.server()
    writer = await rooms_env.member(name=NAME, email=EMAIL)
    listener = await rooms_env.member()
    moderator = await rooms_env.member("moderator")
    async with rooms_env.db.transaction() as session:
        for day in range(7):
            session.add(OnCallHours(user_id=moderator.user.id, weekday=day, start_minute=0, end_minute=1440))
    room = await rooms_env.room_id()
    await rooms_env.join(server, writer, room, anonymous=True)
    await rooms_env.join(server, listener, room)
    ws = await rooms_env.ws(server, writer, room)
    other = await rooms_env.ws(server, listener, room)
    await rooms_env.send(ws, CRISIS, "c1")
    await recv_until(ws, lambda f: f["type"] == "resources")
    frames = [await recv_until(other, lambda f: f["type"] == "message"), *await quiet(other, 1.0)]

    async with rooms_env.db.transaction() as session:
        item = (await session.scalars(select(ReviewItem).where(ReviewItem.target_kind == "room_message"))).one()
        alert = (await session.scalars(select(UrgentAlert).where(UrgentAlert.item_id == item.id))).one()
        told = list(await session.scalars(select(Notification.text).where(
            Notification.user_id == moderator.user.id, Notification.kind == "urgent")))
    assert alert.notified == [moderator.user.id] and len(told) == 1 and "a message in a live room" in told[0]

    mod = await _client(server, moderator)
    me = await _client(server, writer)
    try:
        decided = await mod.post(f"/review/room_message/{item.target_id}/decide", data={
            "csrf_token": mod.cookies.get("csrf"), "action": "check_in", "reason": "Are you safe right now?"})
        assert decided.status_code == 303 and decided.headers["location"].startswith("/checkins/")
        url = decided.headers["location"]
        notes = (await me.get("/notifications")).text
        note_id = re.search(r'href="/notifications/(\d+)"', notes).group(1)
        assert (await me.get(f"/notifications/{note_id}")).headers["location"] == url
        answered = await me.post(f"{url}/reply", data={"csrf_token": me.cookies.get("csrf"),
                                                       "body": "I am safe. I called the line."})
        assert answered.status_code == 303
        seen = (await mod.get(url)).text
        assert "I am safe. I called the line." in seen
        assert frames[0]["anonymous"] and frames[0]["author"] in seen  # the room pseudonym, as others saw it
        pages = [seen, *[(await mod.get(path)).text for path in
                         ("/review", f"/review/room_message/{item.target_id}", "/notifications", f"/rooms/{room}")]]
    finally:
        await mod.aclose()
        await me.aclose()
    for shown in [*pages, *(str(frame) for frame in frames)]:
        for secret in (NAME, EMAIL, writer.user.handle):
            assert secret not in shown
