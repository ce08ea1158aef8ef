"""A room's crisis "resources" frame carries the deployment's CRISIS_RESOURCES, not the defaults."""

from __future__ import annotations

import pytest

from community.settings import DEFAULT_RESOURCES
from tests.rooms.conftest import recv_until

pytestmark = pytest.mark.live

UK = ("Samaritans|Call 116 123, free, day or night.|tel:116123;"
      "Shout|Text SHOUT to 85258.|sms:85258")


async def test_resources_frame_carries_the_configured_list(rooms_env):
    server = rooms_env.server(CRISIS_RESOURCES=UK)
    ada = await rooms_env.member()
    room = await rooms_env.room_id()
    await rooms_env.join(server, ada, room)
    ws = await rooms_env.ws(server, ada, room)
    await rooms_env.send(ws, "Honestly I want to kill myself after tonight.", "crisis")
    frame = await recv_until(ws, lambda f: f["type"] == "resources")
    assert frame["resources"] == [
        {"name": "Samaritans", "description": "Call 116 123, free, day or night.", "link": "tel:116123"},
        {"name": "Shout", "description": "Text SHOUT to 85258.", "link": "sms:85258"},
    ]
    assert not {r["name"] for r in frame["resources"]} & {name for name, _d, _l in DEFAULT_RESOURCES}
