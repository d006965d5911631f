"""Administration in a real browser: an administrator registers a device and a customs office
through the pages — a refused office keeps what was typed and names the field —, sees both
listed, and opens a corridor on its map (Leaflet draws the corridor's layers, no console
error)."""

from __future__ import annotations

from typing import Any

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.tracking.corridors import import_geojson
from smartcustoms.tracking.packaged import packaged_geojson
from tests.browser.conftest import username_for, watch_problems
from tests.browser.test_shell import log_in

pytestmark = pytest.mark.browser


def seed_server(ctx: AppContext) -> None:
    with ctx.unit() as unit:
        import_geojson(unit, packaged_geojson(), actor="test")


def test_register_a_device_and_an_office(page: Any) -> None:
    # A refused form answers 422 on purpose (logged as a failed load): statuses are judged by
    # the responses instead — no script, style or data request may fail.
    errors = watch_problems(page, warnings=False, documents=False)
    log_in(page, username_for(Role.ADMINISTRATOR))
    page.wait_for_url("**/")
    assert page.locator('[data-work="devices"]').get_attribute("data-count") == "0"

    page.click("#main-nav >> text=Devices")
    page.wait_for_url("**/admin/devices")
    form = page.get_by_test_id("device-form")
    form.locator("input[name=device_id]").fill("ESEAL-0042")
    form.locator("select[name=kind]").select_option("e-lock")
    form.locator("input[name=label]").fill("<b>Spare</b> lock")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/admin/devices")
    row = page.locator('tr[data-device="ESEAL-0042"]')
    assert row.count() == 1
    assert "<b>Spare</b> lock" in row.inner_text()  # text, not markup
    assert row.get_by_test_id("last-report").inner_text().strip() == "never reported"

    page.click("#main-nav >> text=Customs offices")
    page.wait_for_url("**/admin/offices")
    office = page.get_by_test_id("office-form")
    office.locator("input[name=code]").fill("KEMBA")
    office.locator("input[name=name]").fill("Mombasa Port")
    office.locator("input[name=time_zone]").fill("Africa/Mombasa")  # no such zone
    office.locator("input[name=examination_capacity]").fill("45")
    office.locator("button[type=submit]").click()
    problem = page.get_by_test_id("form-error")
    assert problem.get_attribute("data-field") == "time_zone"
    office = page.get_by_test_id("office-form")
    assert office.locator("input[name=name]").input_value() == "Mombasa Port"
    assert office.locator("input[name=examination_capacity]").input_value() == "45"
    office.locator("input[name=time_zone]").fill("Africa/Nairobi")
    office.locator("button[type=submit]").click()
    page.wait_for_url("**/admin/offices?saved=KEMBA")
    listed = page.locator('tr[data-code="KEMBA"]')
    assert "Mombasa Port" in listed.inner_text() and "Africa/Nairobi" in listed.inner_text()

    page.click("#main-nav >> text=Corridors")
    page.click('tr[data-code="northern"] >> text=Map')
    page.wait_for_selector('#corridor-map[data-loaded="true"]')
    assert page.locator("#corridor-map path.sc-corridor-route").count() >= 1
    assert errors == []


def test_the_pages_in_french(browser: Any, server: Any) -> None:
    context = browser.new_context(base_url=server.url, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        log_in(page, username_for(Role.ADMINISTRATOR))
        page.wait_for_url("**/")
        page.goto("/admin/devices")
        assert page.locator("h1").inner_text() == "Dispositifs"
        page.goto("/admin/offices")
        assert page.locator("h1").inner_text() == "Bureaux de douane"
        page.goto("/admin/keys")
        assert page.locator("h1").inner_text() == "Clés du registre"
    finally:
        context.close()
