"""The corridor editor in a real browser: an administrator draws a corridor point by point (with
an undo), places a stop zone, sets a threshold and saves — the import API checks it as any file
and the corridor, its zone and its threshold are stored; a refused save names the field and
keeps the drawing; an existing corridor opens with its route and is saved with a new buffer."""

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


def _points(page: Any) -> int:
    return int(page.locator("#corridor-editor").get_attribute("data-points"))


def _click_map(page: Any, x: float, y: float) -> None:
    page.locator("#corridor-editor").click(position={"x": x, "y": y})


def test_draw_a_corridor_with_a_stop_zone_and_save_it(page: Any) -> None:
    errors = watch_problems(page, warnings=False, documents=False)
    log_in(page, username_for(Role.ADMINISTRATOR))
    page.wait_for_url("**/")
    page.goto(page.url.rstrip("/") + "/admin/corridors")
    page.get_by_test_id("draw").click()
    page.wait_for_selector('#corridor-editor[data-loaded="true"]')
    form = page.get_by_test_id("corridor-form")
    form.locator("input[name=code]").fill("lake-road")
    form.locator("input[name=name]").fill("Lake <b>road</b>")
    for x, y in ((120, 120), (220, 160), (320, 230)):
        _click_map(page, x, y)
    assert _points(page) == 3
    form.locator("button[data-action=undo]").click()
    assert _points(page) == 2
    _click_map(page, 340, 260)
    assert _points(page) == 3
    form.locator("input[name='threshold:long_stop_minutes']").fill("45")

    form.locator("input[name=mode][value=zone]").check()
    form.locator("input[name=zone_code]").fill("LR-STOP")
    form.locator("input[name=zone_name]").fill("Lake stop")
    form.locator("input[name=zone_radius]").fill("800")
    _click_map(page, 260, 300)
    assert form.get_by_test_id("new-zones").locator("li").count() == 1
    assert _points(page) == 3  # a click in zone mode adds no route point
    assert page.locator("#corridor-editor path.sc-zone").count() >= 1

    form.get_by_test_id("save").click()
    page.wait_for_url("**/admin/corridors/lake-road")
    thresholds = page.get_by_test_id("thresholds").inner_text()
    assert "45" in thresholds
    assert "Lake <b>road</b>" in page.locator("h1").inner_text()  # text, not markup
    page.goto(page.url.rsplit("/", 1)[0])
    zone = page.locator('[data-testid=zones] tr[data-code="LR-STOP"]')
    assert zone.count() == 1 and "Lake stop" in zone.inner_text()
    assert errors == []


def test_a_refused_save_names_the_field_and_keeps_the_drawing(page: Any) -> None:
    errors = watch_problems(page, warnings=False, documents=False)
    log_in(page, username_for(Role.ADMINISTRATOR))
    page.wait_for_url("**/")
    page.goto(page.url.rstrip("/") + "/admin/corridors/new")
    page.wait_for_selector('#corridor-editor[data-loaded="true"]')
    form = page.get_by_test_id("corridor-form")
    form.locator("input[name=code]").fill("bad code!")
    _click_map(page, 150, 150)
    _click_map(page, 250, 200)
    form.get_by_test_id("save").click()
    problem = form.get_by_test_id("editor-error")
    problem.wait_for(state="visible")
    assert problem.get_attribute("data-field") == "features[0].properties.code"
    assert _points(page) == 2 and page.url.endswith("/admin/corridors/new")
    # The refusal's own 422 is expected; nothing else may fail.
    assert [e for e in errors if not e.startswith("422 ") or "/corridors/import" not in e] == []


def test_an_existing_corridor_opens_with_its_route_and_saves_a_new_buffer(page: Any) -> None:
    errors = watch_problems(page, warnings=False, documents=False)
    log_in(page, username_for(Role.ADMINISTRATOR))
    page.wait_for_url("**/")
    page.goto(page.url.rstrip("/") + "/admin/corridors/northern")
    page.get_by_test_id("edit").click()
    page.wait_for_selector('#corridor-editor[data-loaded="true"]')
    assert _points(page) > 10  # the packaged route's points, each a handle
    form = page.get_by_test_id("corridor-form")
    assert form.locator("input[name=code]").get_attribute("readonly") is not None
    form.locator("input[name=buffer_m]").fill("3000")
    form.get_by_test_id("save").click()
    page.wait_for_url("**/admin/corridors/northern")
    assert "3000 m" in page.get_by_test_id("thresholds").inner_text().replace("\u202f", "")
    assert errors == []
