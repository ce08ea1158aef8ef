"""/metrics is never served through nginx (deploy/nginx.conf.template), even where the app would answer: behind a
proxy that is not trusted for X-Forwarded-For, every client looks like the proxy, which METRICS_NETWORKS may list."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.live


def test_nginx_refuses_metrics_that_the_app_port_serves(live_database, live_server_factory, nginx_factory):
    edge_port = free_port()
    app = live_server_factory(live_database, extra_env={"METRICS_NETWORKS": "127.0.0.1",
                                                        "BASE_URL": f"http://127.0.0.1:{edge_port}"})
    edge = nginx_factory(edge_port, [app.port])
    direct = httpx.get(app.url + "/metrics", timeout=10)
    assert direct.status_code == 200 and "community_http_requests_total" in direct.text
    through = httpx.get(edge.url + "/metrics", timeout=10)
    assert through.status_code == 404 and "community_" not in through.text
    assert httpx.get(edge.url + "/healthz", timeout=10).status_code == 200
