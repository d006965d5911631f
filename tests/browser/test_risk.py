"""The risk engine in a real browser: an officer works the queue, opens a declaration, reads
why it was selected and records the examination result; a rule goes live only after a second
person approves it."""

from __future__ import annotations

from typing import Any

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.users import create_user
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.intake import import_records
from smartcustoms.risk.assess import assess
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.rulebook import propose, review
from tests.browser.conftest import BROWSER_PASSWORD, username_for
from tests.browser.test_shell import log_in
from tests.declarations.helpers import declaration

pytestmark = pytest.mark.browser


def seed_server(ctx: AppContext) -> None:
    """A rule that sends solar inverters to the yellow lane, and two lodged declarations."""
    with ctx.unit() as unit:
        rule = propose(
            unit, name="inverters", expression='hs6 = "850440"', lane=Lane.YELLOW,
            reason="Inverters: check the conformity certificate",
            instructions="Compare the serial numbers with the certificate", actor="analyst-a",
        )  # fmt: skip
        review(unit, rule.id, approve=True, actor="supervisor-b")
        create_user(
            unit, username="dual", password=BROWSER_PASSWORD,
            roles=[Role.RISK_ANALYST, Role.SUPERVISOR], actor="test",
        )  # fmt: skip
    with ctx.unit() as unit:
        records = [SourceRecord("a", data=declaration(lrn="BRW-1"))]
        report = import_records(unit.session, records, source="api", submitted_by="test")
        assess(ctx, unit, report.stored, actor="test")


def test_officer_examines_a_selected_declaration(page: Any) -> None:
    log_in(page, username_for(Role.EXAMINING_OFFICER))
    page.wait_for_url("**/")
    page.click("#main-nav >> text=Declarations")
    queue = page.get_by_test_id("queue")
    assert "BRK001 / BRW-1" in queue.inner_text()
    page.click("text=BRK001 / BRW-1")
    reasons = page.get_by_test_id("reasons").inner_text()
    assert "Inverters: check the conformity certificate" in reasons
    assert "Compare the serial numbers" in reasons
    assert "Yellow" in page.get_by_test_id("lane").inner_text()
    page.check("input[name=outcome][value=irregular]")
    page.check("input[name=codes][value=undervaluation]")
    page.fill("input[name=revenue_raised]", "1250.50")
    page.click("text=Record the result")
    result = page.get_by_test_id("inspection").inner_text()
    assert "Irregular" in result
    assert "Revenue raised: 1250.50" in result
    page.goto("/declarations?lane=todo")
    assert "BRW-1" not in page.get_by_test_id("queue").inner_text()


def test_french_reasons(page: Any) -> None:
    log_in(page, username_for(Role.SUPERVISOR))
    page.wait_for_url("**/")
    page.click("button[lang=fr]")
    page.goto("/declarations?lane=all")
    page.click("text=BRK001 / BRW-1")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_test_id("reasons").count() == 1


def test_four_eyes_rule_approval(page: Any, browser: Any, server: Any) -> None:
    log_in(page, "dual")
    page.wait_for_url("**/")
    page.goto("/risk/rules")
    page.fill("input[name=name]", "tobacco")
    page.fill("input[name=expression]", 'hs6 startswith "2402" and origin in ("AE", "PA")')
    page.select_option("select[name=lane]", "red")
    page.fill("input[name=reason]", "Cigarettes from free zones")
    page.click("text=Submit for approval")
    row = page.locator('tr[data-rule="tobacco@1"]')
    assert "waiting for approval" in row.inner_text()
    assert row.locator("text=Approve").count() == 0  # not for one's own rule

    # A broken condition is refused with the column at fault, and the form keeps its text.
    page.fill("input[name=name]", "broken")
    page.fill("input[name=expression]", 'hs6 startswith "2402" and')
    page.fill("input[name=reason]", "x")
    page.click("text=Submit for approval")
    assert "column" in page.get_by_test_id("rule-error").inner_text()
    assert page.input_value("input[name=expression]") == 'hs6 startswith "2402" and'

    other = browser.new_context(base_url=server.url, locale="en-GB")
    supervisor = other.new_page()
    log_in(supervisor, username_for(Role.SUPERVISOR))
    supervisor.wait_for_url("**/")
    supervisor.goto("/risk/rules")
    supervisor.locator('tr[data-rule="tobacco@1"] >> text=Approve').click()
    assert "approved" in supervisor.locator('tr[data-rule="tobacco@1"]').inner_text()
    other.close()
    page.reload()
    assert "approved" in page.locator('tr[data-rule="tobacco@1"] [data-testid=status]').inner_text()
