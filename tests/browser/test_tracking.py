"""The command centre in a real browser against a real ``smartcustoms serve`` that runs the
device listeners: a seal is opened on the road, the alert appears live on the map and in the
queue, an operator acknowledges and resolves it. No console errors (the CSP holds)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.schema import upgrade
from smartcustoms.core.settings import load_settings
from smartcustoms.core.users import create_user
from smartcustoms.sandbox.traffic_simulator.encoders import ENCODERS
from smartcustoms.tracking.records import Position, SealEvent
from tests.browser.conftest import (
    BROWSER_PASSWORD,
    Server,
    free_port,
    sign_in,
    username_for,
    watch_problems,
)
from tests.tracking.helpers import VOI, import_packaged, make_transit
from tests.waiting import wait_for

pytestmark = pytest.mark.browser

DEVICE = "BRW0001"

# Keeps the page's EventSource objects where the test can see them open (injected by Playwright,
# not a page script, so the CSP is untouched).
OPEN_STREAMS = """
window.__streams = [];
window.EventSource = class extends window.EventSource {
  constructor(...args) { super(...args); window.__streams.push(this); }
};
"""


@pytest.fixture(scope="module")
def tracking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, int]]:
    data_dir: Path = tmp_path_factory.mktemp("tracking-server")
    ctx = AppContext.from_settings(load_settings(None, data_dir=data_dir))
    upgrade(ctx.db)
    with ctx.unit() as unit:
        for role in (Role.COMMAND_CENTRE_OPERATOR, Role.EXAMINING_OFFICER):
            create_user(
                unit,
                username=username_for(role),
                password=BROWSER_PASSWORD,
                roles=[role],
                display_name=f"Test {role.value}",
                actor="test",
            )
    import_packaged(ctx)
    make_transit(ctx, DEVICE)
    ctx.close()
    port, device_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")},
        "SMARTCUSTOMS_DATA_DIR": str(data_dir),
        "SMARTCUSTOMS_LOG_LEVEL": "WARNING",
        "SMARTCUSTOMS_TRACKING_LISTEN": "true",
        "SMARTCUSTOMS_TRACKING_HOST": "127.0.0.1",
        "SMARTCUSTOMS_TRACKING_LISTENERS": f'["eseal:tcp:{device_port}"]',
    }
    log_path = data_dir / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "smartcustoms", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            raise AssertionError("the server exited")
        try:
            web = httpx2.get(url + "/health", timeout=1).status_code == 200
            with socket.create_connection(("127.0.0.1", device_port), timeout=1):
                return web
        except (httpx2.TransportError, OSError):
            return False

    try:
        wait_for(up, 60.0, interval=0.2, message="the server did not answer")
    except AssertionError as error:
        process.kill()
        process.wait()
        log.close()
        output = log_path.read_text()[-3000:]
        raise RuntimeError(f"server did not start ({error}): {output}") from None
    try:
        yield Server(url, data_dir, process), device_port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.fixture
def operator_page(
    browser: Any, tracking_server: tuple[Server, int]
) -> Iterator[tuple[Any, list[str]]]:
    server, _ = tracking_server
    context = browser.new_context(base_url=server.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = watch_problems(page)
    sign_in(page, Role.COMMAND_CENTRE_OPERATOR)
    yield page, problems
    context.close()


SENT: list[datetime] = []  # the device times this module's reports carried


def seal_report(
    serial: int, events: tuple[SealEvent, ...] = (), at: datetime | None = None
) -> bytes:
    """A report ``serial`` seconds from now (or at ``at``)."""
    when = at or datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=serial)
    SENT.append(when)
    position = Position(
        device_id=DEVICE,
        time=when,
        latitude=VOI[1],
        longitude=VOI[0],
        speed_kmh=0.0,
        course=90.0,
        satellites=8,
        valid=True,
        events=events,
    )
    return ENCODERS["eseal"].report(DEVICE, [position], serial)


def send(port: int, frame: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(frame)
        answer = b""
        while not answer.endswith(b"\r\n"):
            chunk = sock.recv(256)
            if not chunk:
                break
            answer += chunk
        return answer


def test_an_opened_seal_appears_live_and_is_worked_to_resolution(
    operator_page: tuple[Any, list[str]], tracking_server: tuple[Server, int]
) -> None:
    page, problems = operator_page
    _, device_port = tracking_server
    assert b"ACK" in send(device_port, seal_report(1))  # the truck is on the road
    page.goto("/tracking")
    page.wait_for_selector("[data-testid=stream-status][data-state=live]")
    page.wait_for_selector("path.sc-country", state="attached")  # the offline base map
    page.wait_for_selector("path.sc-corridor-route", state="attached")
    page.wait_for_selector(".cc-alerts .cc-empty")
    truck = page.locator("path.truck")
    truck.wait_for(state="attached")
    assert truck.get_attribute("data-colour") == "ok"

    started = time.monotonic()
    assert b"ACK" in send(device_port, seal_report(2, (SealEvent.OPENED,)))  # the door opens
    item = page.locator("#cc-alerts li[data-alert-id]")
    item.wait_for()
    assert "Seal opened" in item.inner_text()
    page.wait_for_selector('path.truck[data-colour="alert"]', state="attached")
    assert time.monotonic() - started < 5  # live: no reload, within seconds

    page.click("text=Alert queue")
    row = page.locator("tr[data-alert-id]")
    row.wait_for()
    assert row.get_attribute("data-status") == "open"
    page.click("button[data-action=acknowledge]")
    page.wait_for_selector('tr[data-alert-id][data-status="acknowledged"]')
    page.locator("tr[data-alert-id] summary").click()
    page.select_option("select[name=outcome]", "false_alarm")
    page.fill("form[action$='/resolve'] input[name=note]", "Customs inspection, authorised")
    page.click("button[data-action=resolve]")
    page.wait_for_selector("tr[data-alert-id]", state="detached")
    page.goto("/tracking/alerts?show=resolved")
    resolved = page.locator("tr[data-alert-id]")
    assert resolved.get_attribute("data-status") == "resolved"
    assert "False alarm" in resolved.inner_text()

    # Back on the map, the truck is green again and the alert list empty.
    page.goto("/tracking")
    page.wait_for_selector('path.truck[data-colour="ok"]', state="attached")
    assert page.locator("#cc-alerts li[data-alert-id]").count() == 0
    assert problems == [], problems


def test_a_new_alert_reaches_an_open_queue_live(
    operator_page: tuple[Any, list[str]], tracking_server: tuple[Server, int]
) -> None:
    page, problems = operator_page
    _, device_port = tracking_server
    page.add_init_script(OPEN_STREAMS)
    page.goto("/tracking/alerts")
    page.wait_for_selector("#alert-rows")
    page.wait_for_function("window.__streams.some((s) => s.readyState === EventSource.OPEN)")
    assert b"ACK" in send(device_port, seal_report(3, (SealEvent.TAMPER,)))
    row = page.locator("tr[data-alert-id]")
    row.wait_for()
    assert "Tampering" in row.inner_text()
    assert problems == [], problems


def test_transit_page_replays_the_track(
    operator_page: tuple[Any, list[str]], tracking_server: tuple[Server, int]
) -> None:
    page, problems = operator_page
    page.goto("/tracking/transits")
    page.click("table[data-testid=transits] a")
    page.wait_for_selector("#replay-play:not([disabled])")
    page.wait_for_selector("path.sc-track", state="attached")
    page.click("#replay-play")
    page.wait_for_function("document.getElementById('replay-label').textContent.includes('km/h')")
    assert problems == [], problems


def test_the_replay_names_seal_events_in_french(
    browser: Any, tracking_server: tuple[Server, int]
) -> None:
    server, device_port = tracking_server
    # The latest point: after every earlier report (some carry times ahead of the clock), and
    # waited for, since the track shows the positions up to now.
    at = max([datetime.now(UTC).replace(microsecond=0), *(t + timedelta(seconds=1) for t in SENT)])
    assert b"ACK" in send(device_port, seal_report(4, (SealEvent.OPENED,), at=at))
    wait_for(lambda: datetime.now(UTC) > at + timedelta(seconds=1), timeout=15)
    context = browser.new_context(base_url=server.url, locale="fr-FR")  # asks for French
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, Role.COMMAND_CENTRE_OPERATOR)
    page.goto("/tracking/transits")
    assert page.get_attribute("html", "lang") == "fr"
    page.click("table[data-testid=transits] a")
    page.wait_for_selector("#replay-play:not([disabled])")
    page.wait_for_function("document.getElementById('replay-label').textContent.includes('km/h')")
    text = page.locator("#replay-label").inner_text()
    assert "ouvert" in text and "opened" not in text, text  # a name, not the code
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text), text  # a French date, not ISO text
    assert errors == [], errors
    context.close()
