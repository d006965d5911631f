"""Prometheus metrics: request counts and latencies by route, and the service's own figures.

Exposed at ``/metrics`` to administrators and auditors (a Prometheus server scrapes it with an
API token of such a user). Each application has its own registry so tests stay independent.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smartcustoms import __version__

__all__ = ["Metrics", "MetricsMiddleware", "route_template"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        Info("smartcustoms", "smartcustoms build", registry=self.registry).info(
            {"version": __version__}
        )
        self.requests = Counter(
            "smartcustoms_http_requests",
            "HTTP requests by route template, method and status",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "smartcustoms_http_request_duration_seconds",
            "HTTP request latency by route template",
            ("method", "route"),
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.logins = Counter(
            "smartcustoms_logins",
            "Login attempts by outcome",
            ("outcome",),
            registry=self.registry,
        )
        # Load shedding (web.shedding), per worker.
        self.in_flight = Gauge(
            "smartcustoms_http_requests_in_flight",
            "Requests this worker is handling now (health, metrics and streams not counted)",
            registry=self.registry,
        )
        self.queued = Gauge(
            "smartcustoms_http_requests_queued",
            "Requests waiting for a place in this worker",
            registry=self.registry,
        )
        self.shed = Counter(
            "smartcustoms_http_requests_shed",
            "Requests refused with 503 because the worker was at its limit, by reason",
            ("reason",),
            registry=self.registry,
        )


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            method = scope["method"]
            template = route_template(scope)
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(time.perf_counter() - start)


def route_template(scope: Scope) -> str:
    """The matched route's template (``/api/declarations/{declaration_id}``), never the raw
    path: raw paths would make unbounded metric labels and put ids in logs. ``unmatched``
    when no route was reached (a 404, or a request refused before routing)."""
    templates = scope["app"].state.route_templates if "app" in scope else {}
    return str(templates.get((scope.get("endpoint"), scope.get("method")), "unmatched"))
