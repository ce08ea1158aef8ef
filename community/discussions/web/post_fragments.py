"""Rendered posts for thread pages, cached by everything that goes into them.

A thread page is mostly fifty posts whose HTML is the same for everyone who sees them the same way. Rendering
them through Jinja2 on every request cost more than the rest of the request together, so each post's HTML is
kept in web.fragments' small in-process LRU cache. The key is *content-addressed*: the post's row as read in this request
(body, state, edit time, author name and role, reaction counts...) plus every viewer-dependent input of
`discussions/_post.html` (own post or not, the viewer's reactions, moderator or not, can reply, the unread
marker, the time zone) and the template object itself. A changed post, a new reaction, a renamed author or an
edited template gives a new key, so an entry can never be stale; nothing needs invalidating.

The one per-browser value in a post, the CSRF token in its reaction forms, is not part of the key: the
fragment is rendered with web.fragments' per-process marker in its place, which is replaced by the request's own
(escaped) token once the page's posts are joined.
"""

from __future__ import annotations

import json
import secrets
from types import SimpleNamespace
from typing import Any

from community.discussions.actions import REACTION_LABELS
from community.discussions.reads import POST_COLUMNS
from community.platform.web import fragments

TEMPLATE = "discussions/_post.html"
BODY_TEMPLATE = "discussions/_thread_body.html"
_SLOT = "posts" + secrets.token_hex(16)  # where the posts go in a cached thread body; never in user text


class _PostsSlot:
    """`posts_html` while a thread body is rendered: true when the page has posts, printed as the slot."""

    def __init__(self, filled: bool) -> None:
        self.filled = filled

    def __bool__(self) -> bool:
        return self.filled

    def __html__(self) -> str:
        return _SLOT

_ID, _POSITION, _AUTHOR_ID = POST_COLUMNS.index("id"), POST_COLUMNS.index("position"), POST_COLUMNS.index("author_id")


def post_context(row: tuple, viewer_id: int) -> SimpleNamespace:
    """What discussions/_post.html reads as `p`, from one post of a reads.ThreadPage.

    A namespace, not a dict: Jinja2 reads `p.state` as getattr(p, "state") first and only then p["state"], so
    on a dict each of a post's ~60 reads raised and caught an AttributeError, the largest single cost of
    rendering a post (the day benchmark's thread pages of every depth mostly miss the page cache and render)."""
    post = dict(zip(POST_COLUMNS, row, strict=True))
    post["placeholder"] = ""  # read on every post; set below on the few deleted ones
    post["reactions"] = json.loads(post["reactions"]) if post["reactions"] else {}
    post["mine_set"] = frozenset(post["mine"].split(",")) if post["mine"] else frozenset()
    post["is_own"] = post["author_id"] is not None and post["author_id"] == viewer_id
    if post["deleted_by_author"]:
        post["placeholder"] = "removed by the author"
        post["body_html"] = ""
    return SimpleNamespace(**post)


def _page_key(page: Any, shared: tuple, viewer_id: int) -> tuple:
    """The joined page's cache key (see render_posts)."""
    thread, posts, first_unread = page.thread, page.posts, page.first_unread
    own = any(row[_AUTHOR_ID] == viewer_id for row in posts)
    # The unread marker only shows on the page that holds the first unread post: on every other page (most
    # pages of a member who has caught up) readers with different read positions see the same posts.
    on_page = first_unread is not None and bool(posts) and posts[0][_POSITION] <= first_unread <= posts[-1][_POSITION]
    return ("page", shared, page.page, thread["content_version"], thread["content_epoch"], thread["my_reactions"],
            first_unread if on_page else None, bool(page.last_read) and on_page, viewer_id if own else None)


def render_posts(env: Any, page: Any, viewer: Any, tz: str) -> fragments.Spliced:
    """The HTML of every post of a reads.ThreadPage, in order, as one string.

    The key of a post is its row as read in this request (a tuple of plain values; it holds the viewer's own
    reactions too) plus what else the template reads: own post or not, the unread marker, the page-wide inputs
    (template, thread, can reply, moderator, time zone).

    The joined page is cached too, under what determines it: the thread's content version and epoch (the posts
    as the page statement read them, see discussion_reads.PostPages), the page, the page-wide inputs, the
    viewer's own reactions, the unread marker where it shows, and which posts are the viewer's own. Readers with no post of
    their own on the page see the same posts and share one entry; an author's entry is theirs alone (their
    hidden or pending posts are on their page only).
    """
    template = env.get_template(TEMPLATE)
    thread = page.thread
    viewer_id = viewer.id
    shared = (thread["id"], page.can_reply, viewer.is_moderator, tz)
    first_unread = page.first_unread
    unread_shown = bool(page.last_read)
    page_key = _page_key(page, shared, viewer_id) if thread["content_epoch"] is not None else None
    if page_key is not None:
        spliced = fragments.cached(template, page_key, page=True)
        if spliced is not None:
            return spliced
    out: list[str | None] = []
    missed: list[tuple[int, tuple, tuple]] = []  # (where in out, cache key, row)
    for row in page.posts:
        marker = row[_POSITION] == first_unread
        author_id = row[_AUTHOR_ID]
        key = (shared, author_id is not None and author_id == viewer_id, marker, marker and unread_shown, row)
        html = fragments.cached(template, key)
        if html is None:
            missed.append((len(out), key, row))
        out.append(html)
    if missed:  # rendered together, through one Jinja2 context (fragments.render_each)
        csrf = fragments.CsrfMarker()
        contexts = (dict(p=post_context(row, viewer_id), page=page, thread=thread, viewer=viewer, tz=tz,
                         reaction_labels=REACTION_LABELS, csrf_token=csrf) for _, _, row in missed)
        for (at, key, _), html in zip(missed, fragments.render_each(template, contexts), strict=True):
            out[at] = html
            fragments.store(template, key, html)
    # Encoded once; the one per-browser value, the CSRF token, is joined in by Templates.render.
    spliced = fragments.Spliced.from_html("".join(out))  # type: ignore[arg-type]
    if page_key is not None:
        fragments.store(template, page_key, spliced, page=True)
    return spliced


def render_thread_body(env: Any, page: Any, viewer: Any, posts: fragments.Spliced,
                       show_support: bool) -> fragments.Spliced:
    """The thread page's body (breadcrumbs, header with the watch and moderator forms, pagers, reply box) around
    its posts. Cached, encoded, by everything it shows: the thread's own fields, the page, and the viewer's flags
    (moderator, silenced, can reply, watch level, unread link); the CSRF token is the marker as in the posts."""
    thread = page.thread
    key = ("body", thread["id"], thread["title"], thread["category_slug"], thread["category_name"],
           thread["pinned"], thread["locked"], thread["state"], thread["reply_count"], thread["first_post_id"],
           page.page, page.pages, bool(page.first_unread and page.last_read), page.watch, page.can_reply,
           viewer.is_moderator, viewer.is_silenced(), show_support, bool(posts))
    template = env.get_template(BODY_TEMPLATE)
    halves = fragments.cached(template, key)
    if halves is None:
        html = template.render(dict(thread=thread, page=page, viewer=viewer, show_support=show_support,
                                    posts_html=_PostsSlot(bool(posts)), csrf_token=fragments.CsrfMarker()))
        head, _, tail = html.partition(_SLOT)
        halves = (fragments.Spliced.from_html(head).parts, fragments.Spliced.from_html(tail).parts)
        fragments.store(template, key, halves)
    return fragments.Spliced.concat(halves[0], posts.parts, halves[1])
