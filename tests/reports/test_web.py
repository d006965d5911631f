"""The report pages, downloads and API over real HTTP: who may read which report, the figures
in CSV, XLSX (parsed back with openpyxl) and PDF (text read back with pypdf), a hostile rule
name escaped in every format, French, and every export in the ledger."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings
from smartcustoms.declarations.formats.kcs import read_kcs
from smartcustoms.ledger.service import ledger_of
from smartcustoms.reports import REPORTS
from smartcustoms.risk.inspections import record_inspection
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.lodging import lodge
from smartcustoms.risk.rulebook import propose, review
from smartcustoms.risk.tables import LaneDecisionRow
from tests.conftest import add_user, login
from tests.risk.history import kcs_slice

from .builders import frozen, utc

HOSTILE = '=HYPERLINK("http://x.invalid","<script>alert(1)</script>")'
JANUARY = "from=2026-01-01&to=2026-01-31"


@pytest.fixture
def data(settings: Settings, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Twelve declarations lodged in January 2026; a rule with a hostile name sends the timber
    one yellow, and its examination raised 50.50."""
    rctx = AppContext.from_settings(
        settings.model_copy(
            update={"risk_random_control_share": 0.0, "risk_exploration_share": 0.0}
        )
    )
    try:
        with frozen(utc(2026, 1, 1)):
            with rctx.unit() as unit:
                version = propose(
                    unit, name=HOSTILE, expression='hs2 = "44"', lane=Lane.YELLOW,
                    reason="Timber", actor="ana",
                ).id  # fmt: skip
            with rctx.unit() as unit:
                review(unit, version, approve=True, actor="sam")
        with frozen(utc(2026, 1, 15)), rctx.unit() as unit:
            records = list(read_kcs(kcs_slice(tmp_path, 0, 12, labels=False)))
            lodge(rctx, unit, records, source="api", submitted_by="t", actor="t")
        with rctx.db.session() as session:
            wood = session.query(LaneDecisionRow).filter_by(lane="yellow").one().declaration_id
        with frozen(utc(2026, 1, 16)), rctx.unit() as unit:
            record_inspection(
                unit, wood, irregular=True, codes=["undervaluation"], actor="olive",
                revenue_raised=Decimal("50.50"),
            )  # fmt: skip
        yield {"wood": wood}
    finally:
        rctx.close()


def _as(client: TestClient, ctx: AppContext, role: Role) -> None:
    name = f"u_{role.value}"
    add_user(ctx, name, role)
    login(client, name)


