"""The private journal: the member's own reflections (every visibility), by date or by theme, with search, and
the replies they wrote on others' reflections (anonymous and named), to edit or delete."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.platform.accounts import scopes
from community.platform.web.common import anonymity_of, db_of, viewer_of
from community.platform.web.templates import render
from community.reflections import actions
from community.reflections import prompts as prompt_actions
from community.reflections import replies as reply_actions
from community.reflections.models import VISIBILITIES


async def journal(request: Request) -> Response:
    viewer = viewer_of(request)
    anonymity = anonymity_of(request)
    q = " ".join(request.query_params.get("q", "").replace("\x00", "").split())[:200]
    theme = request.query_params.get("theme", "")
    theme = theme if theme in prompt_actions.THEMES or theme == "none" else ""
    view = "theme" if request.query_params.get("view") == "theme" else "date"
    visibility = request.query_params.get("visibility", "")
    visibility = visibility if visibility in VISIBILITIES else ""
    # The filters are about reflections; the replies are listed on the unfiltered page.
    filtered = bool(q or theme or visibility)
    # Prepared statements on a bare asyncpg connection: the keyring (once, for both lists), the cards, the
    # replies, and the prompt of the week only when the page shows it (an empty journal, no search).
    async with db_of(request).raw() as connection:
        tags = await scopes.raw_tags_of(connection, anonymity, viewer.id)
        cards = await actions.journal_cards(connection, viewer, anonymity, tags, q=q, theme=theme,
                                            visibility=visibility)
        my_replies = [] if filtered else await reply_actions.list_my_replies(connection, viewer, anonymity, tags)
        weekly = None if cards or q else await prompt_actions.prompt_of_week_row(connection)
    groups: dict[str, list[actions.Card]] = {}
    if view == "theme":
        for card in cards:
            groups.setdefault(card.theme_label or "No theme", []).append(card)
    return render(request, "reflections/journal.html", {
        "cards": cards, "groups": groups, "q": q, "theme": theme, "view": view, "visibility": visibility,
        "themes": prompt_actions.THEMES, "weekly": weekly, "visibility_labels": actions.VISIBILITY_LABELS,
        "my_replies": my_replies, "filtered": filtered})


routes = [Route("/journal", journal)]
