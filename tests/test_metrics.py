"""/metrics (issue 18): who may read it (a bearer token, or the listed networks; neither set: 404), request counts
by route template, and the database figures read at scrape time (outbox depth, urgent items and their age)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from community.app import create_app
from community.platform.mail.models import OutboxMessage
from community.platform.metrics import SNAPSHOT_NAMES, SNAPSHOT_SECONDS
from community.platform.review.models import ReviewItem
from community.settings import Settings, SettingsError
from tests.conftest import Client

TOKEN = "metrics-token-for-tests-0123456789"
ALERTS = Path(__file__).resolve().parent.parent / "deploy" / "alerts.yml"


def _client(app, address: str = "127.0.0.1") -> Client:
    return Client(transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://testserver")


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the exposition (labels in any order), or 0 when it is absent."""
    for line in text.splitlines():
        found = re.fullmatch(re.escape(name) + r"(?:\{(.*)\})? ([0-9.e+-]+)", line)
        if found and dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', found.group(1) or "")) == labels:
            return float(found.group(2))
    return 0.0


async def test_without_a_token_or_networks_the_route_is_not_there(app):
    async with _client(app) as client:
        response = await client.get("/metrics")
    assert response.status_code == 404 and "community_" not in response.text


async def test_a_bearer_token_opens_it(settings, db):
    app = create_app(settings.with_(metrics_token=TOKEN), db=db)
    async with _client(app) as client:
        missing = await client.get("/metrics")
        assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
        wrong = await client.get("/metrics", headers={"authorization": "Bearer " + "x" * len(TOKEN)})
        assert wrong.status_code == 401
        assert (await client.get("/metrics", headers={"authorization": b"Bearer \xff\xfe"})).status_code == 401
        right = await client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200 and right.headers["content-type"].startswith("text/plain")
    assert "community_http_requests_total" in right.text and "community_mail_outbox_queued" in right.text


async def test_the_internal_network_may_read_it_without_a_token(settings, db):
    app = create_app(settings.with_(metrics_networks=("10.0.0.0/8", "192.168.1.5")), db=db)
    async with _client(app, "10.20.30.40") as inside, _client(app, "192.168.1.5") as host, \
            _client(app, "203.0.113.9") as outside:
        assert (await inside.get("/metrics")).status_code == 200
        assert (await host.get("/metrics")).status_code == 200
        assert (await outside.get("/metrics")).status_code == 404


async def test_requests_are_counted_by_route_template_not_by_url(settings, db):
    app = create_app(settings.with_(metrics_token=TOKEN), db=db)
    auth = {"authorization": f"Bearer {TOKEN}"}
    async with _client(app) as client:
        for token in ("first-token", "second-token", "third-token"):
            assert (await client.get(f"/join/{token}")).status_code == 404
        await client.get("/no/such/page/at/all")
        text = (await client.get("/metrics", headers=auth)).text
    assert sample(text, "community_http_requests_total", route="/join/{token}", method="GET", status="404") == 3
    assert sample(text, "community_http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert "first-token" not in text and "/no/such" not in text
    assert sample(text, "community_http_request_duration_seconds_count", route="/join/{token}", method="GET") == 3


async def test_outbox_depth_and_urgent_items_are_read_at_scrape_time(settings, db, monkeypatch):
    app = create_app(settings.with_(metrics_token=TOKEN), db=db)
    auth = {"authorization": f"Bearer {TOKEN}"}
    async with _client(app) as client:
        before = (await client.get("/metrics", headers=auth)).text
        async with db.transaction() as session:
            session.add(ReviewItem(target_kind="thread", target_id=987654, priority=0, reasons=["crisis"],
                                   source="crisis", urgent=True, created_at=datetime.now(UTC) - timedelta(minutes=20)))
            session.add(OutboxMessage(message_id="<metrics-test@localhost>", to_addr="a@example.org",
                                      template="test", subject="s", text_body="t", html_body="h", headers={},
                                      attachments=[], created_at=datetime.now(UTC) - timedelta(minutes=7)))
        cached = (await client.get("/metrics", headers=auth)).text
        # Figures are cached for a few seconds: a burst of scrapes reads the database once.
        assert sample(cached, "community_urgent_items_unclaimed") == sample(before, "community_urgent_items_unclaimed")
        app.state.metrics._snapshot = None  # as if SNAPSHOT_SECONDS had passed
        after = (await client.get("/metrics", headers=auth)).text
    assert SNAPSHOT_SECONDS <= 10
    for name in ("community_urgent_items_open", "community_urgent_items_unclaimed", "community_mail_outbox_queued"):
        assert sample(after, name) == sample(before, name) + 1, name
    assert sample(after, "community_urgent_oldest_unclaimed_seconds") >= 19 * 60  # the database clock: the test began
    assert sample(after, "community_mail_outbox_oldest_seconds") >= 6 * 60


@pytest.mark.parametrize(("name", "value"), [
    ("METRICS_TOKEN", "short"), ("METRICS_TOKEN", "has a space in it somewhere"),
    ("METRICS_NETWORKS", "10.0.0.0/8,internal"), ("METRICS_NETWORKS", "300.1.1.1"),
    ("STAFF_IDLE_MINUTES", "0"), ("STAFF_SESSION_HOURS", "twelve"),
])
def test_unreadable_metrics_and_session_settings_stop_start_up(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value}, dotenv=Path("/nonexistent"))


def test_metrics_and_session_settings_are_read():
    settings = Settings.from_env({"METRICS_TOKEN": TOKEN, "METRICS_NETWORKS": "10.0.0.0/8, 127.0.0.1",
                                  "STAFF_SESSION_HOURS": "8", "STAFF_IDLE_MINUTES": "15",
                                  "PROMETHEUS_MULTIPROC_DIR": "/tmp/somewhere"}, dotenv=Path("/nonexistent"))
    assert settings.metrics_token == TOKEN and settings.metrics_networks == ("10.0.0.0/8", "127.0.0.1")
    assert (settings.staff_session_hours, settings.staff_idle_minutes) == (8, 15)
    assert settings.prometheus_multiproc_dir == "/tmp/somewhere"


async def test_every_alert_rule_names_metrics_the_app_exports(settings, db):
    """deploy/alerts.yml parses, and each community_* series it uses is in a real scrape."""
    rules = yaml.safe_load(ALERTS.read_text())  # noqa: ASYNC240  (a small file, read once)
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {"UrgentItemUnclaimed", "OutboxStuck", "RoomHubLag", "HighErrorRate", "HighP99Latency"} <= {
        rule["alert"] for rule in alerts}
    app = create_app(settings.with_(metrics_token=TOKEN), db=db)
    async with _client(app) as client:
        await client.get("/healthz")
        exported = (await client.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})).text
    app.state.metrics.hub_lag.observe(0.01)  # histograms show their series once observed
    app.state.metrics.pool_wait.observe(0.01)
    exported += app.state.metrics.exposition({key: 0.0 for key in SNAPSHOT_NAMES}).decode()
    names = {line.split("{")[0].split(" ")[0] for line in exported.splitlines() if line.startswith("community_")}
    for rule in alerts:
        used = set(re.findall(r"\bcommunity_[a-z_]+", rule["expr"]))
        assert used <= names, (rule["alert"], used - names)
