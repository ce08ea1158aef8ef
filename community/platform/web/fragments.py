"""Rendered list items for hot pages (category rows, wall cards), cached by everything that goes into them.

The same idea as web.post_fragments: a page of thirty rows spent most of its time in Jinja2 escaping and
attribute lookups for HTML that is the same on every request. Each item's HTML is kept in a small in-process
LRU cache whose key is *content-addressed*: the template object, the item's database row as read in this
request (an asyncpg Record: hashable, compared by value) and every other input of the item's template (e.g.
"3 hours ago", computed per request). A changed row or an edited template gives a new key, so an entry can never
be stale and nothing needs invalidating. The one per-browser value a fragment may hold, the CSRF token, is
rendered as CSRF_MARK (pass `csrf_token=CsrfMarker()`) and replaced by the request's token with `with_csrf`.

Large cached HTML is also kept *encoded* (`Spliced`): CPython encodes a str that holds any non-ASCII character
(a name with an accent, a curly quote, the "·" in our own templates) at ~1.7 ns per character, so encoding a
70 KB thread page cost ~120 us, a third of the request. The template prints a marker where a Spliced value
goes, and Templates.render puts the bytes there after encoding the (small) rest of the page.
"""

from __future__ import annotations

import itertools
import secrets
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any

from markupsafe import Markup, escape

MAX_ENTRIES = 5000  # list items and headers: a few hundred bytes to a few KB each
MAX_PAGES = 256  # joined pages of posts: up to ~70 KB each, so ~20 MB at most per process

_cache: OrderedDict[tuple, str] = OrderedDict()
_pages: OrderedDict[tuple, str] = OrderedDict()
# Lookups that found / did not find their entry, per LRU: [hits, misses] (what `stats` reports; the app logs it
# at shutdown and the day benchmark reads it). Two integer increments per lookup.
_counts = {"fragments": [0, 0], "page_html": [0, 0]}

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


def cached(template: Any, key: Hashable, *, page: bool = False) -> Any:
    """The HTML stored under (template, key), if any; `page`: in the separate, smaller LRU for whole pages."""
    cache = _pages if page else _cache
    full = (id(template), key)
    html = cache.get(full)
    counts = _counts["page_html" if page else "fragments"]
    if html is not None:
        cache.move_to_end(full)
        counts[0] += 1
    else:
        counts[1] += 1
    return html


def stats() -> dict[str, dict[str, int]]:
    """Hits, misses and entries of the two LRUs since the process started."""
    return {name: {"hits": counts[0], "misses": counts[1], "entries": len(_pages if name == "page_html" else _cache)}
            for name, counts in _counts.items()}


def store(template: Any, key: Hashable, html: Any, *, page: bool = False) -> None:
    cache, limit = (_pages, MAX_PAGES) if page else (_cache, MAX_ENTRIES)
    cache[(id(template), key)] = html
    if len(cache) > limit:
        cache.popitem(last=False)


def render(template: Any, key: Hashable, make_context: Callable[[], dict[str, Any]]) -> str:
    """The HTML of one item: from the cache when its key was seen, else `template.render(make_context())`."""
    html = cached(template, key)
    if html is None:
        html = template.render(make_context())
        store(template, key, html)
    return html


def render_each(template: Any, contexts: Iterable[dict[str, Any]]) -> Iterator[str]:
    """`template.render(context)` for each of `contexts`, in order, through one Jinja2 Context.

    Template.render builds a new Context for every call, flattening the environment's globals (a ChainMap) into
    a new dict each time: ~10 us, as much as rendering a small list item. Here the globals are flattened once
    and each item only replaces the context's variables (Context.parent) and clears what a previous render may
    have set (Context.vars), so each render starts as Template.render's would. For templates rendered many
    times per request (a page's rows or cards); they must not use blocks."""
    environment = template.environment
    context = None
    base: dict[str, Any] = {}
    for variables in contexts:
        if context is None:
            base = dict(template.globals)
            context = template.new_context({**base, **variables}, shared=True)
        else:
            context.parent = {**base, **variables}
            context.vars.clear()
            context.exported_vars.clear()
        try:
            html = environment.concat(template.root_render_func(context))
        except Exception:
            environment.handle_exception()  # re-raises, with the template's lines in the traceback
        yield html


def render_items(template: Any, items: Iterable[tuple[Any, dict[str, Any]]],
                 render: Callable[[dict[str, Any]], str] | None = None) -> Spliced:
    """The concatenated HTML of `items`: (key, template context) pairs; the key holds every input of the
    context, and the template is rendered (and encoded) only on a miss. Items hold no CSRF token. `render`: a
    function from one context to its HTML, used instead of a template (`template` is then only the items'
    namespace in the cache: an object that lives as long as the process)."""
    out: list[bytes | None] = []
    missed: list[tuple[int, Any, dict[str, Any]]] = []
    for key, context in items:
        data = cached(template, ("utf-8", key))
        if data is None:
            missed.append((len(out), key, context))
        out.append(data)
    if missed:
        contexts = (m[2] for m in missed)
        htmls = map(render, contexts) if render else render_each(template, contexts)
        for (at, key, _), html in zip(missed, htmls, strict=True):
            out[at] = data = html.encode()
            store(template, ("utf-8", key), data)
    return Spliced((b"".join(out),))  # type: ignore[arg-type]


_SPLICE_MARK = "splice" + secrets.token_hex(16)
_splice_ids = itertools.count()


class Spliced:
    """Encoded HTML for a page, in parts to be joined by the request's (escaped) CSRF token.

    In a template it prints as a unique marker; Templates.render replaces the marker with `encoded(csrf)` in
    the encoded page. Only print it, once, as `{{ value }}` (it is true when it holds any HTML).
    """

    __slots__ = ("parts", "mark")

    def __init__(self, parts: tuple[bytes, ...]) -> None:
        self.parts = parts
        self.mark = f"{_SPLICE_MARK}{next(_splice_ids)}."

    @classmethod
    def from_html(cls, html: str) -> Spliced:
        """From HTML rendered with CsrfMarker in place of the token."""
        return cls(tuple(html.encode().split(CSRF_MARK.encode())))

    def __bool__(self) -> bool:
        return any(self.parts)

    def __html__(self) -> str:
        return self.mark

    @classmethod
    def concat(cls, *pieces: tuple[bytes, ...]) -> Spliced:
        """One value from several lists of parts (each joined by the token), in order."""
        parts: list[bytes] = []
        for piece in pieces:
            if parts:
                parts[-1] += piece[0]  # no token between the end of one and the start of the next
                parts.extend(piece[1:])
            else:
                parts.extend(piece)
        return cls(tuple(parts))

    def encoded(self, csrf_token: str) -> bytes:
        parts = self.parts
        return parts[0] if len(parts) == 1 else str(escape(csrf_token)).encode().join(parts)


def splice(body: bytes, values: list[Spliced], csrf_token: str) -> bytes:
    """The encoded page with each Spliced value's bytes where the template printed its marker."""
    for value in values:
        head, found, tail = body.partition(value.mark.encode())
        if found:
            body = b"".join((head, value.encoded(csrf_token), tail))
    return body


def clear() -> None:
    _cache.clear()
    _pages.clear()
