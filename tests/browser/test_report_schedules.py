"""The report e-mails page in a real browser: a supervisor goes from the reports index to it,
is refused an address (the field named, what was typed kept), schedules a monthly report,
pauses it, reads the page in Arabic (right to left, translated) and resumes and removes it —
with no console error and nothing refused but the one form sent wrong on purpose."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from smartcustoms.core.roles import Role
from smartcustoms.web.i18n import translations
from tests.browser.conftest import Server, sign_in, watch_problems

pytestmark = pytest.mark.browser

ENGLISH = [
    "Report", "Filters", "Recipients", "Last sent", "Next due", "State", "Resume", "Remove",
    "Not sent yet", "None while paused", "Schedule a report e-mail", "Language of the e-mail",
    "Monthly, on the 1st", "every corridor",
]  # fmt: skip


@pytest.fixture
def supervisor(browser: Any, server: Server) -> Iterator[tuple[Any, list[str]]]:
    context = browser.new_context(base_url=server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = watch_problems(page, documents=False)  # the refused form answers 422
    sign_in(page, Role.SUPERVISOR)
    yield page, problems
    context.close()


def test_schedule_pause_in_arabic_resume_and_remove(supervisor: tuple[Any, list[str]]) -> None:
    page, problems = supervisor
    page.goto("/reports")
    page.click("[data-testid=report-schedules-link] a")
    page.wait_for_url("**/reports/schedules")
    assert page.get_by_test_id("no-schedules").is_visible()

    form = page.get_by_test_id("schedule-form")
    form.locator("select[name=report]").select_option("alerts")
    form.locator("select[name=format]").select_option("pdf")
    form.locator("select[name=period]").select_option("monthly")
    form.locator("input[name=office]").fill("KEMBA")
    form.locator("textarea[name=recipients]").fill("chief@customs.example\nnot an address")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    error = page.get_by_test_id("form-error")
    assert error.get_attribute("data-field") == "recipients"
    assert "not an address" in error.inner_text() and error.inner_text().startswith("Recipients:")
    form = page.get_by_test_id("schedule-form")
    assert form.locator("textarea[name=recipients]").get_attribute("aria-invalid") == "true"
    assert form.locator("select[name=period]").input_value() == "monthly"  # kept
    assert form.locator("input[name=office]").input_value() == "KEMBA"

    form.locator("textarea[name=recipients]").fill("chief@customs.example")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/reports/schedules?done=saved")
    row = page.get_by_test_id("schedules").locator("tbody tr")
    assert row.count() == 1
    assert "Alerts" in row.inner_text() and "chief@customs.example" in row.inner_text()
    assert row.get_by_test_id("next-due").locator("time").inner_text().strip() != ""

    row.get_by_role("button", name="Pause").click()
    page.wait_for_url("**/reports/schedules?done=paused")
    assert "Paused since" in page.get_by_test_id("state").inner_text()

    page.click("button[lang=ar]")
    page.wait_for_load_state()
    ar = translations("ar").gettext
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("h1").inner_text() == ar("Report e-mails")
    shown = page.locator("main").inner_text()
    for english in ENGLISH:  # the table's and the form's words, all in Arabic
        assert english not in shown and ar(english) in shown, english
    assert (
        ar("Paused since %(when)s").split("%")[0].strip()
        in page.get_by_test_id("state").inner_text()
    )
    page.get_by_role("button", name=ar("Resume")).click()
    page.wait_for_url("**/reports/schedules?done=resumed")
    assert page.get_by_test_id("state").inner_text().startswith(ar("Running"))
    page.get_by_role("button", name=ar("Remove")).click()
    page.wait_for_url("**/reports/schedules?done=removed")
    assert page.get_by_test_id("no-schedules").is_visible()
    assert problems == []
