"""The review station in a real browser: an image analyst opens a flagged scan, sees the
machine's region and the declaration, adjusts the window, zooms, marks a region and sends the
container to physical examination; an examining officer then records what was found. No
console errors on the way (the CSP holds: no inline script, no inline style)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.storage import store_for
from tests.browser.conftest import Server, sign_in, watch_problems
from tests.scans.stored import CLEAN, FLAGGED, case, declaration_for, lodge, write

pytestmark = pytest.mark.browser


def seed_server(ctx: AppContext) -> None:
    """A clear scan received first, then a flagged one."""
    folder = ctx.settings.data_dir / "incoming"
    for scenario, name in ((CLEAN, "clean"), (FLAGGED, "flagged")):
        item = case(scenario)
        (declaration_id,) = lodge(ctx, declaration_for(item))
        path: Path = write(item, folder, name)
        with ctx.unit() as unit:
            receive_scan(
                unit, store_for(ctx.settings),
                Upload(path.read_bytes(), path.name, declaration_id), actor="scanner", source="api",
            )  # fmt: skip


@pytest.fixture
def open_page(browser: Any, server: Server) -> Iterator[Any]:
    """Opens a logged-in page for a role and collects its console errors and failed requests."""
    contexts: list[Any] = []

    def opener(role: Role) -> tuple[Any, list[str]]:
        context = browser.new_context(base_url=server.url, locale="en-GB")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        problems = watch_problems(page)
        sign_in(page, role)
        return page, problems

    yield opener
    for context in contexts:
        context.close()


def canvas_image(page: Any) -> str:
    return str(page.evaluate("document.querySelector('.scan-canvas').toDataURL()"))


def test_analyst_sends_a_flagged_scan_to_examination_and_the_result_is_recorded(
    open_page: Any,
) -> None:
    flagged = case(FLAGGED)
    page, problems = open_page(Role.IMAGE_ANALYST)
    page.click("#main-nav >> text=Scans")
    page.wait_for_url("**/scans")
    first = page.locator("[data-testid=scan-queue] tbody tr").first
    assert "Alarm" in first.inner_text() and flagged.container in first.inner_text()
    first.locator("a").click()

    viewer = page.locator("[data-scan-viewer]")
    page.wait_for_selector("[data-scan-viewer][data-ready=true]")
    assert viewer.get_attribute("data-machine-regions") == "1"
    findings = page.get_by_test_id("machine-findings").inner_text()
    assert "Unlike the declared goods" in findings
    declared = page.get_by_test_id("declaration").inner_text()
    assert flagged.hs_code in declared and flagged.container in declared
    assert f"{flagged.goods_gross_kg:,.0f} kg" in page.get_by_test_id("declared-mass").inner_text()

    # Windowing redraws the image at once.
    before = canvas_image(page)
    page.locator("[data-control=high]").fill("2")
    assert viewer.get_attribute("data-window-high") == "2.00"
    windowed = canvas_image(page)
    assert windowed != before
    page.select_option("[data-control=colour]", "grey")
    assert canvas_image(page) != windowed
    page.click("[data-action=zoom-in]")
    assert float(viewer.get_attribute("data-zoom")) > 0

    # Mark the region the machine found: drag a box over it in marking mode.
    page.click("[data-action=fit]")
    page.click("[data-testid=mark-mode]")
    assert page.get_attribute("[data-testid=mark-mode]", "aria-pressed") == "true"
    box = page.locator(".scan-canvas").bounding_box()
    x, y = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.4
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y + 40, steps=5)
    page.mouse.up()
    assert viewer.get_attribute("data-marks") == "1"
    marks = page.get_by_test_id("marks")
    assert "Region 1" in marks.inner_text()
    marks.locator("[data-mark-label]").fill("dense block among cartons")

    page.check("input[name=decision][value=physical_examination]")
    page.fill("[data-testid=review-form] textarea[name=note]", "Open the doors, check the middle")
    page.get_by_role("button", name="Record the decision").click()
    page.wait_for_selector("[data-testid=scan-saved]")
    assert page.get_by_test_id("scan-status").inner_text() == "Awaiting examination"
    decisions = page.get_by_test_id("reviews").inner_text()
    assert "Physical examination" in decisions and "1 region marked" in decisions
    assert "dense block among cartons" in decisions
    assert problems == []

    officer, officer_problems = open_page(Role.EXAMINING_OFFICER)
    officer.goto("/scans?queue=examination")
    officer.locator("[data-testid=scan-queue] tbody tr a").first.click()
    officer.wait_for_selector("[data-scan-viewer][data-ready=true]")
    officer.check("input[name=outcome][value=irregular]")
    officer.check("input[name=codes][value=concealment]")
    officer.fill("input[name=found_kg]", "205")
    officer.get_by_role("button", name="Record the result").click()
    officer.wait_for_selector("[data-testid=scan-saved]")
    result = officer.get_by_test_id("examination").inner_text()
    assert "Irregular" in result and "Concealed goods" in result and "Found: 205 kg" in result
    assert officer.get_by_test_id("scan-status").inner_text() == "Examined"
    assert officer_problems == []
