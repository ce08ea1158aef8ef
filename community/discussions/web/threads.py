"""Thread pages: categories, category pages, threads, replies (with quote-reply), edits, deletion, reactions,
watching, search. Admin category pages live in web.discussion_admin and are mounted here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.discussions import actions as discussions
from community.discussions import drafts, reads, search
from community.discussions.actions import REACTION_LABELS, Published
from community.discussions.models import Category, Post, Thread
from community.discussions.policy import visible_to
from community.discussions.web import post_fragments  # noqa: F401  (ids: the dbid convertor)
from community.platform.accounts.models import User
from community.platform.drafts import web as drafts_web
from community.platform.errors import ActionError, Invalid, NotFound
from community.platform.numbers import parse_int
from community.platform.publishing import NeedsConfirmation
from community.platform.text import quote_markdown
from community.platform.web import fragments
from community.platform.web.common import (
    anonymity_of,
    db_of,
    drafts_of,
    form_error,
    redirect,
    settings_of,
    viewer_of,
)
from community.platform.web.forms import Form, read_form
from community.platform.web.templates import relative_time, render


def _page_param(request: Request, name: str = "page", default: int = 1) -> int:
    raw = request.query_params.get(name, "")
    number = parse_int(raw, max_digits=6)
    return default if number is None else number


def _published_url(result: Published, base: str = "") -> str:
    support = "&support=1" if result.crisis else ""
    return f"/t/{result.thread_id}?page={reads.page_of(result.position)}{support}#p{result.position}"


def _published_flash(result: Published, done: str) -> str:
    if result.state == "pending":
        return ("Thank you. Your post is waiting for a moderator's approval; you can see it, and others will once "
                "it is approved.")
    return done


def _composer_error(request: Request, template: str, exc: ActionError, form: Form,
                    context: dict[str, Any]) -> Response:
    ctx = dict(context)
    if isinstance(exc, NeedsConfirmation):
        ctx["phi_highlight"] = exc.screening.highlighted()
    return form_error(request, template, exc, form.as_dict(), ctx)


# ---- categories and threads ---------------------------------------------------------------------------------

async def categories_index(request: Request) -> Response:
    viewer_of(request)
    async with db_of(request).read() as session:
        categories = await reads.list_categories(session)
    return render(request, "discussions/index.html", {"categories": categories})


async def category(request: Request) -> Response:
    viewer = viewer_of(request)
    cursor = request.query_params.get("after", "")[:80]
    async with db_of(request).raw() as connection:
        page = await reads.category_page(connection, viewer, request.path_params["slug"], cursor)
    # Each row's HTML is cached by the row itself (it holds the viewer's read position) and its relative time.
    row_template = request.app.state.templates.env.get_template("discussions/_thread_row.html")
    now = datetime.now(UTC)
    items = []
    for t in page.threads:
        when = relative_time(t["last_activity_at"], now)
        items.append(((t, when), {"t": t, "when": when}))
    threads_html = fragments.render_items(row_template, items)
    return render(request, "discussions/category.html", {"page": page, "category": page.category,
                                                         "threads_html": threads_html})


async def _category_for_compose(request: Request) -> Any:
    if not reads.SLUG_RE.match(request.path_params["slug"]):
        raise NotFound("There is no such category.")
    async with db_of(request).transaction() as session:
        found = (await session.scalars(select(Category).where(Category.slug == request.path_params["slug"]))).first()
    if found is None:
        raise NotFound("There is no such category.")
    return found


async def new_thread(request: Request) -> Response:
    viewer = viewer_of(request)
    cat = await _category_for_compose(request)
    context = {"category": cat}
    if request.method == "GET":
        if cat.archived_at is not None:
            return render(request, "errors/error.html", {"status": 403, "title": "This category is archived",
                                                         "message": "It can be read, but new threads are closed."},
                          status_code=403)
        return render(request, "discussions/new_thread.html", context)
    form = await read_form(request)
    slot = drafts.new_thread_slot(cat.slug)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            result = await discussions.create_thread(
                session, viewer, settings_of(request), category_slug=cat.slug, title=form.get("title"),
                body=form.get("body"), confirmed=form.get("confirm_phi") == "yes",
                draft=drafts_of(request).key(viewer, slot))
    except ActionError as exc:
        kept = await drafts_web.keep(request, viewer, slot, body=form.get("body"), title=form.get("title"))
        return _composer_error(request, "discussions/new_thread.html", exc, form, {**context, "draft_kept": kept})
    return redirect(request, _published_url(result), flash=_published_flash(result, "Your thread is posted."))


def _post_pages(request: Request) -> reads.PostPages:
    """The app's cache of pages of posts (one per app, so per database; see reads.PostPages)."""
    state = request.app.state
    pages = getattr(state, "post_pages", None)
    if pages is None:
        pages = state.post_pages = reads.PostPages()
    return pages