def test_pages_downloads_and_hostile_text(
    client: TestClient, ctx: AppContext, data: dict[str, Any]
) -> None:
    _as(client, ctx, Role.SUPERVISOR)
    index = client.get("/reports")
    assert index.status_code == 200
    for name in REPORTS:
        assert f'href="/reports/{name}"' in index.text
    page = client.get(f"/reports/selectivity?{JANUARY}")
    assert page.status_code == 200, page.text
    assert "<svg" in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    assert f'href="/reports/selectivity.csv?{JANUARY}"'.replace("&", "&amp;") in page.text

    # CSV: streamed, UTF-8 with a BOM, the hostile name defused, the figures as computed.
    got = client.get(f"/reports/selectivity.csv?{JANUARY}")
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert "attachment" in got.headers["content-disposition"]
    text = got.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    rule = next(r for r in rows if len(r) > 1 and r[1].endswith("@1"))
    assert rule[0] == "Rule" and rule[1] == "'" + HOSTILE + "@1"
    assert rule[2:5] == ["1", "1", "1"] and rule[6] == "50.50"
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)

    # XLSX: typed cells, a bold header row, frozen panes, the hostile text kept as text.
    got = client.get(f"/reports/selectivity.xlsx?{JANUARY}")
    assert got.status_code == 200
    book = load_workbook(io.BytesIO(got.content))
    sheet = book.worksheets[2]
    assert sheet.title == "Hit rates per rule and model"
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["Rule or model", "Name", "Declarations"] and sheet["A1"].font.b
    cells = {r[1].value: r for r in sheet.iter_rows(min_row=2)}
    hostile = cells[HOSTILE + "@1"]
    assert hostile[1].data_type == "s"  # a string, never a formula
    assert (hostile[2].value, hostile[4].value, hostile[5].value) == (1, 1, 1)
    assert hostile[6].value == 50.5 and hostile[5].number_format == "0.0%"
    lanes = book.worksheets[1]
    assert lanes.title == "Lanes and hit rates per office "[:31]
    total = sum(r[3].value for r in lanes.iter_rows(min_row=2))
    assert total == 12 and isinstance(total, int)

    # PDF: a real PDF whose text has the figures and the hostile name as plain text.
    got = client.get(f"/reports/selectivity.pdf?{JANUARY}")
    assert got.status_code == 200 and got.content.startswith(b"%PDF-")
    assert got.headers["content-type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(got.content))
    words = "".join(p.extract_text() for p in pdf.pages)
    assert "Selectivity" in words and "50.50" in words
    assert "alert(1)" in words and "2026-01-01" in words

    # JSON: codes and data as they are.
    api = client.get(f"/api/reports/selectivity?{JANUARY}")
    assert api.status_code == 200
    body = api.json()
    assert body["filters"] == {"from": "2026-01-01", "to": "2026-01-31"}
    groups = body["tables"][1]["rows"]
    assert {"kind": "rule", "name": HOSTILE + "@1"}.items() <= groups[-1].items() or any(
        g["name"] == HOSTILE + "@1" and g["revenue"] == "50.50" for g in groups
    )

    # Every download and API read is in the ledger: who, what, how, with which filters.
    ledger = ledger_of(ctx)
    ledger.flush()
    exports = [
        r
        for r in (ledger.record(i) for i in range(ledger.size()))
        if r["type"] == "reports.exported"
    ]
    assert [(r["format"], r["report"], r["actor"]) for r in exports] == [
        (f, "selectivity", "u_supervisor") for f in ("csv", "xlsx", "pdf", "json")
    ]
    assert all(
        (r["date_from"], r["date_to"], r["office"], r["corridor"])
        == ("2026-01-01", "2026-01-31", None, None)
        for r in exports
    )


def test_french_page_and_exports(client: TestClient, ctx: AppContext, data: dict[str, Any]) -> None:
    _as(client, ctx, Role.AUDITOR)
    client.cookies.set("sc_lang", "fr")
    page = client.get(f"/reports/selectivity?{JANUARY}")
    assert page.status_code == 200
    assert "Sélectivité" in page.text and "Circuit" in page.text and "Rapports" in page.text
    assert "50,50" in page.text  # French decimal comma
    text = client.get(f"/reports/selectivity.csv?{JANUARY}").content.decode("utf-8")
    assert "Règle" in text
    book = load_workbook(io.BytesIO(client.get(f"/reports/selectivity.xlsx?{JANUARY}").content))
    assert "Sélectivité" in book.sheetnames


REFUSED = (
    Role.DECLARANT,
    Role.PARTNER_ADMINISTRATION,
    Role.EXAMINING_OFFICER,
    Role.COMMAND_CENTRE_OPERATOR,
    Role.IMAGE_ANALYST,
)


@pytest.mark.parametrize("role", REFUSED)
def test_roles_without_reports_are_refused(client: TestClient, ctx: AppContext, role: Role) -> None:
    _as(client, ctx, role)
    assert client.get("/reports").status_code == 403
    for name in REPORTS:
        for path in (f"/reports/{name}", f"/reports/{name}.csv", f"/reports/{name}.xlsx",
                     f"/reports/{name}.pdf", f"/api/reports/{name}"):  # fmt: skip
            assert client.get(path).status_code == 403, path
    assert 'href="/reports"' not in client.get("/").text


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.RISK_ANALYST, {"selectivity", "scans"}),
        (Role.ADMINISTRATOR, {"transits", "alerts"}),
        (Role.AUDITOR, set(REPORTS)),
        (Role.SUPERVISOR, set(REPORTS)),
    ],
)
def test_each_report_admits_its_roles(
    client: TestClient, ctx: AppContext, role: Role, allowed: set[str]
) -> None:
    _as(client, ctx, role)
    index = client.get("/reports")
    assert index.status_code == 200
    for name in REPORTS:
        expected = 200 if name in allowed else 403
        assert client.get(f"/reports/{name}").status_code == expected, name
        assert client.get(f"/api/reports/{name}").status_code == expected, name
        assert (f'href="/reports/{name}"' in index.text) == (name in allowed)


def test_bad_filters_name_the_field(client: TestClient, ctx: AppContext) -> None:
    _as(client, ctx, Role.SUPERVISOR)
    for query, field in (
        ("from=2026-13-01", "from"),
        ("to=yesterday", "to"),
        ("from=2026-02-01&to=2026-01-01", "from"),
        ("from=1990-01-01&to=2026-01-01", "from"),
        ("office=%3Cb%3E", "office"),
        ("corridor=a%20b", "corridor"),
    ):
        got = client.get(f"/api/reports/transits?{query}")
        assert got.status_code == 422, query
        assert got.json()["error"]["details"][0]["field"] == field
        assert client.get(f"/reports/transits.csv?{query}").status_code == 422
