"""Scans per month (of receipt): time to the image analyst's review, the analysts' decisions and
what the physical examinations found. Summed in SQL, one row per month."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, case, cast, func, select, true
from sqlalchemy.orm import Session

from smartcustoms.core.i18n import N_
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.reports.filters import Filters
from smartcustoms.reports.model import Bar, Chart, Column, Report, Table, share
from smartcustoms.reports.sql import month_of, seconds_between
from smartcustoms.scans.reviews import FINDING_CODES
from smartcustoms.scans.tables import ExaminationRow, ReviewRow, ScanRow

__all__ = ["scans_report"]

FINDINGS = {**FINDING_CODES, "as_declared": N_("Found as declared")}
BY_MONTH = (
    Column("month", N_("Month")),
    Column("received", N_("Scans received"), "count"),
    Column("reviewed", N_("Reviewed"), "count"),
    Column("to_review_min", N_("Average time to review (minutes)"), "decimal"),
    Column("seconds_open", N_("Average time on the image (seconds)"), "decimal"),
    Column("clear", N_("Decided clear"), "count"),
    Column("suspect", N_("Decided suspect"), "count"),
    Column("physical_examination", N_("Sent to physical examination"), "count"),
    Column("examined", N_("Examined"), "count"),
    Column("irregular", N_("Irregular"), "count"),
    Column("hit_rate", N_("Hit rate"), "share"),
)
OUTCOMES = (
    Column("finding", N_("Examination finding"), labels=FINDINGS),
    Column("scans", N_("Scans"), "count"),
)


def scans_report(session: Session, filters: Filters) -> Report:
    dialect = session.get_bind().dialect.name
    first = (
        select(
            ReviewRow.scan_id.label("scan_id"),
            func.min(ReviewRow.id).label("review_id"),
        )
        .where(ReviewRow.kind == "review")
        .group_by(ReviewRow.scan_id)
        .subquery()
    )
    review = ReviewRow
    where: list[Any] = [ScanRow.received_at >= filters.start, ScanRow.received_at < filters.end]
    if filters.office:
        where.append(DeclarationRow.office == filters.office)
    month = month_of(ScanRow.received_at, dialect)

    def decided(value: str) -> Any:
        return func.sum(case((review.decision == value, 1), else_=0))

    query = (
        select(
            month,
            func.count(ScanRow.id),
            func.count(review.id),
            func.sum(seconds_between(ScanRow.received_at, review.reviewed_at, dialect)),
            func.sum(review.seconds_open),
            func.count(review.seconds_open),
            decided("clear"),
            decided("suspect"),
            decided("physical_examination"),
            func.count(ExaminationRow.id),
            func.sum(cast(ExaminationRow.irregular, Integer)),
        )
        .select_from(ScanRow)
        .join(DeclarationRow, DeclarationRow.id == ScanRow.declaration_id)
        .outerjoin(first, first.c.scan_id == ScanRow.id)
        .outerjoin(review, review.id == first.c.review_id)
        .outerjoin(ExaminationRow, ExaminationRow.scan_id == ScanRow.id)
        .where(*where)
        .group_by(month)
        .order_by(month)
    )
    rows = []
    received_per_month = []
    for (
        m,
        n,
        reviewed,
        wait_s,
        open_s,
        timed,
        clear,
        suspect,
        exam,
        examined,
        irregular,
    ) in session.execute(query):
        reviewed, examined, irregular = int(reviewed), int(examined), int(irregular or 0)
        rows.append(
            (
                m, int(n), reviewed,
                _per(wait_s, reviewed * 60),
                _per(open_s, int(timed)),
                int(clear or 0), int(suspect or 0), int(exam or 0), examined, irregular,
                share(irregular, examined),
            )
        )  # fmt: skip
        received_per_month.append(Bar(m, int(n)))
    code = _elements(dialect)
    findings = (
        select(code.c.value, func.count())
        .select_from(ScanRow)
        .join(DeclarationRow, DeclarationRow.id == ScanRow.declaration_id)
        .join(ExaminationRow, ExaminationRow.scan_id == ScanRow.id)
        .join(code, true())
        .where(*where)
        .group_by(code.c.value)
        .order_by(code.c.value)
    )
    outcome_rows: list[tuple[Any, ...]] = [(str(c), int(n)) for c, n in session.execute(findings)]
    as_declared = session.scalar(
        select(func.count())
        .select_from(ScanRow)
        .join(DeclarationRow, DeclarationRow.id == ScanRow.declaration_id)
        .join(ExaminationRow, ExaminationRow.scan_id == ScanRow.id)
        .where(*where, ExaminationRow.irregular.is_(False))
    )
    outcome_rows.insert(0, ("as_declared", int(as_declared or 0)))
    report = Report("scans", N_("Scans"))
    report.tables.append(Table("by_month", N_("Scans per month"), BY_MONTH, rows))
    report.tables.append(Table("findings", N_("Examination findings"), OUTCOMES, outcome_rows))
    report.charts.append(
        Chart("received", N_("Scans received per month"), "count", tuple(received_per_month))
    )
    report.charts.append(
        Chart(
            "findings",
            N_("Examination findings"),
            "count",
            tuple(Bar(str(c), float(n)) for c, n in outcome_rows),
            FINDINGS,
        )
    )
    return report


def _per(total: object, n: int) -> float | None:
    return round(float(total) / n, 1) if n and isinstance(total, int | float) else None


def _elements(dialect: str) -> Any:
    """The codes an examination found, one row each (a JSON array's elements, as text)."""
    if dialect == "sqlite":
        return func.json_each(ExaminationRow.codes).table_valued("value").alias("code")
    return (
        func.jsonb_array_elements_text(ExaminationRow.codes).table_valued("value").lateral("code")
    )