async def thread(request: Request) -> Response:
    viewer = viewer_of(request)
    page_number = _page_param(request)
    # One prepared statement on a bare asyncpg connection, in autocommit (the read-position upsert is part of
    # it, so no BEGIN/COMMIT round trips are needed). The page of posts comes from the process's PostPages when
    # the statement finds it current (it then sends only the thread's row).
    async with db_of(request).raw() as connection:
        page = await reads.thread_page(connection, viewer, request.path_params["thread_id"], page_number,
                                       _post_pages(request))
    env = request.app.state.templates.env
    posts_html = post_fragments.render_posts(page, viewer, viewer.timezone)
    body = post_fragments.render_thread_body(env, page, viewer, posts_html,
                                             show_support=request.query_params.get("support") == "1")
    return render(request, "discussions/thread.html", {"thread": page.thread, "thread_body": body})


async def thread_unread(request: Request) -> Response:
    viewer = viewer_of(request)
    thread_id = request.path_params["thread_id"]
    async with db_of(request).transaction() as session:
        position, page = await reads.first_unread_position(session, viewer, thread_id)
    return redirect(request, f"/t/{thread_id}?page={page}#p{position}")


async def post_link(request: Request) -> Response:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        thread_id, page, position = await reads.locate_post(session, viewer, request.path_params["post_id"])
    return redirect(request, f"/t/{thread_id}?page={page}#p{position}")


# ---- replying -------------------------------------------------------------------------------------------------

async def _reply_context(request: Request, thread_id: int, reply_to: int | None) -> dict[str, Any]:
    """The thread's title and, when replying to one post, that post (if the viewer may see it)."""

    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        row = (await session.execute(select(Thread.id, Thread.title, Thread.state, Thread.author_id, Thread.locked)
                                     .where(Thread.id == thread_id))).first()
        if row is None or not visible_to(viewer, row.state, row.author_id):
            raise NotFound("This thread does not exist, or it is no longer available.")
        parent = None
        if reply_to:
            parent = (await session.execute(
                select(Post.id, Post.body_md, Post.body_html, Post.position, Post.state, Post.author_id,
                       Post.deleted_by_author, User.display_name)
                .outerjoin(User, User.id == Post.author_id)
                .where(Post.id == reply_to, Post.thread_id == thread_id))).first()
            if parent is not None and (parent.deleted_by_author
                                       or not visible_to(viewer, parent.state, parent.author_id)):
                parent = None
    return {"thread": row, "parent": parent}


async def reply(request: Request) -> Response:
    viewer = viewer_of(request)
    thread_id = request.path_params["thread_id"]
    if request.method == "GET":
        quote = _page_param(request, "quote", 0) or None
        to = _page_param(request, "to", 0) or quote
        context = await _reply_context(request, thread_id, to)
        form = {}
        parent = context["parent"]
        if parent is not None:
            form["reply_to"] = str(parent.id)
            if quote:
                form["body"] = quote_markdown(parent.display_name or "Community team", parent.body_md)
        return render(request, "discussions/reply.html", {**context, "form": form})
    form = await read_form(request)
    try:
        form.check()
        reply_to = form.int("reply_to", low=1, high=2**62, message="This reply points at an unknown post.")
        async with db_of(request).transaction() as session:
            result = await discussions.create_reply(
                session, viewer, settings_of(request), thread_id=thread_id, body=form.get("body"),
                reply_to=reply_to, confirmed=form.get("confirm_phi") == "yes",
                draft=drafts_of(request).key(viewer, drafts.reply_slot(thread_id)))
    except ActionError as exc:
        await drafts_web.keep(request, viewer, drafts.reply_slot(thread_id), body=form.get("body"))
        raw = form.get("reply_to")
        context = await _reply_context(request, thread_id, parse_int(raw, max_digits=17))
        return _composer_error(request, "discussions/reply.html", exc, form, context)
    return redirect(request, _published_url(result), flash=_published_flash(result, "Your reply is posted."))


# ---- editing, deleting, reacting, watching --------------------------------------------------------------------

async def _edit_context(request: Request, post_id: int) -> dict[str, Any]:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        post, thread_row = await discussions.access_own_post(session, viewer, post_id)
    return {"post": post, "thread": thread_row}


