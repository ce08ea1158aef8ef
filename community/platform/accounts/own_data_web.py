"""/account/data: download everything you wrote (JSON, or a zip of Markdown), or delete your account."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from community.platform.accounts import own_data
from community.platform.errors import ActionError
from community.platform.web.common import (
    anonymity_of,
    clear_session,
    db_of,
    form_error,
    redirect,
    viewer_of,
)
from community.platform.web.forms import read_form
from community.platform.web.step_up import sensitive
from community.platform.web.templates import render


async def page(request: Request) -> Response:
    viewer_of(request)
    return render(request, "account/data.html", {"choices": own_data.CHOICES})


async def export(request: Request) -> Response:
    viewer = viewer_of(request)
    fmt = "json" if request.url.path.endswith(".json") else "zip"
    async with db_of(request).transaction() as session:
        data = await own_data.export_data(session, viewer, anonymity_of(request), request.app.state.own_data)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    headers = {"cache-control": "no-store"}
    if fmt == "json":
        headers["content-disposition"] = f'attachment; filename="compassionate-practice-{stamp}.json"'
        return Response(json.dumps(data, ensure_ascii=False, indent=2), media_type="application/json",
                        headers=headers)
    headers["content-disposition"] = f'attachment; filename="compassionate-practice-{stamp}.zip"'
    return Response(own_data.export_zip(data, request.app.state.own_data), media_type="application/zip", headers=headers)


async def delete_account(request: Request) -> Response:
    viewer = viewer_of(request)
    form = await read_form(request)
    data = form.as_dict()
    try:
        form.check()
        async with db_of(request).transaction() as session:
            await own_data.delete_account(session, request.app.state.passwords, viewer,
                                          anonymity_of(request), request.app.state.own_data,
                                          password=data.get("password", ""),
                                          choice=data.get("choice", ""))
    except ActionError as exc:
        return form_error(request, "account/data.html", exc, data, {"choices": own_data.CHOICES})
    response = redirect(request, "/", flash="Your account is deleted. Thank you for being part of this "
                                            "community; take good care of yourself.")
    clear_session(request, response)
    return response


routes = [
    # Exports and deletion take a recent second factor (platform.web.step_up); the page asks on arrival, so
    # that its download links then work for the next minutes.
    Route("/account/data", sensitive(page, pages=True)),
    Route("/account/data/export.json", sensitive(export, pages=True)),
    Route("/account/data/export.zip", sensitive(export, pages=True)),
    Route("/account/data/delete", sensitive(delete_account), methods=["POST"]),
]
