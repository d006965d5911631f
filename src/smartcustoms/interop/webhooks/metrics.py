"""Prometheus figures of the deliverer, shown on the application's ``/metrics``.

They live in a registry of their own (one per context, like the application's) that the
application's registry reads through :class:`RegistryBridge`.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

__all__ = ["RegistryBridge", "WebhookMetrics"]


class WebhookMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.attempts = Counter(
            "smartcustoms_webhook_attempts",
            "Webhook delivery attempts by outcome (delivered, failed, dead)",
            ("outcome",),
            registry=self.registry,
        )
        self.lag = Histogram(
            "smartcustoms_webhook_delivery_lag_seconds",
            "Time from the event (its commit) to its delivery being acknowledged",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600),
            registry=self.registry,
        )
        self.request = Histogram(
            "smartcustoms_webhook_request_duration_seconds",
            "One webhook HTTP request, send to answer",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        self.leader = Gauge(
            "smartcustoms_webhook_deliverer_leader",
            "1 while this process is the one delivering webhooks",
            registry=self.registry,
        )
        self.paused = Gauge(
            "smartcustoms_webhook_receivers_backing_off",
            "Subscriptions whose receiver failed and is being retried with back-off",
            registry=self.registry,
        )


class RegistryBridge(Collector):
    """Exposes another registry's metrics through the one it is registered in."""

    def __init__(self, inner: CollectorRegistry) -> None:
        self._inner = inner

    def collect(self) -> Iterable[Metric]:
        return self._inner.collect()
