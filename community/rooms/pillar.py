"""The rooms pillar, as create_app wires it: routes and the socket, the hub's lifespan, the message adapter,
seed rooms, transcript retention, own data, and reminders of followed sessions by mail."""

from __future__ import annotations

from community.platform.pillar import Pillar
from community.rooms import actions, calendar, drafts, own_data, rekey, seed
from community.rooms.moderation import RoomMessageAdapter
from community.rooms.private import PRIVATE_ROOMS  # noqa: F401  (the pillar's PrivateRooms, for app.PILLARS)
from community.rooms.web import calendar as calendar_web
from community.rooms.web import pages

PILLAR = Pillar(
    name="rooms",
    routes=(*calendar_web.routes, *pages.routes),
    adapters=lambda anonymity: (RoomMessageAdapter(anonymity),),
    seeders=(seed.seed,),
    housekeeping=(actions.purge_expired,),
    own_data=own_data.OWN_DATA,
    lifespan=pages.lifespan,
    home=actions.home_section,
    rekey=rekey.rekey,
    mail_jobs=(calendar.announce_new_sessions, calendar.send_reminders),
    draft_kinds=drafts.KINDS,
)
