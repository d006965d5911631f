"""The export formats on their own: the CSV guard against formula injection, CSV in chunks,
XLSX types, sheet names and labels, and the chart layout."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from smartcustoms.reports import Report, Table
from smartcustoms.reports.charts import lay_out
from smartcustoms.reports.exports import csv_chunks, guard_csv, xlsx_bytes
from smartcustoms.reports.model import Bar, Chart, Column

COLUMNS = (
    Column("name", "Name"),
    Column("lane", "Lane", labels={"red": "Red lane"}),
    Column("n", "Count", "count"),
    Column("share", "Share", "share"),
    Column("money", "Money", "money"),
)


def _report(rows: list[tuple[object, ...]]) -> Report:
    report = Report("demo", "Demo")
    report.tables.append(Table("t", "Table one", COLUMNS, rows))  # type: ignore[arg-type]
    report.tables.append(Table("u", "Table one", COLUMNS, rows[:1]))  # type: ignore[arg-type]
    return report


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_are_defused(text: str) -> None:
    assert guard_csv(text) == "'" + text


@pytest.mark.parametrize("text", ["", "plain", "a=b", "1-2", "'quoted", "é=1"])
def test_other_text_is_left_alone(text: str) -> None:
    assert guard_csv(text) == text


def test_csv_streams_in_chunks_and_reads_back() -> None:
    rows = [(f"=cmd{i}", "red", -i, 0.5, Decimal("-1.50")) for i in range(1200)]
    chunks = list(csv_chunks(_report(rows), str.upper, rows_per_chunk=500))
    assert len(chunks) >= 3  # written a few hundred rows at a time, not all at once
    parsed = list(csv.reader(io.StringIO("".join(chunks))))
    assert parsed[0] == ["TABLE ONE"] and parsed[1] == ["NAME", "LANE", "COUNT", "SHARE", "MONEY"]
    assert parsed[2] == ["'=cmd0", "RED LANE", "0", "0.5", "-1.50"]
    assert parsed[3][2] == "-1"  # a number stays a number: only text is guarded
    assert parsed[1202] == [] and parsed[1203] == ["TABLE ONE"]


def test_xlsx_types_labels_and_sheet_names() -> None:
    data = xlsx_bytes(
        _report([("=cmd", "red", 7, 0.25, Decimal("12.50")), ("x", None, None, None, None)]),
        lambda s: s,
        filters={"from": "2026-01-01", "office": "=EVIL"},
    )
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Demo", "Table one", "Table one 2"]
    about = book["Demo"]
    assert about["B2"].value == "=EVIL" and about["B2"].data_type == "s"
    sheet = book["Table one"]
    assert sheet.freeze_panes == "A2"
    first = [c.value for c in sheet[2]]
    assert first == ["=cmd", "Red lane", 7, 0.25, 12.5]
    assert sheet["A2"].data_type == "s" and sheet["C2"].data_type == "n"
    assert (sheet["D2"].number_format, sheet["E2"].number_format) == ("0.0%", "#,##0.00")
    assert [c.value for c in sheet[3]] == ["x", None, None, None, None]


def test_chart_bars_scale_to_the_largest() -> None:
    chart = Chart("c", "Title", "count", (Bar("red", 10), Bar("green", 5), Bar("<b>", 0)),
                  labels={"red": "Red"})  # fmt: skip
    box = lay_out(chart, translate=str.upper, fmt=lambda v: f"{v:g}")
    assert box.title == "TITLE"
    assert [b.label for b in box.bars] == ["RED", "green", "<b>"]  # data shown as is
    widths = [b.width for b in box.bars]
    assert widths[0] == 2 * widths[1] and widths[2] == 0.0 and widths[0] > 0
    assert [b.value for b in box.bars] == ["10", "5", "0"]
    empty = lay_out(Chart("e", "E", "count", ()), translate=str, fmt=str)
    assert empty.bars == [] and empty.height > 0
