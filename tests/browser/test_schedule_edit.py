"""Editing a report e-mail in a real browser: a supervisor opens a schedule's form from its
row (filled with what it holds), is refused an address (the field named, what was typed
kept), changes its period and recipients, and finds the row changed; the form reads in
Arabic, right to left. No console error, nothing refused but the form sent wrong on purpose."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.reports import REPORTS
from smartcustoms.reports.schedules import ScheduleInput, create_schedule
from smartcustoms.web.i18n import LANGUAGES, translations
from tests.browser.conftest import Server, sign_in, watch_problems

pytestmark = pytest.mark.browser


def seed_server(ctx: AppContext) -> None:
    """One weekly alerts e-mail to one recipient."""
    with ctx.unit() as unit:
        create_schedule(
            unit,
            ScheduleInput(
                report="alerts", format="pdf", period="weekly", recipients=["one@customs.example"]
            ),
            actor="supervisor",
            reports=list(REPORTS),
            languages=list(LANGUAGES),
            zone=ZoneInfo(ctx.settings.time_zone),
        )


@pytest.fixture
def supervisor(browser: Any, server: Server) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context(base_url=server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = watch_problems(page, documents=False)  # the refused form answers 422
    sign_in(page, Role.SUPERVISOR)
    yield page, problems
    context.close()


def test_edit_a_schedule_refused_then_changed_and_in_arabic(
    supervisor: tuple[Any, list[str]],
) -> None:
    page, problems = supervisor
    page.goto("/reports/schedules")
    row = page.get_by_test_id("schedules").locator("tbody tr")
    assert row.count() == 1 and "Weekly, on Monday" in row.inner_text()
    row.get_by_test_id("edit-link").click()
    page.wait_for_url("**/reports/schedules?edit=*")
    form = page.get_by_test_id("edit-form")
    assert form.is_visible()
    assert form.locator("select[name=report]").input_value() == "alerts"
    assert form.locator("select[name=period]").input_value() == "weekly"
    assert form.locator("textarea[name=recipients]").input_value() == "one@customs.example"

    form.locator("select[name=period]").select_option("monthly")
    form.locator("select[name=format]").select_option("csv")
    form.locator("textarea[name=recipients]").fill("one@customs.example\ntwo at customs")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    error = page.get_by_test_id("edit-section").get_by_test_id("form-error")
    assert error.get_attribute("data-field") == "recipients"
    assert "two at customs" in error.inner_text()
    form = page.get_by_test_id("edit-form")
    assert form.locator("textarea[name=recipients]").get_attribute("aria-invalid") == "true"
    assert form.locator("select[name=period]").input_value() == "monthly"  # kept
    assert form.locator("select[name=format]").input_value() == "csv"
    # Nothing changed meanwhile.
    assert "Weekly, on Monday" in page.get_by_test_id("schedules").inner_text()

    form.locator("textarea[name=recipients]").fill("one@customs.example\ntwo@customs.example")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/reports/schedules?done=updated")
    assert page.get_by_test_id("done").is_visible()
    assert page.get_by_test_id("edit-form").count() == 0
    row = page.get_by_test_id("schedules").locator("tbody tr")
    shown = row.inner_text()
    assert "Monthly, on the 1st" in shown and "CSV" in shown
    assert "two@customs.example" in shown

    page.click("button[lang=ar]")
    page.wait_for_load_state()
    ar = translations("ar").gettext
    assert page.locator("html").get_attribute("dir") == "rtl"
    row.get_by_test_id("edit-link").click()
    page.wait_for_url("**/reports/schedules?edit=*")
    section = page.get_by_test_id("edit-section")
    assert section.locator("h2").inner_text() == ar("Change the report e-mail")
    words = section.inner_text()
    for english in ("Change the report e-mail", "Save the changes", "Period", "Recipients"):
        assert english not in words, english
    assert ar("Save the changes") in words
    assert section.locator("select[name=period]").input_value() == "monthly"
    assert problems == []
