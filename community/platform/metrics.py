"""Prometheus metrics at /metrics: requests and latency per route template, open sockets, room hub lag, raw pool
waits, and (read at scrape time) outbox depth and urgent items.

One `Metrics` per app (app.state.metrics), each with its own registry, so tests can build many apps in one
process. Under `community serve --workers N` every worker writes its samples to files in
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode, chosen when prometheus_client is imported, so
`serve` sets the directory before the workers start) and a scrape on any worker reads all of them.

Who may read it: a request with `Authorization: Bearer <METRICS_TOKEN>`, or one whose client address is in
METRICS_NETWORKS. With neither setting, the route answers 404, as if there were none.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from community.settings import Settings

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SNAPSHOT_SECONDS = 5.0  # the database figures are read at most this often, however often Prometheus scrapes

# One statement, on partial or small sets: queued mail (ix_mail_outbox_due) and open review items.
SNAPSHOT_SQL = text("""
SELECT (SELECT count(*) FROM mail_outbox WHERE status = 'queued') AS outbox_queued,
       (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0) FROM mail_outbox
         WHERE status = 'queued') AS outbox_oldest,
       count(*) FILTER (WHERE urgent) AS urgent_open,
       count(*) FILTER (WHERE urgent AND claimed_by IS NULL) AS urgent_unclaimed,
       coalesce(extract(epoch FROM now() - min(created_at) FILTER (WHERE urgent AND claimed_by IS NULL)), 0)
         AS urgent_oldest_unclaimed,
       count(*) AS review_open
  FROM review_items WHERE resolved_at IS NULL
