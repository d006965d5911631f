"""Reports for an administration's management — transits, alerts, selectivity, scans — computed
in SQL on SQLite and PostgreSQL from what risk, tracking and scans store, and exported as CSV,
XLSX and PDF (:mod:`.exports`). Sits above those packages, as ``backup`` and ``federation`` do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from smartcustoms.core.errors import NotFound
from smartcustoms.core.i18n import N_
from smartcustoms.core.roles import Role
from smartcustoms.core.unit import Unit
from smartcustoms.reports.alerts import alerts_report
from smartcustoms.reports.events import ReportExported
from smartcustoms.reports.filters import Filters, parse_filters
from smartcustoms.reports.model import Bar, Chart, Column, Report, Table
from smartcustoms.reports.scans import scans_report
from smartcustoms.reports.selectivity import selectivity_report
from smartcustoms.reports.transits import transits_report

__all__ = [
    "READERS",
    "REPORTS",
    "Bar",
    "Chart",
    "Column",
    "Filters",
    "Report",
    "ReportKind",
    "Table",
    "applied",
    "compute",
    "parse_filters",
    "record_export",
    "report_kind",
]


@dataclass(frozen=True)
class ReportKind:
    name: str
    title: str  # untranslated message id
    summary: str  # untranslated message id
    compute: Callable[[Session, Filters], Report]
    roles: frozenset[Role]
    filters: tuple[str, ...]  # which of office and corridor apply, besides the dates


_MANAGEMENT = frozenset({Role.SUPERVISOR, Role.AUDITOR})

REPORTS: dict[str, ReportKind] = {
    kind.name: kind
    for kind in (
        ReportKind(
            "transits",
            N_("Transits"),
            N_("Duration, long stops, border dwell and time to discharge, per corridor and month."),
            transits_report,
            _MANAGEMENT | {Role.ADMINISTRATOR},
            ("office", "corridor"),
        ),
        ReportKind(
            "alerts",
            N_("Alerts"),
            N_("Alerts per type and month, time to acknowledge and resolve, outcomes."),
            alerts_report,
            _MANAGEMENT | {Role.ADMINISTRATOR},
            ("office", "corridor"),
        ),
        ReportKind(
            "selectivity",
            N_("Selectivity"),
            N_(
                "Lanes (original and final), hit rates and revenue per office, month, rule and "
                "model."
            ),
            selectivity_report,
            _MANAGEMENT | {Role.RISK_ANALYST},
            ("office",),
        ),
        ReportKind(
            "scans",
            N_("Scans"),
            N_("Time to review, analysts' decisions and examination findings per month."),
            scans_report,
            _MANAGEMENT | {Role.RISK_ANALYST},
            ("office",),
        ),
    )
}
#: Who may open the reports index: anyone who may read at least one report.
READERS: frozenset[Role] = frozenset().union(*(k.roles for k in REPORTS.values()))


def report_kind(name: str) -> ReportKind:
    kind = REPORTS.get(name)
    if kind is None:
        raise NotFound(f"no report {name!r}", details=[{"field": "name"}])
    return kind


def applied(name: str, filters: Filters) -> Filters:
    """``filters`` without those the report does not have (dropped, not applied to nothing)."""
    kind = report_kind(name)
    return Filters(
        filters.date_from,
        filters.date_to,
        filters.office if "office" in kind.filters else None,
        filters.corridor if "corridor" in kind.filters else None,
    )


def compute(session: Session, name: str, filters: Filters) -> Report:
    return report_kind(name).compute(session, applied(name, filters))


def record_export(unit: Unit, name: str, fmt: str, filters: Filters, *, actor: str) -> None:
    """An export is a ledger record: who exported which report, how, with which filters."""
    filters = applied(name, filters)
    unit.emit(
        ReportExported(
            actor=actor,
            report=report_kind(name).name,
            format=fmt,
            date_from=filters.date_from.isoformat(),
            date_to=filters.date_to.isoformat(),
            office=filters.office,
            corridor=filters.corridor,
        )
    )
