"""The reports in a real browser: a supervisor opens the index, a report with its inline SVG
charts and tables, downloads its CSV, and reads it again in French — with no console error
(the charts are markup: no script, no inline style, nothing from the internet)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.intake import import_records
from smartcustoms.risk.assess import assess
from smartcustoms.web.i18n import translations
from tests.browser.conftest import Server, sign_in, watch_problems
from tests.declarations.helpers import declaration

pytestmark = pytest.mark.browser


def seed_server(ctx: AppContext) -> None:
    """Three declarations lodged and assessed today: the selectivity report has lanes."""
    with ctx.unit() as unit:
        records = [SourceRecord(str(n), data=declaration(lrn=f"REP-{n}")) for n in range(3)]
        report = import_records(unit.session, records, source="api", submitted_by="test")
        assess(ctx, unit, report.stored, actor="test")


@pytest.fixture
def supervisor(browser: Any, server: Server) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context(base_url=server.url, locale="en-GB", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = watch_problems(page)
    sign_in(page, Role.SUPERVISOR)
    yield page, problems
    context.close()


def test_report_page_in_english_and_french(supervisor: tuple[Any, list[str]]) -> None:
    page, problems = supervisor
    page.click("#main-nav >> text=Reports")
    page.wait_for_url("**/reports")
    assert page.get_by_test_id("report-list").locator("a").count() == 4
    page.click("[data-testid=report-list] >> text=Selectivity")
    page.wait_for_url("**/reports/selectivity")
    charts = page.locator("figure.report-chart svg")
    assert charts.count() >= 1
    assert charts.first.locator("rect").count() >= 1  # at least one lane drawn
    lanes = page.get_by_test_id("table-by_office_month_lane")
    assert lanes.locator("tbody tr").count() >= 1
    with page.expect_download() as download:
        page.click("[data-testid=report-downloads] >> text=CSV")
    assert download.value.suggested_filename.startswith("selectivity-")
    assert download.value.suggested_filename.endswith(".csv")

    page.click("button[lang=fr]")
    page.wait_for_load_state()
    fr = translations("fr").gettext
    assert page.locator("h1").inner_text() == fr("Selectivity")
    assert fr("Declarations per final lane") in page.locator("figcaption").first.text_content()
    header = page.get_by_test_id("table-by_office_month_lane").locator("thead").text_content()
    assert fr("Declarations (final lane)") in header and "Declarations (final" not in header
    # The filter form keeps the range and reloads the page.
    page.fill("input[name=from]", "2026-01-01")
    page.click(f"text={fr('Show')}")
    page.wait_for_url("**/reports/selectivity?from=2026-01-01*")
    assert page.locator("input[name=from]").input_value() == "2026-01-01"
    assert problems == []
