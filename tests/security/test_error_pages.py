"""F6: a 500 page goes through the same middleware as every page: CSP, X-Frame-Options, nosniff, no-store for a
signed-in member (whose name and CSRF token it shows), and an access-log line with status 500."""

from __future__ import annotations

import logging

import httpx
from starlette.routing import Route

from community.app import PILLARS, create_app
from community.platform.pillar import Pillar
from tests.conftest import Client, sign_in


async def boom(request):
    raise RuntimeError("a bug in an endpoint")


async def test_a_server_error_page_carries_the_security_headers_and_is_logged(settings, db, member_factory,
                                                                             caplog):
    app = create_app(settings, db=db, pillars=(*PILLARS, Pillar(name="test", routes=(Route("/boom", boom),))))
    member = await member_factory("resident")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with Client(transport=transport, base_url="http://testserver") as client:
        await sign_in(client, db, member)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="community.access"):
            response = await client.get("/boom")
    assert response.status_code == 500 and "Something went wrong on our side" in response.text
    assert member.display_name in response.text  # the full layout, for the signed-in member
    headers = response.headers
    assert "default-src" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["cache-control"] == "no-store" and headers.get("x-request-id")
    logged = [r.msg for r in caplog.records if r.name == "community.access" and isinstance(r.msg, dict)]
    assert [(e["route"], e["status"]) for e in logged] == [("/boom", 500)]