async def edit(request: Request) -> Response:
    viewer = viewer_of(request)
    post_id = request.path_params["post_id"]
    if request.method == "GET":
        context = await _edit_context(request, post_id)
        form = {"body": context["post"].body_md, "title": context["thread"].title}
        return render(request, "discussions/edit.html", {**context, "form": form})
    form = await read_form(request)  # the edit checks the post is the viewer's; the form's context only on error
    try:
        form.check()
        async with db_of(request).transaction() as session:
            post = await discussions.edit_post(
                session, viewer, settings_of(request), post_id=post_id, body=form.get("body"),
                title=form.get("title") if form.has("title") else None,
                confirmed=form.get("confirm_phi") == "yes", draft=drafts_of(request).key(viewer, drafts.edit_slot(post_id)))
    except ActionError as exc:
        context = await _edit_context(request, post_id)
        await drafts_web.keep(request, viewer, drafts.edit_slot(post_id), body=form.get("body"), title=form.get("title"))
        return _composer_error(request, "discussions/edit.html", exc, form, context)
    if post.state == "pending":
        return redirect(request, f"/p/{post.id}", flash="Your changes are saved. Your post is waiting for a "
                        "moderator's approval; you can see it, and others will once it is approved.")
    return redirect(request, f"/p/{post.id}", flash="Your changes are saved.")


async def delete(request: Request) -> Response:
    viewer = viewer_of(request)
    post_id = request.path_params["post_id"]
    context = await _edit_context(request, post_id)
    if request.method == "GET":
        return render(request, "discussions/delete.html", context)
    async with db_of(request).transaction() as session:
        post = await discussions.delete_post(session, viewer, post_id)
    thread_row = context["thread"]
    if post.position == 1 and not thread_row.reply_count:
        return redirect(request, "/c", flash="Your thread is deleted.")
    return redirect(request, f"/t/{thread_row.id}", flash="Your post is deleted.")


async def react(request: Request) -> Response:
    viewer = viewer_of(request)
    post_id = request.path_params["post_id"]
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            toggled = await discussions.toggle_reaction(session, viewer, post_id=post_id, kind=form.get("kind"))
    except Invalid as exc:
        return render(request, "errors/error.html", {"status": 400, "title": "That did not work",
                                                     "message": exc.message}, status_code=400)
    label = REACTION_LABELS[form.get("kind")]
    message = f"You said “{label}”." if toggled.on else f"You took back “{label}”."
    return redirect(request, f"/t/{toggled.thread_id}?page={reads.page_of(toggled.position)}#p{toggled.position}",
                    flash=message)


async def watch(request: Request) -> Response:
    viewer = viewer_of(request)
    thread_id = request.path_params["thread_id"]
    form = await read_form(request)
    form.check()
    level = form.get("level")
    async with db_of(request).transaction() as session:
        await discussions.set_watch(session, viewer, thread_id=thread_id, level=level)
    message = {"watch": "You will be told about every new reply.", "mute": "This thread is muted for you.",
               "": "Back to the default: you hear about replies to you and mentions."}[level]
    return redirect(request, f"/t/{thread_id}", flash=message)


async def history(request: Request) -> Response:
    viewer = viewer_of(request)
    async with db_of(request).transaction() as session:
        current, revisions = await reads.post_history(session, viewer, request.path_params["post_id"])
    return render(request, "discussions/history.html", {**current, "revisions": revisions})


async def search_page(request: Request) -> Response:
    viewer = viewer_of(request)
    query = request.query_params.get("q", "")
    page = _page_param(request)
    async with db_of(request).raw() as connection:
        try:  # Invalid: a query too long, or one too broad to finish in time (errors.SearchTooBroad)
            results = await search.search(connection, viewer, query, page)
            sections = await _other_sections(request, connection, results.query, page)
        except Invalid as exc:
            return form_error(request, "discussions/search.html", exc, {"q": query[:200]}, {"results": None})
    return render(request, "discussions/search.html", {"results": results, "form": {"q": results.query},
                                                       "sections": sections})


async def _other_sections(request: Request, connection: Any, query: str, page: int) -> list[tuple[str, list[Any]]]:
    """The other pillars' results (shared reflections), each by its own visibility rules (Pillar.search), on the
    first page of results only."""
    if not query or page > 1:
        return []
    viewer = viewer_of(request)
    return [(heading, await find(connection, viewer, anonymity_of(request), query))
            for heading, find in request.app.state.search_sections]


routes = [
    Route("/c", categories_index),
    Route("/c/{slug}", category),
    Route("/c/{slug}/new", new_thread, methods=["GET", "POST"]),
    Route("/t/{thread_id:dbid}", thread),
    Route("/t/{thread_id:dbid}/unread", thread_unread),
    Route("/t/{thread_id:dbid}/reply", reply, methods=["GET", "POST"]),
    Route("/t/{thread_id:dbid}/watch", watch, methods=["POST"]),
    Route("/p/{post_id:dbid}", post_link),
    Route("/p/{post_id:dbid}/edit", edit, methods=["GET", "POST"]),
    Route("/p/{post_id:dbid}/delete", delete, methods=["GET", "POST"]),
    Route("/p/{post_id:dbid}/react", react, methods=["POST"]),
    Route("/p/{post_id:dbid}/history", history),
    Route("/search", search_page),
]
