"""Room frames name participants by a room-local id and give times to the minute (issue 14, finding 8).

A participant's row id never leaves the server, so a frame cannot be lined up with rows elsewhere: anonymous
participants' row ids come from a sequence of their own and their join keeps only the day. Moderation frames and
pages address a participant by the same local id the room's frames carry."""

from __future__ import annotations

import json
from datetime import datetime

from community.rooms.models import LOCAL_IDS
from tests.rooms.conftest import presence_until, quiet, recv_until


async def _mod(ws, client_id: str, **frame):
    await ws.send(json.dumps({"type": "moderate", "client_id": client_id, **frame}))
    return await recv_until(ws, lambda f: f.get("client_id") == client_id and f["type"] in ("ack", "error"))


async def _rows(rooms_env, room: int) -> dict[str, tuple]:
    rows = await rooms_env.sql("SELECT label, id, local_id, accepted_rules_at, muted_until FROM room_participants "
                               "WHERE room_id = :r", r=room)
    return {label: (row_id, local, accepted, muted) for label, row_id, local, accepted, muted in rows}


async def test_frames_carry_room_local_ids_and_minutes_never_row_ids(rooms_env):
    server = rooms_env.server()
    anon = await rooms_env.member("resident", name="Ines Hiddenname")
    ben = await rooms_env.member("resident", name="Ben Signed")
    moderator = await rooms_env.member("moderator", name="Mo Derator")
    room = await rooms_env.room_id("after-a-hard-case")
    await rooms_env.join(server, anon, room, anonymous=True)
    for member in (ben, moderator):
        await rooms_env.join(server, member, room)
    wm = await rooms_env.ws(server, moderator, room)
    wb = await rooms_env.ws(server, ben, room)
    wa = await rooms_env.ws(server, anon, room)
    seen: list[dict] = []
    await rooms_env.send(wa, "A long night; I froze at the family meeting.", "c-anon-1")
    message = await recv_until(wb, lambda f: f.get("type") == "message" and "froze" in f.get("html", ""), seen=seen)
    rows = await _rows(rooms_env, room)
    pseudonym = wa.welcome["me"]["label"]
    anon_row, anon_local, accepted, _ = rows[pseudonym]
    ben_row, ben_local, _, _ = rows[ben.user.display_name]

    # The anonymous participant: its own id range, only the day it joined, a random room-local id in the frames.
    assert anon_row >= 10**11
    assert (accepted.hour, accepted.minute, accepted.second, accepted.microsecond) == (0, 0, 0, 0)
    assert 1 <= anon_local <= LOCAL_IDS and anon_local != anon_row
    assert wa.welcome["me"]["pid"] == anon_local and wb.welcome["me"]["pid"] == ben_local != ben_row
    assert message["pid"] == anon_local and message["author"] == pseudonym
    at = datetime.fromisoformat(message["at"])
    assert (at.second, at.microsecond) == (0, 0)
    stored = (await rooms_env.sql("SELECT created_at FROM room_messages WHERE client_id = 'c-anon-1'"))[0][0]
    assert stored.isoformat() not in json.dumps(message) and at == stored.replace(second=0, microsecond=0)

    # Presence names everyone by local id; no frame anyone received carries a row id.
    people = await presence_until(wb, lambda p: {anon_local, ben_local} <= set(p), seen=seen)
    assert {p["pid"] for p in people.values()} == {rows[label][1] for label in rows}
    seen += await quiet(wb, 0.5) + [wb.welcome, wb.history]
    text = json.dumps(seen)
    for label, (row_id, *_rest) in rows.items():
        assert f'"pid": {row_id},' not in text and f'"pid": {row_id}}}' not in text, label
    assert str(anon_row) not in text

    # Moderation addresses the same local id: the anonymous participant is muted, nobody else.
    answer = await _mod(wm, "mute-1", action="mute", pid=anon_local, minutes=5)
    assert answer["type"] == "ack", answer
    event = await recv_until(wb, lambda f: f.get("kind") == "mute")
    assert event["pid"] == anon_local
    muted = {label: values[3] is not None for label, values in (await _rows(rooms_env, room)).items()}
    assert muted == {pseudonym: True, ben.user.display_name: False, moderator.user.display_name: False}
    # A row id is no address: muting by it finds nobody (unless it happens to be someone's local id).
    if ben_row not in {values[1] for values in rows.values()}:
        refused = await _mod(wm, "mute-2", action="mute", pid=ben_row, minutes=5)
        assert refused["type"] == "error", refused
