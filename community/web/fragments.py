"""Rendered list items for hot pages (category rows, wall cards), cached by everything that goes into them.

The same idea as web.post_fragments: a page of thirty rows spent most of its time in Jinja2 escaping and
attribute lookups for HTML that is the same on every request. Each item's HTML is kept in a small in-process
LRU cache whose key is *content-addressed*: the template object, the item's database row as read in this
request (an asyncpg Record: hashable, compared by value) and every other input of the item's template (e.g.
"3 hours ago", computed per request). A changed row or an edited template gives a new key, so an entry can never
be stale and nothing needs invalidating. Items must not contain per-browser values (no CSRF tokens).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from markupsafe import Markup

MAX_ENTRIES = 5000

_cache: OrderedDict[tuple, str] = OrderedDict()


def render(template: Any, key: Hashable, make_context: Callable[[], dict[str, Any]]) -> str:
    """The HTML of one item: from the cache when its key was seen, else `template.render(make_context())`."""
    full = (id(template), key)
    html = _cache.get(full)
    if html is None:
        html = template.render(make_context())
        _cache[full] = html
        if len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(full)
    return html


def render_items(template: Any, items: Iterable[tuple[Any, dict[str, Any]]]) -> Markup:
    """The concatenated HTML of `items`: (key, template context) pairs; the key holds every input of the
    context, and the template is rendered only on a miss."""
    return Markup("".join(render(template, key, lambda c=context: c) for key, context in items))


def clear() -> None:
    _cache.clear()
