"""The maps in a real browser, offline: the command centre and the transit replay draw the base
map's detail (rivers, lakes, town names) from the packaged file, label trucks, corridors and
border posts, draw zones at their real extent, and colour the replay's truck by the transit's
state at each moment, as the legend does. Not one request leaves the server, in English or in
Arabic (right to left)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.records import SealEvent
from smartcustoms.web.i18n import translations
from tests.browser.conftest import Server, sign_in, watch_problems
from tests.tracking.helpers import MOMBASA, VOI, import_packaged, incoming, make_transit, position

pytestmark = pytest.mark.browser

DEVICE = "MAP0001"
PLATE = "KBX 123A"  # make_transit's vehicle
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def seed_server(ctx: AppContext) -> None:
    """A transit armed seven hours ago: at Mombasa, then Voi, where its seal is opened."""
    now = datetime.now(UTC)
    import_packaged(ctx)
    clock.set_clock(lambda: now - timedelta(hours=7))
    try:
        make_transit(ctx, DEVICE)
    finally:
        clock.set_clock(None)
    reports = [
        position(DEVICE, MOMBASA, at=now - timedelta(hours=6), speed=0.0),
        position(DEVICE, VOI, at=now - timedelta(hours=3)),
        position(DEVICE, VOI, at=now - timedelta(hours=2), speed=0.0, events=(SealEvent.OPENED,)),
        position(DEVICE, VOI, at=now - timedelta(hours=1), speed=0.0),
    ]
    writer = Ingestor(ctx)
    writer.start()
    try:
        done = threading.Event()
        writer.submit([incoming(p) for p in reports], DEVICE, lambda ok: done.set())
        assert done.wait(20)
    finally:
        writer.stop()


@dataclass
class Operator:
    page: Any
    outside: list[str]  # requests that tried to leave the server
    problems: list[str]  # console errors, page errors, failed answers


@pytest.fixture(params=["en-GB", "ar"])
def operator(browser: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Operator]:
    """A command-centre operator's page in a language; every request that would leave the
    server is refused and noted, every console error or failed answer noted."""
    context = browser.new_context(base_url=server.url, locale=request.param)
    outside: list[str] = []
    problems: list[str] = []

    def only_local(route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch_problems(page, warnings=False, into=problems)
    sign_in(page, Role.COMMAND_CENTRE_OPERATOR)
    yield Operator(page, outside, problems)
    context.close()


def label(page: Any, kind: str, text: str) -> Any:
    return page.locator(f".sc-label-{kind} span", has_text=text)


def test_the_command_centre_map_names_towns_trucks_and_border_posts(operator: Operator) -> None:
    page = operator.page
    page.goto("/tracking")
    if page.locator("html").get_attribute("lang") == "ar":
        assert page.locator("html").get_attribute("dir") == "rtl"
    page.wait_for_selector("path.sc-river", state="attached")  # the packaged base map's lines
    page.wait_for_selector("path.sc-lake", state="attached")
    label(page, "place", "Nairobi").wait_for()  # a town, named as data in every language
    truck = label(page, "truck", PLATE)
    truck.wait_for()  # the truck by its plate
    assert page.locator("path.truck").get_attribute("data-colour") == "alert"  # seal opened
    label(page, "corridor", "Northern Corridor").wait_for()

    # A border post is an area on the ground (a 2 km circle): each zoom step doubles it on
    # screen, where a dot would keep its size.
    zone = page.locator('path[data-zone="UG-KATUNA"]')
    zone.wait_for(state="attached")
    widths = []
    for _ in range(4):
        box = zone.bounding_box()
        assert box is not None
        widths.append(box["width"])
        page.mouse.dblclick(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function(  # grown, and the zoom's animation over
            "([w]) => !document.querySelector('.leaflet-zoom-anim') && document.querySelector("
            "'path[data-zone=\"UG-KATUNA\"]').getBoundingClientRect().width > w * 1.5",
            arg=[box["width"]],
        )
    after = zone.bounding_box()
    assert after is not None and after["width"] > 20, widths
    assert 1.7 < after["width"] / widths[-1] < 2.3, (widths, after)
    assert "sc-zone-border_post" in (zone.get_attribute("class") or "")
    label(page, "zone", "Katuna/Gatuna OSBP").wait_for()  # named, once there is room

    assert operator.outside == [], operator.outside
    assert operator.problems == [], operator.problems


def test_the_replay_colours_the_truck_by_the_transits_state(operator: Operator) -> None:
    page = operator.page
    language = "ar" if "ar" in (page.evaluate("navigator.language") or "") else "en"
    words = translations(language).gettext
    page.goto("/tracking/transits")
    page.click("table[data-testid=transits] a")
    page.wait_for_selector("#replay-play:not([disabled])")
    page.wait_for_selector("path.sc-river", state="attached")
    label(page, "truck", PLATE).wait_for()
    marker = page.locator("path.truck")
    legend = {
        state: page.eval_on_selector(f".swatch-{state}", "e => getComputedStyle(e).backgroundColor")
        for state in ("ok", "alert")
    }

    def fill() -> str:
        return str(marker.evaluate("e => getComputedStyle(e).fill"))

    # The last point: after the seal was opened, the transit is in alert, red as in the legend.
    assert marker.get_attribute("data-colour") == "alert"
    assert fill() == legend["alert"]
    assert words("alert") in page.locator("#replay-label").inner_text()

    # The first point, at Mombasa before anything happened: on route, green.
    page.eval_on_selector(
        "#replay-slider", "e => { e.value = '0'; e.dispatchEvent(new Event('input')); }"
    )
    page.wait_for_selector('path.truck[data-colour="ok"]', state="attached")
    assert fill() == legend["ok"]
    assert words("on route") in page.locator("#replay-label").inner_text()

    assert operator.outside == [], operator.outside
    assert operator.problems == [], operator.problems
