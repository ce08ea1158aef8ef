"""Rendered list items for hot pages (category rows, wall cards), cached by everything that goes into them.

The same idea as web.post_fragments: a page of thirty rows spent most of its time in Jinja2 escaping and
attribute lookups for HTML that is the same on every request. Each item's HTML is kept in a small in-process
LRU cache whose key is *content-addressed*: the template object, the item's database row as read in this
request (an asyncpg Record: hashable, compared by value) and every other input of the item's template (e.g.
"3 hours ago", computed per request). A changed row or an edited template gives a new key, so an entry can never
be stale and nothing needs invalidating. The one per-browser value a fragment may hold, the CSRF token, is
rendered as CSRF_MARK (pass `csrf_token=CsrfMarker()`) and replaced by the request's token with `with_csrf`.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from markupsafe import Markup, escape

MAX_ENTRIES = 5000

_cache: OrderedDict[tuple, str] = OrderedDict()

CSRF_MARK = "csrf" + secrets.token_hex(16)  # per process and unguessable: user text can never contain it


class CsrfMarker:
    """Stands for the CSRF token while a fragment is rendered (`{{ csrf_token }}` prints the marker)."""

    def __str__(self) -> str:
        return CSRF_MARK

    def __html__(self) -> str:
        return CSRF_MARK


def with_csrf(html: str, csrf_token: str) -> Markup:
    """Cached HTML with the request's own (escaped) CSRF token in place of the marker."""
    return Markup(html.replace(CSRF_MARK, str(escape(csrf_token))))


def cached(template: Any, key: Hashable) -> str | None:
    """The HTML stored under (template, key), if any."""
    full = (id(template), key)
    html = _cache.get(full)
    if html is not None:
        _cache.move_to_end(full)
    return html


def store(template: Any, key: Hashable, html: str) -> None:
    _cache[(id(template), key)] = html
    if len(_cache) > MAX_ENTRIES:
        _cache.popitem(last=False)


def render(template: Any, key: Hashable, make_context: Callable[[], dict[str, Any]]) -> str:
    """The HTML of one item: from the cache when its key was seen, else `template.render(make_context())`."""
    html = cached(template, key)
    if html is None:
        html = template.render(make_context())
        store(template, key, html)
    return html


def render_items(template: Any, items: Iterable[tuple[Any, dict[str, Any]]]) -> Markup:
    """The concatenated HTML of `items`: (key, template context) pairs; the key holds every input of the
    context, and the template is rendered only on a miss."""
    return Markup("".join(render(template, key, lambda c=context: c) for key, context in items))


def clear() -> None:
    _cache.clear()
