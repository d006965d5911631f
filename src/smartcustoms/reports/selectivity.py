"""Selectivity per office, month and lane — counted by the engine's original lane and, apart, by
the final lane after approved overrides — with the hit rates and revenue of the examinations
that followed; per targeting rule and per model version. Summed in SQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, Select, cast, func, literal_column, select, true
from sqlalchemy.orm import Session

from smartcustoms.core.i18n import N_
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.reports.filters import Filters
from smartcustoms.reports.model import Bar, Chart, Column, Report, Table, share
from smartcustoms.reports.sql import month_of
from smartcustoms.risk.lanes import LANE_LABELS
from smartcustoms.risk.tables import FINAL_LANE, InspectionRow, LaneDecisionRow

__all__ = ["selectivity_report"]

LANE_ORDER = ("red", "scan", "yellow", "blue", "green")

LANES = {k.value: v for k, v in LANE_LABELS.items()}
BY_LANE = (
    Column("office", N_("Office")),
    Column("month", N_("Month")),
    Column("lane", N_("Lane"), labels=LANES),
    Column("original", N_("Declarations (original lane)"), "count"),
    Column("final", N_("Declarations (final lane)"), "count"),
    Column("examined_original", N_("Examined (original lane)"), "count"),
    Column("hit_rate_original", N_("Hit rate (original lane)"), "share"),
    Column("examined_final", N_("Examined (final lane)"), "count"),
    Column("hit_rate_final", N_("Hit rate (final lane)"), "share"),
    Column("revenue_final", N_("Revenue raised (final lane)"), "money"),
)
BY_GROUP = (
    Column("kind", N_("Rule or model"), labels={"rule": N_("Rule"), "model": N_("Model")}),
    Column("name", N_("Name")),  # a rule as name@version; a model by its version
    Column("declarations", N_("Declarations"), "count"),
    Column("examined", N_("Examined"), "count"),
    Column("irregular", N_("Irregular"), "count"),
    Column("hit_rate", N_("Hit rate"), "share"),
    Column("revenue", N_("Revenue raised"), "money"),
)


def _lane_order(lane: str) -> int:
    return LANE_ORDER.index(lane) if lane in LANE_ORDER else len(LANE_ORDER)


def _scoped(filters: Filters, *columns: Any) -> Select[Any]:
    d = LaneDecisionRow
    query = (
        select(*columns)
        .select_from(d)
        .join(DeclarationRow, DeclarationRow.id == d.declaration_id)
        .outerjoin(InspectionRow, InspectionRow.decision_id == d.id)
        .where(d.decided_at >= filters.start, d.decided_at < filters.end)
    )
    if filters.office:
        query = query.where(DeclarationRow.office == filters.office)
    return query


def _figures() -> tuple[Any, ...]:
    return (
        func.count(LaneDecisionRow.id),
        func.count(InspectionRow.id),
        func.sum(cast(InspectionRow.irregular, Integer)),
        func.sum(InspectionRow.revenue_raised),
    )


def _money(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))


def selectivity_report(session: Session, filters: Filters) -> Report:
    dialect = session.get_bind().dialect.name
    month = month_of(LaneDecisionRow.decided_at, dialect)
    cells: dict[tuple[str, str, str], dict[str, Any]] = {}
    for which, lane in (("original", LaneDecisionRow.lane), ("final", FINAL_LANE)):
        query = _scoped(filters, DeclarationRow.office, month, lane, *_figures()).group_by(
            DeclarationRow.office, month, lane
        )
        for office, m, ln, n, examined, irregular, revenue in session.execute(query):
            cell = cells.setdefault((office, m, ln), {})
            cell[which] = (int(n), int(examined), int(irregular or 0), _money(revenue))
    rows = []
    per_final: dict[str, int] = {}
    examined_final: dict[str, list[int]] = {}
    for office, m, ln in sorted(cells, key=lambda k: (k[0], k[1], _lane_order(k[2]))):
        cell = cells[(office, m, ln)]
        o_n, o_exam, o_irr, _ = cell.get("original", (0, 0, 0, Decimal("0.00")))
        f_n, f_exam, f_irr, f_rev = cell.get("final", (0, 0, 0, Decimal("0.00")))
        rows.append(
            (
                office, m, ln, o_n, f_n, o_exam, share(o_irr, o_exam), f_exam,
                share(f_irr, f_exam), f_rev,
            )
        )  # fmt: skip
        per_final[ln] = per_final.get(ln, 0) + f_n
        entry = examined_final.setdefault(ln, [0, 0])
        entry[0] += f_exam
        entry[1] += f_irr

    groups = []
    # A literal, not a parameter: PostgreSQL matches the GROUP BY to the column by its text.
    model = func.coalesce(LaneDecisionRow.model_version, literal_column("''"))
    by_model = _scoped(filters, model, *_figures()).group_by(model)
    for version, n, examined, irregular, revenue in session.execute(by_model):
        name = version or "-"  # no model was active
        groups.append(("model", name, int(n), int(examined), int(irregular or 0), _money(revenue)))
    rule = _rule_elements(dialect)
    by_rule = _scoped(filters, rule.c.value, *_figures()).join(rule, true()).group_by(rule.c.value)
    for ref, n, examined, irregular, revenue in session.execute(by_rule):
        groups.append(("rule", ref, int(n), int(examined), int(irregular or 0), _money(revenue)))
    group_rows = [
        (kind, name, n, ex, irr, share(irr, ex), rev)
        for kind, name, n, ex, irr, rev in sorted(groups)
    ]
    report = Report("selectivity", N_("Selectivity"))
    report.tables.append(
        Table("by_office_month_lane", N_("Lanes and hit rates per office and month"), BY_LANE, rows)
    )
    report.tables.append(
        Table("by_rule_model", N_("Hit rates per rule and model"), BY_GROUP, group_rows)
    )
    order = sorted(per_final, key=_lane_order)
    report.charts.append(
        Chart(
            "final_lanes",
            N_("Declarations per final lane"),
            "count",
            tuple(Bar(ln, per_final[ln]) for ln in order),
            LANES,
        )
    )
    report.charts.append(
        Chart(
            "hit_rates",
            N_("Hit rate per final lane"),
            "share",
            tuple(
                Bar(ln, share(examined_final[ln][1], examined_final[ln][0]) or 0.0)
                for ln in order
                if examined_final[ln][0]
            ),
            LANES,
        )
    )
    return report


def _rule_elements(dialect: str) -> Any:
    """The rules a decision fired, one row each: a JSON array's elements, as text."""
    if dialect == "sqlite":
        return func.json_each(LaneDecisionRow.rules_fired).table_valued("value").alias("rule")
    return (
        func.jsonb_array_elements_text(LaneDecisionRow.rules_fired)
        .table_valued("value")
        .lateral("rule")
    )
