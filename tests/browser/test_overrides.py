"""A lane override in a real browser: an examining officer proposes to move a green declaration
to red with a reason, a supervisor approves it from the queue, and the declaration shows red
with the engine's original green and the history of the change."""

from __future__ import annotations

from typing import Any

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.intake import import_records
from smartcustoms.risk.assess import assess
from tests.browser.conftest import username_for
from tests.browser.test_shell import log_in
from tests.declarations.helpers import declaration

pytestmark = pytest.mark.browser

LRN = "OVR-1"
REASON = "Tip-off: <b>undeclared</b> goods"


def seed_server(ctx: AppContext) -> None:
    """One lodged declaration; with no model and no rule it is green unless random control
    picks it (1 %), which the test tolerates by reading the lane it got."""
    with ctx.unit() as unit:
        records = [SourceRecord("a", data=declaration(lrn=LRN))]
        report = import_records(unit.session, records, source="api", submitted_by="test")
        assess(ctx, unit, report.stored, actor="test")


def test_officer_proposes_supervisor_approves(page: Any, browser: Any, server: Any) -> None:
    log_in(page, username_for(Role.EXAMINING_OFFICER))
    page.wait_for_url("**/")
    page.goto("/declarations?lane=all")
    page.click(f"text=BRK001 / {LRN}")
    declaration_url = page.url
    before = page.get_by_test_id("final-lane").get_attribute("data-lane")
    target = "yellow" if before == "red" else "red"

    form = page.get_by_test_id("override-form")
    form.locator("select[name=lane]").select_option(target)
    form.locator("textarea[name=reason]").fill(REASON)
    form.locator("text=Submit for approval").click()
    page.wait_for_load_state()
    history = page.get_by_test_id("override-history")
    assert REASON in history.inner_text()  # shown as text, not markup
    assert "waiting for a supervisor" in history.inner_text()
    assert page.get_by_test_id("final-lane").get_attribute("data-lane") == before
    assert page.get_by_test_id("override-form").count() == 0

    other = browser.new_context(base_url=server.url, locale="en-GB")
    supervisor = other.new_page()
    supervisor.set_default_timeout(10_000)
    log_in(supervisor, username_for(Role.SUPERVISOR))
    supervisor.wait_for_url("**/")
    supervisor.click("#main-nav >> text=Lane overrides")
    queue = supervisor.get_by_test_id("pending-overrides")
    assert LRN in queue.inner_text() and REASON in queue.inner_text()
    queue.locator("input[name=note]").fill("agreed")
    queue.locator("text=Approve").click()
    supervisor.wait_for_load_state()
    assert (
        "No lane change is waiting." in supervisor.get_by_test_id("pending-overrides").inner_text()
    )
    other.close()

    page.goto(declaration_url)
    assert page.get_by_test_id("final-lane").get_attribute("data-lane") == target
    assert page.get_by_test_id("original-lane").count() == 1  # the engine decided otherwise
    history = page.get_by_test_id("override-history").inner_text()
    assert "approved" in history and "supervisor" in history and "agreed" in history
