"""Rendered posts for thread pages, cached as whole pages.

A thread page is mostly fifty posts whose HTML is the same for everyone who sees them the same way. The joined
HTML of a page's posts is kept in web.fragments' LRU of pages, under what determines it (see render_posts); on a
miss every post of the page is rendered by render_post, in Python. There is no cache per post: under the
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
from typing import Any

from markupsafe import escape

from community.discussions.actions import REACTION_LABELS
from community.discussions.reads import POST_COLUMNS
from community.platform.web import fragments
from community.platform.web.fragments import CSRF_MARK
from community.platform.web.templates import local_time

_PAGES = object()  # the joined pages' namespace in web.fragments' page LRU (it keys by id(template))
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

(_C_ID, _C_POSITION, _C_AUTHOR, _C_BODY, _C_STATE, _C_REASON, _C_DELETED, _C_EDITED, _C_CREATED, _C_NAME, _C_HANDLE,
 _C_ROLE, _C_REPLY_TO, _C_REACTIONS, _C_MINE) = (
    POST_COLUMNS.index(name) for name in ("id", "position", "author_id", "body_html", "state", "removed_reason",
                                          "deleted_by_author", "edited_at", "created_at", "author_name",
                                          "author_handle", "author_role", "reply_to_position", "reactions", "mine"))
_ROLE_TAGS = frozenset(("attending", "moderator", "admin"))
_HIDDEN_NOTE = {True: "Hidden from others while a moderator reviews it. Only you and moderators can see it.",
                False: "Hidden pending review."}


def render_post(row: tuple, viewer: Any, thread_id: int, can_reply: bool, first_unread: int | None,
                marker: bool, tz: str) -> str:
    """One post of a reads.ThreadPage as an <article> (`marker`: the page shows "New since your last visit").

    Built in Python rather than in a Jinja2 template: a page that misses the page cache renders all its posts,
    and under the community day's long tail of threads most thread views miss it. Through the template a post
    cost ~20 us (about sixty attribute look-ups through the environment and fifteen escapes, each a Markup);
    here only the member-written strings (name, handle, role, a moderator's reason) are escaped, and ids,
    positions, states and times are formatted directly: they are integers, fixed words and our own formats.
    The CSRF token is web.fragments' marker, put back per request."""
    post_id, author_id, state = row[_C_ID], row[_C_AUTHOR], row[_C_STATE]
    own = author_id is not None and author_id == viewer.id
    head = _head(row, own, viewer.is_moderator, first_unread == row[_C_POSITION], marker, tz)
    if row[_C_DELETED]:
        return f'{head}    <p class="placeholder">This post was removed by the author.</p>\n</article>'
    if state == "visible":
        note = ""
    elif state == "hidden":
        note = f'<p class="state-note">{_HIDDEN_NOTE[own]}</p>'
    elif state == "pending":
        note = (f'<p class="state-note">Waiting for a moderator\'s approval'
                f'{"; only you and moderators can see it" if own else ""}.</p>')
    else:  # removed
        reason = row[_C_REASON]
        note = f'<p class="state-note">Removed by a moderator{f". Reason: {escape(reason)}" if reason else ""}.</p>'
    reactions = json.loads(row[_C_REACTIONS]) if row[_C_REACTIONS] else {}
    if own or state != "visible":
        react = _reaction_counts(reactions)
    else:
        mine = row[_C_MINE]
        react = (f'        <form method="post" action="/p/{post_id:d}/react" class="reaction-form">'
                 f'<input type="hidden" name="csrf_token" value="{CSRF_MARK}">\n'
                 f'{_reaction_buttons(reactions, mine.split(",") if mine else ())}        </form>\n')
    return (f'{head}{note}    <div class="post-body">{row[_C_BODY]}</div>\n    <footer class="post-foot">\n'
            f'      <div class="reactions" role="group" aria-label="Supportive reactions">\n{react}'
            f'      </div>\n      <ul class="post-actions">\n'
            f'{_actions(post_id, state, own, author_id is not None, thread_id, can_reply, viewer.is_moderator)}'
            '      </ul>\n    </footer>\n</article>')


def _head(row: tuple, own: bool, moderator: bool, unread: bool, marker: bool, tz: str) -> str:
    """A post's opening tag, unread marker and header (author, time, edited, in reply to)."""
    post_id, position, state, deleted = row[_C_ID], row[_C_POSITION], row[_C_STATE], row[_C_DELETED]
    out = [f'<article class="post{"" if state == "visible" else " post-" + state}'
           f'{" first-unread" if unread else ""}" id="p{position:d}" aria-labelledby="p{position:d}-by">\n']
    if unread and marker:
        out.append('<p class="unread-marker" id="unread"><span>New since your last visit</span></p>')
    out.append(f'  <header class="post-head">\n    <h2 class="post-author" id="p{position:d}-by">')
    if deleted:
        out.append(f'<span class="muted">Post {position:d}</span>')
    elif row[_C_HANDLE]:
        handle = escape(row[_C_HANDLE])
        out.append(f'<a href="/members/{handle}" class="member-card-link">{escape(row[_C_NAME])}</a> '
                   f'<span class="handle">@{handle}</span>')
    else:
        out.append(str(escape(row[_C_NAME])))
    if not deleted and row[_C_ROLE] in _ROLE_TAGS:
        out.append(f'<span class="role-tag">{escape(row[_C_ROLE])}</span>')
    created = row[_C_CREATED]
    out.append(f'</h2>\n    <p class="meta"><a href="/p/{post_id:d}" class="permalink"><time datetime="'
               f'{created.isoformat()}">{local_time(created, tz)}</time></a>\n')
    if row[_C_EDITED] and not deleted:
        out.append(f' · <span class="edited" title="Edited {local_time(row[_C_EDITED], tz)}">edited</span>')
        if moderator or own:
            out.append(f' (<a href="/p/{post_id:d}/history">history</a>)')
    if row[_C_REPLY_TO]:
        out.append(f' · in reply to <a href="#p{row[_C_REPLY_TO]:d}">post {row[_C_REPLY_TO]:d}</a>')
    out.append('</p>\n  </header>\n')
    return "".join(out)


_LABELS = tuple((kind, str(escape(label))) for kind, label in REACTION_LABELS.items())


def _reaction_counts(reactions: dict[str, int]) -> str:
    """A post's reaction counts, where the viewer cannot react (their own post, or one not visible). The counts
    are integers (json_object_agg of count(*))."""
    return "".join(f'<span class="reaction-count">{label} · {n:d}</span>'
                   for kind, label in _LABELS if (n := reactions.get(kind, 0)))


# Each kind's button up to its count, not pressed and pressed.
_BUTTONS = tuple((kind, f'<button type="submit" name="kind" value="{kind}" class="reaction" aria-pressed="false">{label}',
                  f'<button type="submit" name="kind" value="{kind}" class="reaction on" aria-pressed="true">{label}')
                 for kind, label in _LABELS)


def _reaction_buttons(reactions: dict[str, int], mine: Iterable[str]) -> str:
    """The buttons of a post's reaction form, pressed where the viewer has reacted. Built here, not in a
    template: a Jinja2 loop over the three kinds was a dozen escapes and lookups, a fifth of rendering a post."""
    mine = frozenset(mine)
    return "".join(f'{pressed if kind in mine else plain}'
                   f'{f""" <span class="count">{n:d}</span>""" if (n := reactions.get(kind, 0)) else ""}</button>'
                   for kind, plain, pressed in _BUTTONS)


def _actions(post_id: int, state: str, own: bool, has_author: bool, thread_id: int, can_reply: bool,
             moderator: bool) -> str:
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
    return "".join(items)


def _page_key(page: Any, shared: tuple, viewer_id: int) -> tuple:
    """The joined page's cache key (see render_posts)."""
    thread, posts, first_unread = page.thread, page.posts, page.first_unread
    own = any(row[_C_AUTHOR] == viewer_id for row in posts)
    # The unread marker only shows on the page that holds the first unread post: on every other page (most
    # pages of a member who has caught up) readers with different read positions see the same posts.
    on_page = first_unread is not None and bool(posts) and posts[0][_C_POSITION] <= first_unread <= posts[-1][_C_POSITION]
    return ("page", shared, page.page, thread["content_version"], thread["content_epoch"], thread["my_reactions"],
            first_unread if on_page else None, bool(page.last_read) and on_page, viewer_id if own else None)


def render_posts(page: Any, viewer: Any, tz: str) -> fragments.Spliced:
    """The HTML of every post of a reads.ThreadPage, in order, encoded.

    The joined page is cached under what determines it: the thread's content version and epoch (the posts
    as the page statement read them, see discussion_reads.PostPages), the page, the page-wide inputs, the
    viewer's own reactions, the unread marker where it shows, and which posts are the viewer's own. Readers with no post of
    their own on the page see the same posts and share one entry; an author's entry is theirs alone (their
    hidden or pending posts are on their page only).
    """
    thread = page.thread
    viewer_id = viewer.id
    shared = (thread["id"], page.can_reply, viewer.is_moderator, tz)
    page_key = _page_key(page, shared, viewer_id) if thread["content_epoch"] is not None else None
    if page_key is not None:
        spliced = fragments.cached(_PAGES, page_key, page=True)
        if spliced is not None:
            return spliced
    # On a miss every post of the page is rendered (render_post).
    thread_id, can_reply, first_unread, marker = thread["id"], page.can_reply, page.first_unread, bool(page.last_read)
    html = "".join([render_post(row, viewer, thread_id, can_reply, first_unread, marker, tz) for row in page.posts])
    # Encoded once; the one per-browser value, the CSRF token, is joined in by Templates.render.
    spliced = fragments.Spliced.from_html(html)  # type: ignore[arg-type]
    if page_key is not None:
        fragments.store(_PAGES, page_key, spliced, page=True)
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
