"""Alerts per type and month (of raising): how many, how fast they were acknowledged and
resolved, and what they turned out to be. Summed in SQL, one row per type and month."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from smartcustoms.core.i18n import N_
from smartcustoms.reports.filters import Filters
from smartcustoms.reports.model import Bar, Chart, Column, Report, Table, share
from smartcustoms.reports.sql import month_of, seconds_between
from smartcustoms.tracking.alerts import OUTCOME_LABELS
from smartcustoms.tracking.tables import AlertRow, CorridorRow, TransitRow
from smartcustoms.tracking.thresholds import ALERT_LABELS

__all__ = ["alerts_report"]

TYPES = {k.value: v for k, v in ALERT_LABELS.items()}
OUTCOMES_L = {k.value: v for k, v in OUTCOME_LABELS.items()}
BY_TYPE = (
    Column("type", N_("Alert type"), labels=TYPES),
    Column("month", N_("Month")),
    Column("alerts", N_("Alerts"), "count"),
    Column("acknowledged", N_("Acknowledged"), "count"),
    Column("resolved", N_("Resolved"), "count"),
    Column("to_acknowledge_min", N_("Average time to acknowledge (minutes)"), "decimal"),
    Column("to_resolve_min", N_("Average time to resolve (minutes)"), "decimal"),
)
OUTCOMES = (
    Column("type", N_("Alert type"), labels=TYPES),
    Column("outcome", N_("Outcome"), labels=OUTCOMES_L),
    Column("alerts", N_("Alerts"), "count"),
    Column("share", N_("Share of the type's resolved alerts"), "share"),
)


def _minutes(total: float | None, n: int) -> float | None:
    return round(float(total) / n / 60, 1) if n and total is not None else None


def alerts_report(session: Session, filters: Filters) -> Report:
    dialect = session.get_bind().dialect.name
    a = AlertRow
    where = [a.raised_at >= filters.start, a.raised_at < filters.end]
    base = select(a).join(TransitRow, TransitRow.id == a.transit_id)
    if filters.corridor:
        base = base.join(CorridorRow, CorridorRow.id == TransitRow.corridor_id)
        where.append(CorridorRow.code == filters.corridor)
    if filters.office:
        where.append(
            or_(TransitRow.origin == filters.office, TransitRow.destination == filters.office)
        )
    scoped = base.where(*where).subquery()
    s = scoped.c
    to_ack = seconds_between(s.raised_at, s.acknowledged_at, dialect)
    to_resolve = seconds_between(s.raised_at, s.resolved_at, dialect)
    month = month_of(s.raised_at, dialect)
    grouped = session.execute(
        select(
            s.type,
            month,
            func.count(),
            func.count(s.acknowledged_at),
            func.count(s.resolved_at),
            func.sum(to_ack),
            func.sum(to_resolve),
        )
        .group_by(s.type, month)
        .order_by(s.type, month)
    ).all()
    rows = []
    per_type: dict[str, int] = {}
    for kind, m, n, acked, resolved, ack_s, resolve_s in grouped:
        rows.append(
            (
                kind, m, int(n), int(acked), int(resolved),
                _minutes(ack_s, int(acked)), _minutes(resolve_s, int(resolved)),
            )
        )  # fmt: skip
        per_type[kind] = per_type.get(kind, 0) + int(n)
    outcomes = session.execute(
        select(s.type, s.outcome, func.count())
        .where(s.outcome.is_not(None))
        .group_by(s.type, s.outcome)
        .order_by(s.type, s.outcome)
    ).all()
    resolved_per_type: dict[str, int] = {}
    for kind, _, n in outcomes:
        resolved_per_type[kind] = resolved_per_type.get(kind, 0) + int(n)
    outcome_rows = [
        (kind, outcome, int(n), share(int(n), resolved_per_type[kind]))
        for kind, outcome, n in outcomes
    ]
    per_outcome: dict[str, int] = {}
    for _, outcome, n, _ in outcome_rows:
        per_outcome[str(outcome)] = per_outcome.get(str(outcome), 0) + int(n or 0)
    report = Report("alerts", N_("Alerts"))
    report.tables.append(Table("by_type_month", N_("Alerts per type and month"), BY_TYPE, rows))
    report.tables.append(
        Table("outcomes", N_("Outcomes of resolved alerts"), OUTCOMES, outcome_rows)
    )
    report.charts.append(
        Chart(
            "per_type",
            N_("Alerts per type"),
            "count",
            tuple(Bar(k, v) for k, v in sorted(per_type.items())),
            TYPES,
        )
    )
    report.charts.append(
        Chart(
            "outcomes",
            N_("Outcomes of resolved alerts"),
            "count",
            tuple(Bar(k, v) for k, v in sorted(per_outcome.items())),
            OUTCOMES_L,
        )
    )
    return report
