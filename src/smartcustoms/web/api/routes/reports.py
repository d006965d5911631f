"""The reports as JSON: the same figures as the pages and downloads, codes kept as codes (the
page shows their labels), money as decimal strings. Each call is a ledger record, as a download
is. Each report's route admits the roles it names (:data:`smartcustoms.reports.REPORTS`)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query

from smartcustoms.reports import (
    REPORTS,
    Report,
    ReportKind,
    applied,
    compute,
    parse_filters,
    record_export,
)
from smartcustoms.reports.model import Value
from smartcustoms.web.deps import UnitDep
from smartcustoms.web.policy import CurrentPrincipal, requires

__all__ = ["router"]

router = APIRouter(tags=["reports"])

_DAY = "YYYY-MM-DD (a UTC day, included)"
Code = Annotated[str | None, Query(max_length=32)]


def _json(value: Value) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def as_json(report: Report) -> dict[str, Any]:
    return {
        "report": report.name,
        "tables": [
            {
                "key": t.key,
                "title": t.title,
                "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in t.columns],
                "rows": [
                    {c.key: _json(v) for c, v in zip(t.columns, row, strict=True)} for row in t.rows
                ],
            }
            for t in report.tables
        ],
        "charts": [
            {
                "key": c.key,
                "title": c.title,
                "unit": c.unit,
                "bars": [{"label": b.label, "value": b.value} for b in c.bars],
            }
            for c in report.charts
        ],
    }


def _endpoint(kind: ReportKind) -> Callable[..., dict[str, Any]]:
    def report(
        unit: UnitDep,
        principal: CurrentPrincipal,
        date_from: Annotated[
            str | None, Query(alias="from", max_length=10, description=_DAY)
        ] = None,
        date_to: Annotated[str | None, Query(alias="to", max_length=10, description=_DAY)] = None,
        office: Code = None,
        corridor: Code = None,
    ) -> dict[str, Any]:
        filters = parse_filters(
            {"from": date_from, "to": date_to, "office": office, "corridor": corridor}
        )
        result = compute(unit.session, kind.name, filters)
        record_export(unit, kind.name, "json", filters, actor=principal.username)
        return {**as_json(result), "filters": applied(kind.name, filters).as_dict()}

    report.__name__ = f"report_{kind.name}"
    report.__doc__ = f"The {kind.name} report: {kind.summary}"
    return report


for _kind in REPORTS.values():
    router.get(
        f"/api/reports/{_kind.name}",
        summary=_kind.title,
        description=f"Filters: from, to{''.join(', ' + f for f in _kind.filters)}.",
    )(requires(*_kind.roles)(_endpoint(_kind)))
