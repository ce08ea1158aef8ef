"""Presence: a socket gets the whole list once, then only changes (joined / left), across processes too."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.rooms.conftest import apply_presence, presence_until, quiet

pytestmark = pytest.mark.live


async def _presence_frames(ws, within: float = 0.6) -> list[dict]:
    return [f for f in await quiet(ws, within) if f["type"] == "presence"]


async def test_presence_sends_the_list_once_then_deltas(rooms_env):
    one, two = rooms_env.server(), rooms_env.server()
    ada, ben, cy = await rooms_env.member(), await rooms_env.member(), await rooms_env.member()
    room = await rooms_env.room_id()
    await rooms_env.join(one, ada, room)
    await rooms_env.join(two, ben, room)
    await rooms_env.join(one, cy, room)
    wa = await rooms_env.ws(one, ada, room)
    assert "people" not in wa.welcome  # the list comes from the hub, once
    first = json.loads(await asyncio.wait_for(wa.recv(), 5))
    assert first["type"] == "presence" and "people" in first
    people = await presence_until(wa, lambda p: len(p) == 1, people=apply_presence({}, first))
    ada_pid = wa.welcome["me"]["pid"]
    assert set(people) == {ada_pid}

    # Ben joins on the other process: Ada gets a delta naming only him, never the whole list again.
    wb = await rooms_env.ws(two, ben, room)
    ben_pid = wb.welcome["me"]["pid"]
    seen: list[dict] = []
    async with asyncio.timeout(8):
        while ben_pid not in people:
            frame = json.loads(await wa.recv())
            if frame["type"] == "presence":
                seen.append(frame)
                apply_presence(people, frame)
    assert all("people" not in f for f in seen), seen
    assert [p["pid"] for f in seen for p in f["joined"]] == [ben_pid]
    assert {p["label"] for p in people.values()} == {ada.user.display_name, ben.user.display_name}
    # Ben himself gets the whole list (with Ada), then deltas.
    ben_view = await presence_until(wb, lambda p: set(p) == {ada_pid, ben_pid})
    assert ben_view[ada_pid]["label"] == ada.user.display_name

    # Cy opens two tabs; closing one of them changes nothing; closing the last one says "left".
    wc1 = await rooms_env.ws(one, cy, room)
    cy_pid = wc1.welcome["me"]["pid"]
    await presence_until(wa, lambda p: cy_pid in p, people=people)
    wc2 = await rooms_env.ws(one, cy, room)
    await wc2.close()
    later = await _presence_frames(wa)
    assert not any(cy_pid in f.get("left", ()) for f in later), later
    await wc1.close()
    async with asyncio.timeout(8):
        while True:
            frame = json.loads(await wa.recv())
            if frame["type"] == "presence":
                assert "people" not in frame
                apply_presence(people, frame)
                if cy_pid in frame.get("left", ()):
                    break
    assert set(people) == {ada_pid, ben_pid}
    await presence_until(wb, lambda p: set(p) == {ada_pid, ben_pid}, people=ben_view)
