"""Report pages — the index and one page per report with inline SVG charts and tables — and
their downloads as CSV (streamed), XLSX and PDF, each with the page's filters. Every download
is a ledger record (``reports.exported``). Each report's routes admit the roles it names
(:data:`smartcustoms.reports.REPORTS`). The schedules of report e-mails have their own page
(:mod:`.report_schedules`), under ``/reports/schedules``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any

from babel.numbers import format_decimal, format_percent
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import select

from smartcustoms.core.principal import Principal
from smartcustoms.reports import (
    READERS,
    REPORTS,
    Filters,
    Report,
    ReportKind,
    applied,
    compute,
    parse_filters,
    record_export,
)
from smartcustoms.reports.charts import lay_out
from smartcustoms.reports.exports import csv_chunks, pdf_bytes, table_cells, xlsx_bytes
from smartcustoms.reports.model import Column, Kind, Value
from smartcustoms.tracking.tables import CorridorRow
from smartcustoms.web.api.routes.report_schedules import SCHEDULERS
from smartcustoms.web.auth import context
from smartcustoms.web.i18n import translations
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.render import language_of, render
from smartcustoms.web.ui.routes.report_schedules import router as schedules_router

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


@cache
def _gettext(language: str) -> Callable[[str], str]:
    return translations(language).gettext


def display(kind: Kind, value: Value, language: str) -> str:
    """A figure as people read it in ``language`` (grouping, decimal sign, percent)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if kind == "share":
        return str(format_percent(value, "#,##0.0%", locale=language))
    if kind == "money":
        return str(format_decimal(value, "#,##0.00", locale=language))
    if kind == "decimal":
        return str(format_decimal(value, "#,##0.0#", locale=language))
    return str(format_decimal(value, locale=language))


def _cell(language: str) -> Callable[[Column, Value], str]:
    gettext = _gettext(language)

    def fmt(column: Column, value: Value) -> str:
        label = column.label_of(value)
        return gettext(label) if label is not None else display(column.kind, value, language)

    return fmt


def _view(report: Report, language: str) -> dict[str, Any]:
    """What the page and the PDF templates draw: charts laid out, cells as text."""
    gettext = _gettext(language)
    charts = [
        lay_out(
            chart,
            translate=gettext,
            fmt=lambda v, unit=chart.unit: display(unit, v, language),  # type: ignore[misc]
        )
        for chart in report.charts
    ]
    tables = [
        {
            "key": t.key,
            "title": gettext(t.title),
            "columns": [(c.key, gettext(c.label), c.kind) for c in t.columns],
            "rows": table_cells(t, _cell(language)),
        }
        for t in report.tables
    ]
    return {"charts": charts, "tables": tables}


def _filters(request: Request) -> Filters:
    return parse_filters(dict(request.query_params))


def _export_name(kind: ReportKind, filters: Filters, ext: str) -> str:
    return f"{kind.name}-{filters.date_from.isoformat()}-{filters.date_to.isoformat()}.{ext}"


def _applied(kind: ReportKind, filters: Filters) -> Filters:
    return applied(kind.name, filters)


def _record(request: Request, kind: ReportKind, fmt: str, filters: Filters, who: Principal) -> None:
    with context(request).unit() as unit:
        record_export(unit, kind.name, fmt, filters, actor=who.username)


def _compute(request: Request, kind: ReportKind, filters: Filters) -> Report:
    with context(request).db.session() as session:
        return compute(session, kind.name, filters)


def _corridors(request: Request) -> list[str]:
    with context(request).db.session() as session:
        return list(session.scalars(select(CorridorRow.code).order_by(CorridorRow.code)))


@router.get("/reports", response_class=HTMLResponse)
@requires(*READERS)
def reports_index(request: Request, principal: CurrentPrincipal) -> Response:
    kinds = [k for k in REPORTS.values() if principal.has_any(k.roles)]
    return render(
        request, "reports.html", kinds=kinds, schedules=principal.has_any(frozenset(SCHEDULERS))
    )


def _page(kind: ReportKind) -> Callable[..., Response]:
    def page(request: Request) -> Response:
        filters = _filters(request)
        language = language_of(request)
        report = _compute(request, kind, filters)
        applied = _applied(kind, filters)
        query = "&".join(f"{k}={v}" for k, v in applied.as_dict().items())
        return render(
            request,
            "reports_report.html",
            kind=kind,
            filters=applied,
            query=query,
            corridors=_corridors(request) if "corridor" in kind.filters else [],
            **_view(report, language),
        )

    return page


def _csv(kind: ReportKind) -> Callable[..., Response]:
    def download(request: Request, principal: CurrentPrincipal) -> Response:
        filters = _filters(request)
        report = _compute(request, kind, filters)
        _record(request, kind, "csv", filters, principal)
        gettext = _gettext(language_of(request))

        def body() -> Iterator[bytes]:
            yield "\ufeff".encode()  # a BOM: Excel then reads the file as UTF-8
            for chunk in csv_chunks(report, gettext):
                yield chunk.encode()

        return StreamingResponse(
            body(),
            media_type="text/csv; charset=utf-8",
            headers=_attachment(_export_name(kind, filters, "csv")),
        )

    return download


def _xlsx(kind: ReportKind) -> Callable[..., Response]:
    def download(request: Request, principal: CurrentPrincipal) -> Response:
        filters = _filters(request)
        report = _compute(request, kind, filters)
        _record(request, kind, "xlsx", filters, principal)
        data = xlsx_bytes(
            report, _gettext(language_of(request)), filters=_applied(kind, filters).as_dict()
        )
        return Response(
            data,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=_attachment(_export_name(kind, filters, "xlsx")),
        )

    return download


def _pdf(kind: ReportKind) -> Callable[..., Response]:
    def download(request: Request, principal: CurrentPrincipal) -> Response:
        filters = _filters(request)
        language = language_of(request)
        report = _compute(request, kind, filters)
        _record(request, kind, "pdf", filters, principal)
        page = render(
            request,
            "reports_pdf.html",
            kind=kind,
            filters=_applied(kind, filters),
            generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            **_view(report, language),
        ).body
        return Response(
            pdf_bytes(bytes(page).decode()),
            media_type="application/pdf",
            headers=_attachment(_export_name(kind, filters, "pdf")),
        )

    return download


def _attachment(name: str) -> dict[str, str]:
    return {"content-disposition": f'attachment; filename="{name}"'}


# One set of routes per report, each admitting that report's roles (the policy is per route).
# The downloads come first: "/reports/transits.csv" is not the page of a report "transits.csv".
for _kind in REPORTS.values():
    for _suffix, _make in ((".csv", _csv), (".xlsx", _xlsx), (".pdf", _pdf), ("", _page)):
        _endpoint = _make(_kind)
        _endpoint.__name__ = f"report_{_kind.name}_{_suffix.lstrip('.') or 'page'}"
        router.get(
            f"/reports/{_kind.name}{_suffix}",
            response_class=HTMLResponse if not _suffix else Response,
        )(requires(*_kind.roles)(_endpoint))

# Included here, not in the app, so that the reports' pages stay one router; "/reports/schedules"
# is no report's name, so it never meets a report's routes.
router.include_router(schedules_router)
