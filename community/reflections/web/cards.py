"""Reflection cards as HTML, rendered in Python: the wall's cards and the journal's entries.

A card is a dozen fields; through a Jinja2 macro it was forty look-ups through the environment and a dozen
`Markup` escapes. Here only what members wrote (title, excerpt, prompt title, a named writer's name) is escaped,
by markupsafe, and the rest is our own text. One function for both pages, so the wall and the journal cannot
drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup, escape

from community.reflections.actions import Card

_VISIBILITY_TAGS = {"private": "Private", "anonymous": "Shared anonymously", "named": "Shared under your name"}
_REACTIONS = (("thanks", "thank you"), ("metoo", "me too"), ("helped", "this helped"))
_HEADINGS = frozenset(("h2", "h3"))


def render_card(card: Card, *, heading: str, when: str, journal: bool = False) -> str:
    """One card as an <article>. `when`: its coarse time (templates.coarse_time). `journal`: the writer's own
    view, which names the card's visibility instead of its byline and shows no counts."""
    if heading not in _HEADINGS:
        raise ValueError(f"a card's heading is h2 or h3, not {heading!r}")
    cid = card.id
    parts = [f'<article class="card reflection-card" aria-labelledby="r-{cid}-title">\n'
             f'<{heading} id="r-{cid}-title" class="reflection-title"><a href="/reflections/{cid}">'
             f'{escape(card.title or "Untitled reflection")}</a></{heading}>\n<p class="reflection-meta">']
    if journal:
        parts.append(f'<span class="tag tag-{card.visibility}">{_VISIBILITY_TAGS[card.visibility]}</span>')
    if card.state != "visible":
        parts.append(f'<span class="tag tag-warn">{escape(card.state)} by a moderator</span>')
    if not journal:
        byline = "Anonymous" if card.anonymous else escape(card.author_name or "Former member")
        parts.append(f'<span class="byline">{byline}</span> ·')
    parts.append(f' <span class="when">{when}</span>')
    if card.theme_label:
        parts.append(f' · <span class="theme">{escape(card.theme_label)}</span>')
    parts.append("</p>\n")
    if card.prompt_title:
        parts.append(f'<p class="reflection-prompt small muted">Answering: {escape(card.prompt_title)}</p>\n')
    parts.append(f'<p class="excerpt">{escape(card.excerpt)}</p>\n')
    if not journal:
        replies = card.replies
        stats = [f"{replies} {'reply' if replies == 1 else 'replies'}"]
        stats += [f"{card.reactions[kind]} {label}" for kind, label in _REACTIONS if card.reactions.get(kind)]
        parts.append(f'<p class="reflection-stats small muted">{" · ".join(stats)}</p>\n')
    parts.append("</article>")
    return "".join(parts)


def render_cards(cards: Iterable[tuple[Card, str]], *, heading: str, journal: bool = False) -> Markup:
    """(card, when) pairs as one block of HTML, in order."""
    return Markup("\n".join(render_card(card, heading=heading, when=when, journal=journal) for card, when in cards))
