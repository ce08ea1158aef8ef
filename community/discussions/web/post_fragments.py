"""Rendered posts for thread pages, cached as whole pages.

A thread page is mostly fifty posts whose HTML is the same for everyone who sees them the same way. The joined
HTML of a page's posts is kept in web.fragments' LRU of pages, under what determines it (see render_posts); on a
miss every post of the page is rendered through one Jinja2 context. There is no cache per post: under the
community day's Zipf mix a post that missed the page cache almost never hit a per-post entry either, and
keeping one cost ~5% of a thread page's CPU (web.fragments' list-item LRU still serves category rows, wall
cards and the thread body, where it pays).

The one per-browser value in a post, the CSRF token in its reaction forms, is not part of the key: the
posts are rendered with web.fragments' per-process marker in its place, which is replaced by the request's own
(escaped) token when the page is sent.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

from markupsafe import Markup, escape

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


def post_context(row: tuple, viewer: Any, thread_id: int, can_reply: bool) -> SimpleNamespace:
    """What discussions/_post.html reads as `p`, from one post of a reads.ThreadPage.

    A namespace, not a dict: Jinja2 reads `p.state` as getattr(p, "state") first and only then p["state"], so
    on a dict each of a post's ~60 reads raised and caught an AttributeError, the largest single cost of
    rendering a post (the day benchmark's thread pages of every depth mostly miss the page cache and render).
    The reaction buttons (or counts) and the action items are built here as markup, once per post."""
    post = dict(zip(POST_COLUMNS, row, strict=True))
    post["placeholder"] = ""  # read on every post; set below on the few deleted ones
    reactions = json.loads(post["reactions"]) if post["reactions"] else {}
    post["is_own"] = own = post["author_id"] is not None and post["author_id"] == viewer.id
    if own or post["state"] != "visible":
        post["reaction_counts"] = _reaction_counts(reactions)
    else:
        post["reaction_buttons"] = _reaction_buttons(reactions, post["mine"].split(",") if post["mine"] else ())
    post["actions"] = _actions(post["id"], post["state"], own, bool(post["author_id"]), thread_id, can_reply,
                               viewer.is_moderator)
    if post["deleted_by_author"]:
        post["placeholder"] = "removed by the author"
        post["body_html"] = ""
    return SimpleNamespace(**post)


_LABELS = tuple((kind, str(escape(label))) for kind, label in REACTION_LABELS.items())


def _reaction_counts(reactions: dict[str, int]) -> Markup:
    """A post's reaction counts, where the viewer cannot react (their own post, or one not visible)."""
    return Markup("".join(f'<span class="reaction-count">{label} · {escape(n)}</span>'
                          for kind, label in _LABELS if (n := reactions.get(kind, 0))))


def _reaction_buttons(reactions: dict[str, int], mine: Iterable[str]) -> Markup:
    """The buttons of a post's reaction form, pressed where the viewer has reacted. Built here, not in the
    template: a Jinja2 loop over the three kinds was a dozen escapes and lookups, a fifth of rendering a post."""
    mine = frozenset(mine)
    return Markup("".join(
        f'<button type="submit" name="kind" value="{kind}" class="reaction{" on" if kind in mine else ""}" '
        f'aria-pressed="{"true" if kind in mine else "false"}">{label}'
        f'{f""" <span class="count">{escape(n)}</span>""" if (n := reactions.get(kind, 0)) else ""}</button>'
        for kind, label in _LABELS))


def _actions(post_id: int, state: str, own: bool, has_author: bool, thread_id: int, can_reply: bool,
             moderator: bool) -> Markup:
    """The items of a post's action list (reply, quote, edit, delete, flag, moderate), as the template laid
    them out. The ids are integers: nothing to escape."""
    items = []
    if can_reply and state == "visible":
        items.append(f'        <li><a href="/t/{thread_id:d}/reply?to={post_id:d}">Reply</a></li>\n'
                     f'        <li><a href="/t/{thread_id:d}/reply?quote={post_id:d}">Quote</a></li>\n')
    if own and state != "removed":
        items.append(f'        <li><a href="/p/{post_id:d}/edit">Edit</a></li>\n'
                     f'        <li><a href="/p/{post_id:d}/delete">Delete</a></li>\n')
    if not own and has_author and state == "visible":
        items.append(f'<li><a href="/flag/post/{post_id:d}">Flag</a></li>')
    if moderator:
        items.append(f'<li><a href="/review/post/{post_id:d}">Moderate</a></li>')
    return Markup("".join(items))


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
    """The HTML of every post of a reads.ThreadPage, in order, encoded.

    The joined page is cached under what determines it: the thread's content version and epoch (the posts
    as the page statement read them, see discussion_reads.PostPages), the page, the page-wide inputs, the
    viewer's own reactions, the unread marker where it shows, and which posts are the viewer's own. Readers with no post of
    their own on the page see the same posts and share one entry; an author's entry is theirs alone (their
    hidden or pending posts are on their page only).
    """
    template = env.get_template(TEMPLATE)
    thread = page.thread
    viewer_id = viewer.id
    shared = (thread["id"], page.can_reply, viewer.is_moderator, tz)
    page_key = _page_key(page, shared, viewer_id) if thread["content_epoch"] is not None else None
    if page_key is not None:
        spliced = fragments.cached(template, page_key, page=True)
        if spliced is not None:
            return spliced
    # On a miss every post of the page is rendered, through one Jinja2 context (fragments.render_each).
    csrf = fragments.CsrfMarker()
    contexts = (dict(p=post_context(row, viewer, thread["id"], page.can_reply), page=page, thread=thread, viewer=viewer, tz=tz,
                     csrf_token=csrf) for row in page.posts)
    out = list(fragments.render_each(template, contexts))
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
