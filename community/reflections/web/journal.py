"""The private journal: the member's own reflections (every visibility), by date or by theme, with search, and
the replies they wrote on others' reflections (anonymous and named), to edit or delete."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.platform.accounts import scopes
from community.platform.web.common import anonymity_of, db_of, viewer_of
from community.platform.web.templates import coarse_time, render
from community.reflections import actions
from community.reflections import prompts as prompt_actions
from community.reflections import replies as reply_actions
from community.reflections.models import VISIBILITIES
from community.reflections.web.cards import render_cards
from community.reflections.web.pages import int_param


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
    before = None if q else int_param(request, "before")
    start = (int_param(request, "start") or 0) if q else 0
    # Prepared statements on a bare asyncpg connection: the keyring (once, for both lists), the cards, the
    # newest replies (first page only), and the prompt of the week only when the page shows it (an empty journal,
    # no search).
    first = before is None and not start
    async with db_of(request).raw() as connection:
        tags = await scopes.raw_tags_of(connection, anonymity, viewer.id)
        page = await actions.journal_cards(connection, viewer, anonymity, tags, q=q, theme=theme,
                                           visibility=visibility, before=before, offset=start,
                                           limit=actions.JOURNAL_PAGE)
        my_replies, more_replies = (([], False) if filtered or not first else await reply_actions.list_my_replies(
            connection, viewer, anonymity, tags, limit=reply_actions.MY_REPLIES_ON_JOURNAL))
        weekly = None if page.cards or q or not first else await prompt_actions.prompt_of_week_row(connection)
    cards = page.cards
    now = datetime.now(UTC)
    dated = [(card, coarse_time(card.created_at, now)) for card in cards]
    groups: dict[str, list[tuple[actions.Card, str]]] = {}
    if view == "theme":
        for item in dated:
            groups.setdefault(item[0].theme_label or "No theme", []).append(item)
    return render(request, "reflections/journal.html", {
        "cards": cards, "groups": {label: render_cards(items, heading="h3", journal=True)
                                   for label, items in groups.items()},
        "cards_html": None if groups else render_cards(dated, heading="h2", journal=True),
        "q": q, "theme": theme, "view": view, "visibility": visibility,
        "themes": prompt_actions.THEMES, "weekly": weekly, "visibility_labels": actions.VISIBILITY_LABELS,
        "my_replies": my_replies, "more_replies": more_replies, "filtered": filtered, "first": first,
        "more": page.more, "start": start, "page_size": actions.JOURNAL_PAGE})


async def my_replies(request: Request) -> Response:
    """Every reply the member wrote on reflections, newest first, fifty a page: the journal shows the newest."""
    viewer = viewer_of(request)
    anonymity = anonymity_of(request)
    before = int_param(request, "before")
    async with db_of(request).raw() as connection:
        tags = await scopes.raw_tags_of(connection, anonymity, viewer.id)
        replies, more = await reply_actions.list_my_replies(connection, viewer, anonymity, tags, before=before,
                                                            limit=reply_actions.MY_REPLIES_PAGE)
    return render(request, "reflections/my_replies.html", {"my_replies": replies, "more": more, "before": before})


routes = [Route("/journal", journal), Route("/journal/replies", my_replies)]
