"""Admin pages for categories: add, edit, reorder, archive."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.discussions import categories as actions
from community.discussions import reads
from community.platform.errors import ActionError
from community.platform.web import ids  # noqa: F401  (registers the dbid convertor)
from community.platform.web.common import admin_of, db_of, form_error, redirect
from community.platform.web.forms import read_form
from community.platform.web.templates import render


async def _listing(request: Request) -> dict:
    async with db_of(request).transaction() as session:
        return {"categories": await reads.list_categories(session)}


async def categories(request: Request) -> Response:
    viewer = admin_of(request)
    if request.method == "GET":
        return render(request, "discussions/admin_categories.html", await _listing(request))
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            created = await actions.create_category(session, viewer, name=form.get("name"),
                                                    description=form.get("description"), slug=form.get("slug"))
    except ActionError as exc:
        return form_error(request, "discussions/admin_categories.html", exc, form.as_dict(), await _listing(request))
    return redirect(request, "/admin/categories", flash=f"The category “{created.name}” is added.")


async def category_edit(request: Request) -> Response:
    viewer = admin_of(request)
    category_id = request.path_params["category_id"]
    async with db_of(request).transaction() as session:
        found = await actions.access_category(session, viewer, category_id)
    context = {"category": found}
    if request.method == "GET":
        return render(request, "discussions/admin_category.html",
                      {**context, "form": {"name": found.name, "description": found.description}})
    form = await read_form(request)
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await actions.update_category(session, viewer, category_id, name=form.get("name"),
                                          description=form.get("description"))
    except ActionError as exc:
        return form_error(request, "discussions/admin_category.html", exc, form.as_dict(), context)
    return redirect(request, "/admin/categories", flash="The category is saved.")


async def category_move(request: Request) -> Response:
    viewer = admin_of(request)
    form = await read_form(request)
    form.check()
    async with db_of(request).transaction() as session:
        await actions.move_category(session, viewer, request.path_params["category_id"], form.get("direction"))
    return redirect(request, "/admin/categories", flash="The order is saved.")


async def category_archive(request: Request) -> Response:
    viewer = admin_of(request)
    form = await read_form(request)
    form.check()
    archive = form.get("archive") == "yes"
    async with db_of(request).transaction() as session:
        found = await actions.set_archived(session, viewer, request.path_params["category_id"], archive)
    state = "archived: it stays readable, and new threads and replies are closed" if archive else "open again"
    return redirect(request, "/admin/categories", flash=f"“{found.name}” is {state}.")


routes = [
    Route("/admin/categories", categories, methods=["GET", "POST"]),
    Route("/admin/categories/{category_id:dbid}", category_edit, methods=["GET", "POST"]),
    Route("/admin/categories/{category_id:dbid}/move", category_move, methods=["POST"]),
    Route("/admin/categories/{category_id:dbid}/archive", category_archive, methods=["POST"]),
]