""")

SNAPSHOT_HELP = {
    "outbox_queued": "Messages waiting in the mail outbox.",
    "outbox_oldest": "Age in seconds of the oldest queued message (0: none).",
    "urgent_open": "Urgent review items not yet resolved.",
    "urgent_unclaimed": "Urgent review items nobody has claimed.",
    "urgent_oldest_unclaimed": "Age in seconds of the oldest unclaimed urgent item (0: none).",
    "review_open": "Review items not yet resolved.",
}
SNAPSHOT_NAMES = {"outbox_queued": "community_mail_outbox_queued",
                  "outbox_oldest": "community_mail_outbox_oldest_seconds",
                  "urgent_open": "community_urgent_items_open",
                  "urgent_unclaimed": "community_urgent_items_unclaimed",
                  "urgent_oldest_unclaimed": "community_urgent_oldest_unclaimed_seconds",
                  "review_open": "community_review_items_open"}


@dataclass
class _Snapshot:
    at: float
    values: dict[str, float]


class _SnapshotCollector:
    """The database figures of one scrape, as gauges (never summed across workers: one value per scrape)."""

    def __init__(self, values: dict[str, float]) -> None:
        self.values = values

    def collect(self) -> Any:
        for key, name in SNAPSHOT_NAMES.items():
            yield GaugeMetricFamily(name, SNAPSHOT_HELP[key], value=self.values[key])


class Metrics:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.multiprocess_dir = settings.prometheus_multiproc_dir
        self.networks = tuple(ipaddress.ip_network(n, strict=False) for n in settings.metrics_networks)
        registry = self.registry = CollectorRegistry()
        self.requests = Counter("community_http_requests", "HTTP requests by route template, method and status.",
                                ["route", "method", "status"], registry=registry)
        self.latency = Histogram("community_http_request_duration_seconds",
                                 "Time to the end of the response, by route template.", ["route", "method"],
                                 buckets=LATENCY_BUCKETS, registry=registry)
        self.sockets = Gauge("community_websockets_open", "WebSockets accepted and still open.",
                             multiprocess_mode="livesum", registry=registry)
        self.hub_lag = Histogram("community_room_hub_lag_seconds",
                                 "From a room's NOTIFY reaching a process to its frames being queued to that "
                                 "process's sockets.", buckets=LAG_BUCKETS, registry=registry)
        self.pool_wait = Histogram("community_db_pool_wait_seconds",
                                   "Waits for a raw pool connection (only requests that had to wait).",
                                   buckets=LATENCY_BUCKETS, registry=registry)
        self._snapshot: _Snapshot | None = None
        # Bounded: routes x methods x statuses the app answers.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._snapshot_lock = asyncio.Lock()

    def series(self, route: str, method: str, status: int) -> tuple[Any, Any]:
        """The request counter's and latency histogram's children for one route, method and status, kept: looking
        labels up was most of the cost of counting a request (measured on a busy 2-core machine: 24 µs a request
        with .labels() each time, 5.5 µs kept; multiprocess mode 56 µs and 18.5 µs)."""
        key = (route, method, status)
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = (self.requests.labels(route, method, str(status)),
                                         self.latency.labels(route, method))
        return found

    @property
    def enabled(self) -> bool:
        return bool(self.settings.metrics_token or self.networks)

    def allowed(self, request: Request) -> bool:
        token = self.settings.metrics_token
        supplied = request.headers.get("authorization", "")
        if token and supplied.startswith("Bearer ") and secrets.compare_digest(
                supplied[7:].strip().encode("utf-8", "replace"), token.encode()):
            return True
        host = request.client.host if request.client else ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    async def snapshot(self, db: Any) -> dict[str, float]:
        """The database figures, read at most every SNAPSHOT_SECONDS (one scrape reads, the others reuse)."""
        async with self._snapshot_lock:
            cached = self._snapshot
            if cached is not None and time.monotonic() - cached.at < SNAPSHOT_SECONDS:
                return cached.values
            async with db.read() as session:
                row = (await session.execute(SNAPSHOT_SQL)).mappings().one()
            values = {key: float(row[key]) for key in SNAPSHOT_NAMES}
            self._snapshot = _Snapshot(time.monotonic(), values)
            return values

    def exposition(self, values: dict[str, float]) -> bytes:
        """Every worker's samples (multiprocess mode) or this process's, then the database figures."""
        if self.multiprocess_dir:
            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged, path=self.multiprocess_dir)
            samples = generate_latest(merged)
        else:
            samples = generate_latest(self.registry)
        figures = CollectorRegistry()
        figures.register(_SnapshotCollector(values))
        return samples + generate_latest(figures)

    def process_exit(self) -> None:
        """A worker stopping: its live gauges (open sockets) leave the sum."""
        if self.multiprocess_dir:
            multiprocess.mark_process_dead(os.getpid(), self.multiprocess_dir)


def prepare_directory(path: Path) -> None:
    """`serve` before its workers start: an empty directory, so no dead process's samples are read."""
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()


class MetricsMiddleware:
    """Counts each HTTP request by its route template (Starlette's route path, never the raw URL, so the number
    of series stays bounded) and keeps the open-socket gauge."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._socket(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope.get("method", "GET") if scope.get("method") in KNOWN_METHODS else "other"
            counter, histogram = self.metrics.series(route, method, status["code"])
            counter.inc()
            histogram.observe(time.perf_counter() - started)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        accepted = False

        async def send_wrapper(message: Message) -> None:
            nonlocal accepted
            if message["type"] == "websocket.accept" and not accepted:
                accepted = True
                self.metrics.sockets.inc()
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if accepted:
                self.metrics.sockets.dec()


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


async def metrics_endpoint(request: Request) -> Response:
    metrics: Metrics = request.app.state.metrics
    if not metrics.enabled:
        return PlainTextResponse("Not found", status_code=404)
    if not metrics.allowed(request):
        if metrics.settings.metrics_token:
            return PlainTextResponse("A bearer token is required.", status_code=401,
                                     headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        return PlainTextResponse("Not found", status_code=404)
    values = await metrics.snapshot(request.app.state.db)
    return Response(metrics.exposition(values), media_type=CONTENT_TYPE_LATEST,
                    headers={"cache-control": "no-store"})


routes = [Route("/metrics", metrics_endpoint)]
