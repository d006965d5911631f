"""A transit handed over across a border, in a real browser on both sides: two real instances
(Kenya and Uganda, each served by uvicorn with its own database, keys and ledger; see
``tests/federation/instances.py``), partners of each other. Kenya's officer hands the transit
over on its page; Uganda's officer finds it in the transit list, pending acceptance, with the
seal's open alert carried over, accepts it, and sees the truck and that alert on the command
centre's map; Kenya's page then shows the partner's acceptance. No console errors, no failed
answers, on either side."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smartcustoms.core.roles import Role
from smartcustoms.core.users import create_user
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.records import SealEvent
from tests.browser.conftest import BROWSER_PASSWORD
from tests.federation.instances import Instance
from tests.federation.test_handover import DEVICE, KE, UG, _incoming_transit
from tests.federation.test_handover import pair as pair  # the two instances
from tests.tracking.helpers import VOI, incoming, make_transit, position
from tests.waiting import wait_for

pytestmark = pytest.mark.browser


@dataclass
class Officer:
    page: Any
    problems: list[str] = field(default_factory=list)


def _officer(browser: Any, instance: Instance, username: str, *roles: Role) -> Officer:
    """A user of ``instance`` with ``roles``, logged in on a page of their own."""
    with instance.ctx.unit() as unit:
        create_user(unit, username=username, password=BROWSER_PASSWORD, roles=roles, actor="test")
    context = browser.new_context(base_url=instance.url, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(15_000)
    officer = Officer(page)
    page.on("pageerror", lambda e: officer.problems.append(str(e)))
    page.on(
        "console",
        lambda m: (
            officer.problems.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            officer.problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", BROWSER_PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/")
    return officer


@pytest.fixture
def both(browser: Any, pair: tuple[Instance, Instance]) -> Iterator[tuple[Officer, Officer]]:
    ke, ug = pair
    origin = _officer(browser, ke, "ke-officer", Role.EXAMINING_OFFICER)
    partner = _officer(
        browser, ug, "ug-officer", Role.EXAMINING_OFFICER, Role.COMMAND_CENTRE_OPERATOR
    )
    yield origin, partner
    origin.page.context.close()
    partner.page.context.close()


def _reload_until(page: Any, selector: str, text: str, timeout: float = 30.0) -> None:
    """Reload until ``selector`` shows ``text`` (what the other instance did reaches this one
    through the outbox, in a second or so)."""

    def shown() -> bool:
        page.reload()
        found = page.locator(selector, has_text=text)
        return bool(found.count())

    wait_for(shown, timeout, interval=0.5, message=f"{text!r} never shown in {selector}")


@pytest.mark.parametrize("pair", ["sqlite"], indirect=True)
def test_hand_over_seen_and_accepted_on_both_sides(
    pair: tuple[Instance, Instance],
    both: tuple[Officer, Officer],
) -> None:
    ke, ug = pair
    origin, partner = both
    transit_id = make_transit(ke.ctx, DEVICE)
    writer = Ingestor(ke.ctx)  # the seal reports at the origin, and its casing is opened
    writer.start()
    try:
        at = datetime.now(UTC) - timedelta(seconds=5)
        writer.submit(
            [
                incoming(position(DEVICE, VOI, at=at)),
                incoming(
                    position(DEVICE, VOI, at=at + timedelta(seconds=1), events=(SealEvent.TAMPER,))
                ),
            ],
            DEVICE,
        )
    finally:
        writer.stop()

    # Kenya's officer hands the transit over at the border post, on its page.
    page = origin.page
    page.goto(f"/tracking/transits/{transit_id}")
    page.select_option("select[name=border]", "KE-MALABA")
    page.fill("input[name=to_administration]", UG)
    page.click("button[data-action=hand-over]")
    page.locator("[data-testid=transit-status]", has_text="handed over").wait_for()

    # Uganda's officer finds it in the transit list, pending acceptance, the alert carried over.
    wait_for(lambda: _incoming_transit(ug) is not None, 30, message="not received")
    handed = _incoming_transit(ug)
    assert handed is not None
    page = partner.page
    page.goto("/tracking/transits")
    row = page.locator(f"tr[data-transit-id='{handed.id}']")
    row.wait_for()
    row.locator("a").click()
    page.wait_for_url(f"**/tracking/transits/{handed.id}")
    page.locator("[data-testid=handed-in-from]", has_text="pending acceptance").wait_for()
    assert KE in page.locator("[data-testid=handed-in-from]").inner_text()
    assert page.locator("[data-testid=transit-alerts] li").count() == 1  # the origin's tamper
    page.click("button[data-action=accept]")
    page.locator("[data-testid=handed-in-from]", has_text="accepted by ug-officer").wait_for()
    assert not page.locator("button[data-action=accept]").count()

    # On its own command centre map: the truck and the alert it came with.
    page.goto("/tracking")
    page.locator(f"#cc-alerts li[data-transit-id='{handed.id}']").wait_for()
    page.locator("path.truck").first.wait_for(state="attached")

    # Kenya sees the partner's acceptance on its transit's page.
    _reload_until(origin.page, "[data-testid=timeline] li", "accepted")
    assert origin.problems == []
    assert partner.problems == []
