"""A report as CSV (streamed, safe to open in a spreadsheet), XLSX (typed cells, a header row,
frozen panes; openpyxl) and PDF (WeasyPrint, from the HTML a page template renders).

Text from the data (a rule's name, a corridor's code …) may be hostile. CSV: a cell a
spreadsheet would read as a formula (starting with ``= + - @``, a tab or a carriage return)
is prefixed with ``'`` (OWASP's advice for CSV injection). XLSX: text cells are typed as
strings, so ``=…`` is never stored as a formula. PDF: the HTML is rendered with autoescaping,
and WeasyPrint is given a fetcher that loads nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from smartcustoms.reports.model import Column, Report, Table, Value

__all__ = ["csv_chunks", "guard_csv", "pdf_bytes", "table_cells", "xlsx_bytes"]

Translate = Callable[[str], str]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def guard_csv(text: str) -> str:
    """``text`` as a spreadsheet will not execute it."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _shown(column: Column, value: Value, translate: Translate) -> Value:
    label = column.label_of(value)
    return translate(label) if label is not None else value


def _csv_cell(column: Column, value: Value, translate: Translate) -> str:
    shown = _shown(column, value, translate)
    if shown is None:
        return ""
    if isinstance(shown, str):
        return guard_csv(shown)
    return str(shown)  # numbers: dot decimals, as every spreadsheet imports them


def csv_chunks(report: Report, translate: Translate, *, rows_per_chunk: int = 500) -> Iterator[str]:
    """The report's tables, one after the other (a title line, the header, the rows, a blank
    line), a few hundred rows at a time, for a streamed answer."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    for n, table in enumerate(report.tables):
        if n:
            writer.writerow([])
        writer.writerow([guard_csv(translate(table.title))])
        writer.writerow([guard_csv(translate(c.label)) for c in table.columns])
        for i, row in enumerate(table.rows, 1):
            writer.writerow(
                [_csv_cell(c, v, translate) for c, v in zip(table.columns, row, strict=True)]
            )
            if i % rows_per_chunk == 0:
                yield flush()
        yield flush()


_NUMBER_FORMATS = {"share": "0.0%", "money": "#,##0.00", "decimal": "0.0#", "count": "0"}
_SHEET_BAD = re.compile(r"[\[\]:*?/\\']")


def _sheet_name(title: str, used: set[str]) -> str:
    name = _SHEET_BAD.sub(" ", title).strip()[:31] or "Sheet"  # Excel: 31 characters at most
    candidate, n = name, 2
    while candidate.lower() in used:
        candidate, n = f"{name[:28]} {n}", n + 1
    used.add(candidate.lower())
    return candidate


def _xlsx_cell(sheet: Any, column: Column, value: Value, translate: Translate) -> WriteOnlyCell:
    shown = _shown(column, value, translate)
    if isinstance(shown, Decimal):
        shown = float(shown)  # Excel holds doubles; money is rounded to cents already
    cell = WriteOnlyCell(sheet, shown)
    if isinstance(shown, str):
        cell.data_type = "s"  # never a formula, whatever the text starts with
    elif shown is not None and column.kind in _NUMBER_FORMATS:
        cell.number_format = _NUMBER_FORMATS[column.kind]
    return cell


def xlsx_bytes(report: Report, translate: Translate, *, filters: dict[str, str]) -> bytes:
    """One sheet per table, plus a first sheet naming the report and its filters. Written in
    openpyxl's write-only mode (rows go to a temporary file, not a tree in memory)."""
    book = Workbook(write_only=True)
    used: set[str] = set()
    about = book.create_sheet(_sheet_name(translate(report.title), used))
    for key, value in filters.items():
        name = WriteOnlyCell(about, key)
        text = WriteOnlyCell(about, value)
        text.data_type = "s"
        about.append([name, text])
    bold = Font(bold=True)
    for table in report.tables:
        sheet = book.create_sheet(_sheet_name(translate(table.title), used))
        sheet.freeze_panes = "A2"
        header = []
        for column in table.columns:
            cell = WriteOnlyCell(sheet, translate(column.label))
            cell.data_type = "s"
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in table.rows:
            sheet.append(
                [
                    _xlsx_cell(sheet, c, v, translate)
                    for c, v in zip(table.columns, row, strict=True)
                ]
            )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"reports load nothing from outside: {url[:80]}")


def pdf_bytes(html: str) -> bytes:
    """The PDF of a rendered report page (WeasyPrint; charts are inline SVG, which it draws)."""
    from weasyprint import HTML  # loads pango: only when a PDF is asked for

    document: bytes = HTML(string=html, url_fetcher=_no_fetch).write_pdf()
    return document


def table_cells(table: Table, fmt: Callable[[Column, Value], str]) -> list[list[str]]:
    """The table's rows as display text (the page and the PDF)."""
    return [[fmt(c, v) for c, v in zip(table.columns, row, strict=True)] for row in table.rows]
