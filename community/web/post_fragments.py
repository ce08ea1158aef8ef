"""Rendered posts for thread pages, cached by everything that goes into them.

A thread page is mostly fifty posts whose HTML is the same for everyone who sees them the same way. Rendering
them through Jinja2 on every request cost more than the rest of the request together, so each post's HTML is
kept in a small in-process LRU cache. The key is *content-addressed*: the post's row as read in this request
(body, state, edit time, author name and role, reaction counts...) plus every viewer-dependent input of
`discussions/_post.html` (own post or not, the viewer's reactions, moderator or not, can reply, the unread
marker, the time zone) and the template object itself. A changed post, a new reaction, a renamed author or an
edited template gives a new key, so an entry can never be stale; nothing needs invalidating.

The one per-browser value in a post, the CSRF token in its reaction forms, is not part of the key: the
fragment is rendered with a random per-process marker in its place and split there, and the request's own
(escaped) token is joined in.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from typing import Any

from markupsafe import Markup, escape

from community.actions.discussions import REACTION_LABELS

TEMPLATE = "discussions/_post.html"
MAX_ENTRIES = 5000
_MARK = "csrf" + secrets.token_hex(16)  # unguessable: user text can never contain it

_cache: OrderedDict[tuple, tuple[str, ...]] = OrderedDict()


class _Marker:
    """Stands for the CSRF token while a fragment is rendered (`{{ csrf_token }}` prints the marker)."""

    def __str__(self) -> str:
        return _MARK

    def __html__(self) -> str:
        return _MARK


def _row_key(post: dict[str, Any]) -> tuple:
    key = []
    for name, value in post.items():
        if name in ("mine", "mine_set", "html"):
            continue
        if isinstance(value, dict):
            value = tuple(sorted(value.items()))
        key.append((name, value))
    return tuple(key)


def render_posts(env: Any, page: Any, viewer: Any, tz: str, csrf_token: str) -> None:
    """Sets post["html"] (Markup) on every post of a reads.ThreadPage."""
    template = env.get_template(TEMPLATE)
    thread = page.thread
    shared = (id(template), thread["id"], page.can_reply, viewer.is_moderator, tz)
    token = str(escape(csrf_token))
    for post in page.posts:
        marker = post["position"] == page.first_unread
        key = (shared, marker, marker and bool(page.last_read), frozenset(post["mine_set"]), _row_key(post))
        parts = _cache.get(key)
        if parts is None:
            html = template.render(p=post, page=page, thread=thread, viewer=viewer, tz=tz,
                                   reaction_labels=REACTION_LABELS, csrf_token=_Marker())
            parts = tuple(html.split(_MARK))
            _cache[key] = parts
            if len(_cache) > MAX_ENTRIES:
                _cache.popitem(last=False)
        else:
            _cache.move_to_end(key)
        post["html"] = Markup(parts[0] if len(parts) == 1 else token.join(parts))


def clear() -> None:
    _cache.clear()
