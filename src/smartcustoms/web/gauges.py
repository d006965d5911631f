"""The service's own figures, read from the database when Prometheus scrapes ``/metrics``.

What the alerting rules (``deploy/prometheus/alerts.yml``) watch lives in the database, shared
by every worker, the device listeners and the CLI: reading it at scrape time gives one true
figure whichever process is asked (workers answer alike: aggregate with ``max``), and costs
nothing between scrapes. Each query is small and uses an index or a small table (transits'
live rows, open alerts, the scan queue, the ledger's outbox, the latest 5,500 decisions).

A figure that cannot be read (a table missing on an older schema, a database hiccup) is left
out of that scrape, and ``smartcustoms_gauges_errors`` says so, rather than failing the scrape.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.db import Database
from smartcustoms.ledger.tables import LedgerCheckpoint, LedgerPending, LedgerTree
from smartcustoms.risk.tables import LaneDecisionRow
from smartcustoms.scans.tables import ScanRow
from smartcustoms.tracking.alerts import AlertStatus
from smartcustoms.tracking.tables import AlertRow, TransitLiveRow, TransitRow
from smartcustoms.tracking.transit_status import MONITORED

__all__ = ["DatabaseGauges"]

log = logging.getLogger(__name__)

WAITING_SCAN_STATES = ("awaiting_review", "awaiting_recheck", "awaiting_examination")
ALERT_LATENCY_WINDOW = timedelta(minutes=15)
RECENT_DECISIONS = 500  # the "recent" window of the drift figures …
BASELINE_DECISIONS = 5000  # … against the decisions just before it


def _age(now: datetime, then: datetime | None) -> float:
    return math.nan if then is None else max(0.0, (now - then).total_seconds())


class DatabaseGauges(Collector):
    """A Prometheus collector over ``db``; ``witnesses`` is how many witnesses are set up."""

    def __init__(self, db: Database, *, witnesses: int) -> None:
        self.db = db
        self.witnesses = witnesses
        self.errors = 0

    def describe(self) -> list[Metric]:
        return []  # collected on demand only: registering must not query the database

    def collect(self) -> Iterator[Metric]:
        now = clock.now()
        families: list[Metric] = []
        for part in (self._tracking, self._ledger, self._scans, self._risk):
            try:
                with self.db.read_session() as session:
                    families += part(session, now)
            except Exception:  # a scrape must answer: say which part failed, count it
                self.errors += 1
                log.warning("metrics: %s could not be read", part.__name__, exc_info=True)
        yield from families
        yield CounterMetricFamily(
            "smartcustoms_gauges_errors",
            "Scrapes in which a database figure could not be read (see the log)",
            value=self.errors,
        )

    # -- tracking ------------------------------------------------------------------------------

    def _tracking(self, session: Session, now: datetime) -> list[Metric]:
        monitored, last_report = session.execute(
            select(func.count(TransitRow.id), func.max(TransitLiveRow.last_seen_at))
            .select_from(TransitRow)
            .outerjoin(TransitLiveRow, TransitLiveRow.transit_id == TransitRow.id)
            .where(TransitRow.status.in_(MONITORED))
        ).one()
        armed = GaugeMetricFamily(
            "smartcustoms_tracking_transits_monitored",
            "Transits armed or handed over (their seals are watched)",
            value=monitored,
        )
        silence = GaugeMetricFamily(
            "smartcustoms_tracking_last_report_age_seconds",
            "Seconds since the newest device report of a monitored transit was stored "
            "(NaN with none): device reports not reaching the database show here",
            value=_age(now, last_report) if monitored else math.nan,
        )
        latency = session.execute(
            select(AlertRow.raised_at, AlertRow.received_at).where(
                AlertRow.raised_at >= now - ALERT_LATENCY_WINDOW
            )
        ).all()
        worst = max(((r - s).total_seconds() for r, s in latency), default=math.nan)
        alert_latency = GaugeMetricFamily(
            "smartcustoms_tracking_alert_latency_seconds",
            "Longest time, over alerts raised in the last 15 minutes, from the device frame "
            "being received to the alert being stored (NaN with none)",
            value=worst,
        )
        open_alerts = GaugeMetricFamily(
            "smartcustoms_tracking_alerts_unacknowledged",
            "Open alerts nobody has acknowledged yet, by severity",
            labels=("severity",),
        )
        oldest = GaugeMetricFamily(
            "smartcustoms_tracking_oldest_unacknowledged_alert_age_seconds",
            "Age of the oldest alert nobody has acknowledged, by severity",
            labels=("severity",),
        )
        for severity, count, first in session.execute(
            select(AlertRow.severity, func.count(AlertRow.id), func.min(AlertRow.raised_at))
            .where(AlertRow.status == AlertStatus.OPEN.value)
            .group_by(AlertRow.severity)
        ):
            open_alerts.add_metric([severity], count)
            oldest.add_metric([severity], _age(now, first))
        return [armed, silence, alert_latency, open_alerts, oldest]

    # -- ledger --------------------------------------------------------------------------------

    def _ledger(self, session: Session, now: datetime) -> list[Metric]:
        queued, first_queued = session.execute(
            select(func.count(LedgerPending.id), func.min(LedgerPending.created_at)).where(
                LedgerPending.idx.is_(None)
            )
        ).one()
        size = session.execute(select(func.max(LedgerTree.size))).scalar() or 0
        signed = session.execute(select(func.max(LedgerCheckpoint.size))).scalar() or 0
        witnessed = (
            session.execute(
                select(func.max(LedgerCheckpoint.size)).where(LedgerCheckpoint.quorum_met)
            ).scalar()
            or 0
        )

        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, value=value)

        return [
            gauge(
                "smartcustoms_ledger_queued_records",
                "Records committed to the ledger's outbox and not yet in the tree",
                queued,
            ),
            gauge(
                "smartcustoms_ledger_oldest_queued_age_seconds",
                "Age of the oldest record waiting in the outbox (0 with none)",
                _age(now, first_queued) if queued else 0.0,
            ),
            gauge("smartcustoms_ledger_tree_size", "Entries stored in the ledger's tree", size),
            gauge(
                "smartcustoms_ledger_checkpoint_size",
                "Tree size of the latest signed checkpoint",
                signed,
            ),
            gauge(
                "smartcustoms_ledger_witnessed_size",
                "Tree size of the latest checkpoint cosigned by a quorum of witnesses",
                witnessed,
            ),
            gauge(
                "smartcustoms_ledger_witnesses",
                "Witnesses this instance asks to cosign (ledger_witnesses)",
                self.witnesses,
            ),
        ]

    # -- scans ---------------------------------------------------------------------------------

    def _scans(self, session: Session, now: datetime) -> list[Metric]:
        waiting = GaugeMetricFamily(
            "smartcustoms_scans_waiting", "Scans waiting for a person, by state", labels=("state",)
        )
        oldest = GaugeMetricFamily(
            "smartcustoms_scans_oldest_waiting_age_seconds",
            "Age of the oldest scan waiting in each state (since it was received)",
            labels=("state",),
        )
        found: dict[str, tuple[int, datetime | None]] = {}
        for state, count, first in session.execute(
            select(ScanRow.status, func.count(ScanRow.id), func.min(ScanRow.received_at))
            .where(ScanRow.status.in_(WAITING_SCAN_STATES))
            .group_by(ScanRow.status)
        ):
            found[state] = (count, first)
        for state in WAITING_SCAN_STATES:  # every state, zero too: alerts compare against it
            number, since = found.get(state, (0, None))
            waiting.add_metric([state], number)
            oldest.add_metric([state], _age(now, since) if number else 0.0)
        return [waiting, oldest]

    # -- risk ----------------------------------------------------------------------------------

    def _risk(self, session: Session, now: datetime) -> list[Metric]:
        rows: list[Any] = list(
            session.execute(
                select(LaneDecisionRow.score, LaneDecisionRow.lane)
                .order_by(LaneDecisionRow.id.desc())
                .limit(RECENT_DECISIONS + BASELINE_DECISIONS)
            ).all()
        )
        windows = {"recent": rows[:RECENT_DECISIONS], "baseline": rows[RECENT_DECISIONS:]}
        score = GaugeMetricFamily(
            "smartcustoms_risk_score_mean",
            "Mean model score of the latest 500 lane decisions (recent) and of the 5,000 "
            "before them (baseline); NaN for an empty window",
            labels=("window",),
        )
        red = GaugeMetricFamily(
            "smartcustoms_risk_red_share",
            "Share of red lanes in the same windows",
            labels=("window",),
        )
        count = GaugeMetricFamily(
            "smartcustoms_risk_decisions_in_window",
            "Lane decisions in each window (the drift rules need enough of them)",
            labels=("window",),
        )
        for name, window in windows.items():
            scores = [r.score for r in window if r.score is not None]
            score.add_metric([name], sum(scores) / len(scores) if scores else math.nan)
            red.add_metric(
                [name],
                sum(r.lane == "red" for r in window) / len(window) if window else math.nan,
            )
            count.add_metric([name], len(window))
        return [score, red, count]
