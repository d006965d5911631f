"""Prometheus figures of federation, shown on the application's ``/metrics``: the deliverer's
counters (a registry of its own per context, bridged like the webhooks'), and the outbox's
depth and oldest undelivered age read from the database at scrape time."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from smartcustoms.core import clock
from smartcustoms.core.db import Database
from smartcustoms.federation.outbox import queue_figures

__all__ = ["FederationMetrics", "OutboxGauges"]


class FederationMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.attempts = Counter(
            "smartcustoms_federation_attempts",
            "Messages sent to partners by outcome (delivered, failed, set_aside)",
            ("outcome",),
            registry=self.registry,
        )
        self.positions = Counter(
            "smartcustoms_federation_positions_forwarded",
            "Positions of handed-over transits queued for the partner",
            registry=self.registry,
        )
        self.lag = Histogram(
            "smartcustoms_federation_delivery_lag_seconds",
            "Time from a message's commit to the partner's acknowledgement",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 60, 600, 3600),
            registry=self.registry,
        )
        self.request = Histogram(
            "smartcustoms_federation_request_duration_seconds",
            "One signed request to a partner's inbox, send to answer",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
            registry=self.registry,
        )
        self.leader = Gauge(
            "smartcustoms_federation_deliverer_leader",
            "1 while this process is the one sending to partners",
            registry=self.registry,
        )


class OutboxGauges(Collector):
    """The queue as the database has it, whichever process fills or drains it."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def collect(self) -> Iterable[Metric]:
        with self._db.engine.connect() as conn:
            depth, oldest = queue_figures(conn)
        age = 0.0 if oldest is None else max(0.0, (clock.now() - oldest).total_seconds())
        yield GaugeMetricFamily(
            "smartcustoms_federation_outbox_depth",
            "Messages to partners not yet acknowledged",
            value=depth,
        )
        yield GaugeMetricFamily(
            "smartcustoms_federation_outbox_oldest_age_seconds",
            "Age of the oldest message to a partner not yet acknowledged (0 when none)",
            value=age,
        )
