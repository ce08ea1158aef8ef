"""The reflections pillar, as create_app wires it: routes, the reflection and reply adapters, seed prompts,
own data (reflections, replies, reactions, drafts)."""

from __future__ import annotations

from community.platform.pillar import Pillar
from community.reflections import actions, moderation, own_data, prompts, rekey, seed
from community.reflections import drafts as reflection_drafts
from community.reflections.web import drafts, journal, pages
from community.reflections.web import moderation as moderation_web
from community.reflections.web import prompts as prompts_web

PILLAR = Pillar(
    name="reflections",
    routes=(*pages.routes, *drafts.routes, *journal.routes, *prompts_web.routes, *moderation_web.routes),
    adapters=moderation.adapters,
    seeders=(seed.seed,),
    own_data=own_data.OWN_DATA,
    home=prompts.home_section,
    rekey=rekey.rekey,
    housekeeping=(reflection_drafts.purge_old,),
    draft_kinds=reflection_drafts.DRAFT_KINDS,
    own_drafts=reflection_drafts.OWN_DRAFTS,
    search=actions.search_wall,
    search_heading="Shared reflections",
)
