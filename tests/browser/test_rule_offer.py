"""A targeting rule offered to a partner from the rules page, in a real browser on both sides:
two real instances (Kenya and Uganda, see ``tests/federation/instances.py``). Kenya's risk
analyst offers an approved rule to Uganda on the rules page; it arrives at Uganda as a draft
written by Kenya, waiting for approval; Uganda's supervisor approves it on its own rules page,
and Kenya's rules page then says the rule was adopted. No console errors, no failed answers,
on either side."""

from __future__ import annotations

from typing import Any

import pytest

from smartcustoms.core.roles import Role
from smartcustoms.federation.exchange_tables import RuleReceivedRow
from smartcustoms.risk import rulebook
from smartcustoms.risk.lanes import Lane
from tests.browser.test_handover import _officer, _reload_until
from tests.federation.instances import Instance
from tests.federation.test_handover import KE, UG
from tests.federation.test_handover import pair as pair  # the two instances
from tests.waiting import wait_for

pytestmark = pytest.mark.browser

RULE = "undervalued-cigarettes"


def _approved_rule(ke: Instance) -> None:
    """A rule written by one analyst and approved by a supervisor at Kenya."""
    with ke.ctx.unit() as unit:
        version = rulebook.propose(
            unit, name=RULE, expression='hs4 == "2402"', lane=Lane.YELLOW,
            reason="Undervalued at the border", actor="ke-writer",
        )  # fmt: skip
    with ke.ctx.unit() as unit:
        rulebook.review(unit, version.id, approve=True, actor="ke-chief")


def _arrived(ug: Instance) -> bool:
    with ug.ctx.db.session() as session:
        return session.query(RuleReceivedRow).count() == 1


@pytest.mark.parametrize("pair", ["sqlite"], indirect=True)
def test_a_rule_offered_on_the_page_arrives_as_a_draft_and_its_adoption_comes_back(
    browser: Any, pair: tuple[Instance, Instance]
) -> None:
    ke, ug = pair
    _approved_rule(ke)
    analyst = _officer(browser, ke, "ke-analyst", Role.RISK_ANALYST)
    chief = _officer(browser, ug, "ug-chief", Role.SUPERVISOR)
    try:
        # Kenya's analyst offers the rule to Uganda from the rules page.
        page = analyst.page
        page.goto("/risk/rules")
        row = page.locator(f"tr[data-rule='{RULE}@1']")
        form = row.locator("[data-testid=offer-form]")
        assert form.locator("option").all_inner_texts() == [UG]
        form.locator("select[name=partner]").select_option(UG)
        form.locator("button[type=submit]").click()
        page.wait_for_url("**/risk/rules#rule-*")
        offered = row.locator("[data-testid=rule-offers]")
        assert f"Offered to {UG}" in offered.inner_text()
        assert offered.locator("[data-testid=offer-state]").inner_text() == (
            "waiting for the partner"
        )

        # At Uganda: a draft written by Kenya, waiting for approval by its own supervisor.
        wait_for(lambda: _arrived(ug), 30, message="the offer never reached Uganda")
        page = chief.page
        page.goto("/risk/rules")
        proposal = page.locator(f"tr[data-rule='KE:{RULE}@1']")
        assert proposal.locator("[data-testid=status]").inner_text() == "waiting for approval"
        assert f"partner:{KE}" in proposal.inner_text()
        proposal.locator("button[value=approve]").click()
        page.locator(f"tr[data-rule='KE:{RULE}@1'] [data-testid=status]").filter(
            has_text="approved"
        ).wait_for()

        # Kenya's rules page says Uganda adopted it.
        _reload_until(
            analyst.page, f"tr[data-rule='{RULE}@1'] [data-testid=offer-state]", "adopted"
        )
        assert analyst.problems == []
        assert chief.problems == []
    finally:
        analyst.page.context.close()
        chief.page.context.close()
