"""The discussions pillar, as create_app wires it: routes, the post adapter, seed categories, own data."""

from __future__ import annotations

from community.discussions import drafts, own_data, reads, seed
from community.discussions.moderation import PostAdapter
from community.discussions.web import admin, threads
from community.platform.pillar import Pillar

PILLAR = Pillar(
    name="discussions",
    routes=(*threads.routes, *admin.routes),
    adapters=lambda anonymity: (PostAdapter(),),
    seeders=(seed.seed,),
    own_data=own_data.OWN_DATA,
    home=reads.home_section,
    draft_kinds=drafts.KINDS,
)
