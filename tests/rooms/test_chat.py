"""Two members talk in a room over real WebSockets; the sender's ack carries the committed seq."""

from __future__ import annotations

import pytest

from tests.rooms.conftest import is_message, presence_until, quiet, recv_until

pytestmark = pytest.mark.live


async def test_two_members_exchange_messages(rooms_env):
    server = rooms_env.server()
    ada, ben = await rooms_env.member(), await rooms_env.member("attending")
    room = await rooms_env.room_id()
    for m in (ada, ben):
        await rooms_env.join(server, m, room)
    wa = await rooms_env.ws(server, ada, room)
    wb = await rooms_env.ws(server, ben, room)
    assert wa.welcome["me"]["label"] == ada.user.display_name
    assert wa.welcome["me"]["can_moderate"] is False

    await rooms_env.send(wa, "Rough night. **Three** admissions at once.", "c1")
    seen_a: list = []
    ack = await recv_until(wa, lambda f: f["type"] == "ack", seen=seen_a)
    got = await recv_until(wb, is_message("Rough night"))
    assert got["seq"] == ack["seq"] and got["client_id"] == "c1"
    assert "<strong>Three</strong>" in got["html"]
    assert got["author"] == ada.user.display_name
    mine = [f for f in seen_a if f["type"] == "message"] or [await recv_until(wa, is_message("Rough night"),
                                                                              seen=seen_a)]
    assert mine[0]["seq"] == ack["seq"]

    await rooms_env.send(wb, "Same here. Coffee?", "c2")
    reply = await recv_until(wa, is_message("Coffee"), seen=seen_a)
    assert reply["seq"] == ack["seq"] + 1

    # Presence lists both, by name only.
    people = await presence_until(wa, lambda people: len(people) == 2, seen=seen_a, within=5)
    assert {p["label"] for p in people.values()} == {ada.user.display_name, ben.user.display_name}

    # A fresh connection gets the recent history.
    wc = await rooms_env.ws(server, ada, room)
    assert [f["html"] for f in wc.history["items"] if f["type"] == "message"][-2:] == [got["html"], reply["html"]]
    assert wc.history["reset"] is True
    # Nothing is delivered twice to the first sockets.
    assert not [f for f in await quiet(wb, 0.3) if f.get("seq") == got["seq"]]
