"""Hostile strings in every user-controlled field the pages show: they are shown as text, never
run. Each page is visited as the role that works it; no injected script runs (no
``window.__pwned``, no dialog), no injected element or event-handler attribute appears, no
``javascript:`` link is made, the CSP refuses nothing (our own code never builds HTML from
data), and the hostile text reads literally where it belongs — in server-rendered pages and in
what the scripts build (Leaflet tooltips and popups, the live alert list, the replay)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.users import create_user
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.intake import import_records
from smartcustoms.ledger.service import attach_ledger, ledger_of
from smartcustoms.risk.assess import assess
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.rulebook import propose, review
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.reviews import record_examination, review_scan
from smartcustoms.scans.storage import store_for
from smartcustoms.tracking.alerts import comment_alert, escalate_alert, resolve_alert
from smartcustoms.tracking.corridors import import_geojson
from smartcustoms.tracking.geometry import LINE_TYPES
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.packaged import packaged_geojson
from smartcustoms.tracking.records import SealEvent
from smartcustoms.tracking.tables import AlertRow
from smartcustoms.tracking.transits import TransitRequest, arm_transit, create_transit
from tests.browser.conftest import BROWSER_PASSWORD, Server
from tests.declarations.helpers import declaration
from tests.scans.stored import FLAGGED, case, declaration_for, write
from tests.tracking.helpers import VOI, incoming, position

pytestmark = pytest.mark.browser

# The payloads. Each would run (or make an element, or a link) if it went in as HTML.
IMG = '<img src=x onerror="window.__pwned=1">'
SCRIPT = '"><script>window.__pwned=1</script>'
JS_URL = "javascript:window.__pwned=1//"
RTL = "\u202egpj.exe\u202c"  # right-to-left override: shown, not obeyed as markup
SHORT_IMG = "<img src=x onerror=__pwned=1>"  # fits 32 characters

DISPLAY_NAME = f"{IMG} {RTL}"
REFERENCE = f"{IMG}{RTL}"  # the transit reference (70 characters at most)
VEHICLE = SCRIPT  # 35 characters at most
DEVICE = "<iframe>\"'&amp;<b>X"  # 32 characters, no whitespace or '/' (records.py)
SEAL = JS_URL
CORRIDOR_NAME = f"{SCRIPT}{IMG}"
ZONE_NAME = f"{IMG} {RTL}"
COMMENT = "L" * 1900 + IMG  # a very long note
TEAM = IMG
RESOLUTION = f"{SCRIPT} {JS_URL}"
LIVE_COMMENT = f"{SCRIPT}{IMG}"
QUEUE_TEAM = SCRIPT

LRN = SHORT_IMG  # 35 characters at most
DECLARANT_ID = "<b id=x>\"&'</b>"  # 17 characters at most
PARTY_NAME = SCRIPT
DESCRIPTION = "D" * 400 + IMG + RTL
TRANSPORT_ID = JS_URL
RULE_REASON = IMG
RULE_INSTRUCTIONS = f"{SCRIPT} {JS_URL}"
INSPECTION_NOTE = f"{IMG} {SCRIPT}"

SCAN_NOTE = f"{IMG} " + "N" * 1500
MARK_LABEL = SCRIPT
EXAM_NOTE = f"{JS_URL} {IMG}"

USERS = {
    Role.COMMAND_CENTRE_OPERATOR: "hostile-operator",
    Role.IMAGE_ANALYST: "hostile-analyst",
    Role.EXAMINING_OFFICER: "hostile-officer",
    Role.AUDITOR: "hostile-auditor",
}

SEEDED: dict[str, int] = {}

# Recorded before any page script runs: CSP refusals, and dialogs opened by injected code.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sourceFile || ""));
});
"""

# What injected markup would leave behind in the document.
INSPECT = """() => {
  const attrs = [];
  const links = [];
  for (const el of document.querySelectorAll("*")) {
    for (const a of el.attributes) {
      if (a.name.startsWith("on")) attrs.push(el.tagName + " " + a.name);
      if (["href", "src", "action", "formaction", "xlink:href"].includes(a.name)
          && /^\\s*javascript:/i.test(a.value)) links.push(el.tagName + " " + a.value);
    }
  }
  const inline = [...document.querySelectorAll("script")].filter(
    (s) => !s.src && s.type !== "application/json").map((s) => s.textContent);
  return {
    pwned: typeof window.__pwned !== "undefined",
    csp: window.__csp || ["no watcher"],
    images: [...document.querySelectorAll('img[src="x"]')].length,
    bold: [...document.querySelectorAll("b#x")].length,
    frames: [...document.querySelectorAll("iframe")].length,
    handlers: attrs,
    links: links,
    inline: inline,
  };
}"""


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _ingest(ctx: AppContext, device: str, events: list[tuple[SealEvent, ...]]) -> None:
    writer = Ingestor(ctx)
    writer.start()
    start = datetime.now(UTC)  # after the seal was armed
    try:
        for n, happened in enumerate(events):
            done = threading.Event()

            def stored(_ok: bool, done: threading.Event = done) -> None:
                done.set()

            report = position(device, VOI, at=start + timedelta(seconds=n + 1), events=happened)
            writer.submit([incoming(report)], device, stored)
            assert done.wait(10)
    finally:
        writer.stop()


def seed_server(ctx: AppContext) -> None:
    attach_ledger(ctx)
    try:
        _seed(ctx)
    except BaseException:
        ctx.close()  # the ledger's threads stop even when seeding fails
        raise


def _seed(ctx: AppContext) -> None:
    ledger = ledger_of(ctx)
    with ctx.unit() as unit:
        for role, username in USERS.items():
            create_user(
                unit, username=username, password=BROWSER_PASSWORD, roles=[role],
                display_name=DISPLAY_NAME, actor="test",
            )  # fmt: skip

    # Corridors and zones under hostile names (the packaged geometry, renamed).
    layers = packaged_geojson()
    for feature in layers["features"]:
        is_line = feature["geometry"]["type"] in LINE_TYPES
        feature["properties"]["name"] = CORRIDOR_NAME if is_line else ZONE_NAME
    with ctx.unit() as unit:
        import_geojson(unit, layers, actor="test")

    # A declaration full of hostile text, selected by a rule whose reason is hostile too.
    with ctx.unit() as unit:
        rule = propose(
            unit, name="hostile", expression='hs6 = "850440"', lane=Lane.YELLOW,
            reason=RULE_REASON, instructions=RULE_INSTRUCTIONS, actor="analyst-a",
        )  # fmt: skip
        review(unit, rule.id, approve=True, actor="supervisor-b")
    document = declaration(
        lrn=LRN,
        declarant={"id": DECLARANT_ID, "name": PARTY_NAME},
        importer={"id": "IMP042", "name": PARTY_NAME},
        consignor={"id": "CNR1", "name": PARTY_NAME},
        border_transport_id=TRANSPORT_ID,
    )
    document["items"][0]["description"] = DESCRIPTION
    with ctx.unit() as unit:
        report = import_records(
            unit.session, [SourceRecord("h", data=document)], source="api", submitted_by="test"
        )
        assess(ctx, unit, report.stored, actor="test")
        declaration_id = report.stored[0].id
    SEEDED["declaration"] = declaration_id

    # A transit on the renamed corridor, with hostile reference, vehicle, device and seal.
    with ctx.unit() as unit:
        row = create_transit(
            unit,
            TransitRequest(
                declaration_id=declaration_id, device_id=DEVICE, vehicle=VEHICLE,
                corridor="northern", origin="KEMBA", destination="UGKLA",
                deadline=datetime.now(UTC) + timedelta(hours=48), seal_number=SEAL,
                reference=REFERENCE,
            ),
            actor="officer", administration="Kenya Revenue Authority",
        )  # fmt: skip
        transit_id = row.id
    with ctx.unit() as unit:
        arm_transit(unit, transit_id, actor="officer")
    SEEDED["transit"] = transit_id
    _ingest(ctx, DEVICE, [(), (SealEvent.CABLE_CUT,), (SealEvent.OPENED,)])
    with ctx.db.session() as session:
        alerts = {a.type: a.id for a in session.scalars(select(AlertRow))}
    cut, opened = alerts["cable_cut"], alerts["seal_opened"]
    SEEDED["alert"] = opened
    with ctx.unit() as unit:
        comment_alert(unit, cut, actor=USERS[Role.COMMAND_CENTRE_OPERATOR], note=COMMENT)
    with ctx.unit() as unit:
        escalate_alert(unit, cut, actor=USERS[Role.COMMAND_CENTRE_OPERATOR], team=TEAM)
    with ctx.unit() as unit:
        resolve_alert(
            unit, cut, actor=USERS[Role.COMMAND_CENTRE_OPERATOR], outcome="false_alarm",
            note=RESOLUTION,
        )  # fmt: skip

    # A scan of a declaration with hostile names and goods, reviewed and examined with hostile
    # notes and marks.
    item = case(FLAGGED)
    scan_document = declaration_for(
        item,
        declarant={"id": DECLARANT_ID, "name": PARTY_NAME},
        consignor={"id": "CNR1", "name": PARTY_NAME},
    )
    scan_document["items"][0]["description"] = DESCRIPTION
    with ctx.unit() as unit:
        scan_report = import_records(
            unit.session, [SourceRecord("s", data=scan_document)], source="api",
            submitted_by="test",
        )  # fmt: skip
        scan_declaration = scan_report.stored[0].id
    path: Path = write(item, ctx.settings.data_dir / "incoming", "hostile")
    with ctx.unit() as unit:
        scan = receive_scan(
            unit, store_for(ctx.settings), Upload(path.read_bytes(), path.name, scan_declaration),
            actor="scanner", source="api",
        )  # fmt: skip
        scan_id = scan.scan.id
    SEEDED["scan"] = scan_id
    regions = [
        {"col0": 1, "row0": 1, "col1": 40, "row1": 30, "label": MARK_LABEL},
        {"col0": 50, "row0": 5, "col1": 90, "row1": 40, "label": SHORT_IMG},
    ]
    with ctx.unit() as unit:
        review_scan(
            unit, scan_id, decision="physical_examination", regions=regions, note=SCAN_NOTE,
            actor=USERS[Role.IMAGE_ANALYST],
        )  # fmt: skip
    with ctx.unit() as unit:
        record_examination(
            unit, scan_id, irregular=False, note=EXAM_NOTE, actor=USERS[Role.EXAMINING_OFFICER]
        )

    # The ledger entry that carries the transit's hostile fields.
    ledger.flush()
    for index in range(ledger.size()):
        if REFERENCE in set(_strings(ledger.record(index))):
            SEEDED["ledger"] = index
            break


@pytest.fixture
def open_page(browser: Any, server: Server) -> Iterator[Any]:
    """Opens a logged-in page as the hostile-named user of a role; watches what goes wrong."""
    contexts: list[Any] = []

    def opener(role: Role) -> tuple[Any, Any, list[str]]:
        context = browser.new_context(base_url=server.url, locale="en-GB")
        contexts.append(context)
        context.add_init_script(WATCH)
        problems: list[str] = []

        def watch(page: Any) -> None:
            page.set_default_timeout(15_000)
            page.on(
                "console",
                lambda m: (
                    problems.append(m.text)
                    if m.type in ("error", "warning") and "Failed to load resource" not in m.text
                    else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on(
                "response",
                lambda r: (
                    problems.append(f"{r.status} {r.url}")
                    if r.status >= 400 and not r.url.endswith("/favicon.ico")
                    else None
                ),
            )

            def dialog(d: Any) -> None:
                problems.append(f"dialog: {d.message}")
                d.dismiss()

            page.on("dialog", dialog)

        context.on("page", watch)
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=username]", USERS[role])
        page.fill("input[name=password]", BROWSER_PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_url("**/")
        assert page.get_by_test_id("who").text_content() == DISPLAY_NAME
        return context, page, problems

    yield opener
    for context in contexts:
        context.close()


def assert_inert(page: Any, problems: list[str]) -> None:
    """Nothing injected ran or was made on this page, and nothing went wrong."""
    found = page.evaluate(INSPECT)
    assert found["pwned"] is False
    assert found["csp"] == []
    assert found["images"] == 0 and found["bold"] == 0 and found["frames"] == 0
    assert found["handlers"] == []
    assert found["links"] == []
    assert found["inline"] == []
    assert problems == []


def text_of(page: Any, selector: str) -> str:
    return str(page.locator(selector).first.text_content())


def tooltip_of(page: Any, target: Any) -> str:
    """Hover a Leaflet layer's path (the map's own mouse handling) and read its tooltip."""
    target.dispatch_event("mouseover")
    tooltip = page.locator(".leaflet-tooltip").last
    tooltip.wait_for()
    text = str(tooltip.text_content())
    assert tooltip.evaluate("t => t.querySelectorAll('*:not(span)').length") == 0
    target.dispatch_event("mouseout")
    return text


def test_command_centre_map(open_page: Any) -> None:
    context, page, problems = open_page(Role.COMMAND_CENTRE_OPERATOR)
    page.goto("/tracking")
    page.wait_for_selector("[data-testid=stream-status][data-state=live]")
    page.wait_for_selector("path.sc-corridor-route", state="attached")
    page.wait_for_selector("path.sc-zone", state="attached")
    truck = page.locator("path.truck")
    truck.wait_for(state="attached")
    assert REFERENCE in text_of(page, f"#cc-alerts li[data-alert-id='{SEEDED['alert']}']")

    assert tooltip_of(page, truck) == REFERENCE
    assert tooltip_of(page, page.locator("path.sc-corridor-route").first) == CORRIDOR_NAME
    assert tooltip_of(page, page.locator("path.sc-zone").first).startswith(ZONE_NAME + " (")
    truck.dispatch_event("click")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    shown = str(popup.text_content())
    assert REFERENCE in shown and DEVICE in shown and VEHICLE in shown
    assert popup.locator("strong").text_content() == REFERENCE

    # A step on the alert elsewhere reaches this page live: the list item is built in script.
    queue = context.new_page()
    queue.goto("/tracking/alerts")
    row = queue.locator(f"tr[data-alert-id='{SEEDED['alert']}']")
    row.locator("summary").click()
    row.locator("form[action$='/comment'] input[name=note]").fill(LIVE_COMMENT)
    row.locator("button[data-action=comment]").click()
    fresh = page.locator("#cc-alerts li.fresh")
    fresh.wait_for()
    assert REFERENCE in str(fresh.text_content())
    assert_inert(queue, problems)
    assert_inert(page, problems)


def test_alert_queue(open_page: Any) -> None:
    _, page, problems = open_page(Role.COMMAND_CENTRE_OPERATOR)
    page.goto("/tracking/alerts?show=all")
    rows = page.locator("tr[data-alert-id]")
    rows.first.wait_for()
    assert rows.count() >= 2
    for n in range(rows.count()):
        shown = str(rows.nth(n).text_content())
        assert REFERENCE in shown and DEVICE in shown
    assert page.locator("td a", has_text=REFERENCE).count() == rows.count()
    resolved = page.locator("tr[data-status=resolved] [data-testid=alert-status]")
    assert TEAM in str(resolved.text_content())

    # A hostile team through the form; HTMX swaps the server's fragment in.
    row = page.locator(f"tr[data-alert-id='{SEEDED['alert']}']")
    row.locator("summary").click()
    row.locator("form[action$='/escalate'] input[name=team]").fill(QUEUE_TEAM)
    row.locator("button[data-action=escalate]").click()
    page.wait_for_selector(f"tr[data-alert-id='{SEEDED['alert']}'][data-status=escalated]")
    status = page.locator(f"tr[data-alert-id='{SEEDED['alert']}'] [data-testid=alert-status]")
    assert QUEUE_TEAM in str(status.text_content())
    assert_inert(page, problems)


def test_transits_and_replay(open_page: Any) -> None:
    _, page, problems = open_page(Role.COMMAND_CENTRE_OPERATOR)
    page.goto("/tracking/transits?status=all")
    listed = text_of(page, f"tr[data-transit-id='{SEEDED['transit']}']")
    for value in (REFERENCE, DEVICE, SEAL, VEHICLE):
        assert value in listed
    assert_inert(page, problems)

    page.goto(f"/tracking/transits/{SEEDED['transit']}")
    assert REFERENCE in text_of(page, "h1")
    assert REFERENCE in page.title()
    consignment = text_of(page, "dl.status")
    for value in (DEVICE, SEAL, VEHICLE):
        assert value in consignment
    timeline = text_of(page, "[data-testid=timeline]")
    for value in (COMMENT, TEAM, RESOLUTION):
        assert value in timeline
    page.wait_for_selector("#replay-play:not([disabled])")
    page.wait_for_selector("path.sc-corridor-route", state="attached")
    event = page.locator("path.sc-track-event").first
    event.wait_for(state="attached")
    assert " · " in tooltip_of(page, event)
    assert tooltip_of(page, page.locator("path.sc-corridor-route").first) == CORRIDOR_NAME
    page.click("#replay-play")
    page.wait_for_function("document.getElementById('replay-label').textContent.includes('km/h')")
    assert_inert(page, problems)


def test_scan_queue_and_viewer(open_page: Any) -> None:
    _, page, problems = open_page(Role.IMAGE_ANALYST)
    page.goto("/scans?queue=all")
    row = text_of(page, f"[data-testid=scan-queue] tr[data-scan='{SEEDED['scan']}']")
    assert DECLARANT_ID in row
    assert_inert(page, problems)

    page.goto(f"/scans/{SEEDED['scan']}")
    page.wait_for_selector("[data-scan-viewer][data-ready=true]")
    declared = text_of(page, "[data-testid=declaration]")
    assert DECLARANT_ID in declared and DESCRIPTION in declared
    reviews = text_of(page, "[data-testid=reviews]")
    assert SCAN_NOTE in reviews and MARK_LABEL in reviews and SHORT_IMG in reviews
    assert EXAM_NOTE in text_of(page, "[data-testid=examination]")
    labels = [m["label"] for m in page.evaluate(
        "JSON.parse(document.getElementById('scan-data').textContent).reviewed"
    )]  # fmt: skip
    assert MARK_LABEL in labels  # the viewer draws them on the canvas as text
    assert_inert(page, problems)


def test_declaration_pages(open_page: Any) -> None:
    _, page, problems = open_page(Role.EXAMINING_OFFICER)
    page.goto("/declarations?lane=all")
    link = page.get_by_test_id(f"open-{SEEDED['declaration']}")
    assert link.text_content() == f"{DECLARANT_ID} / {LRN}"
    assert_inert(page, problems)

    link.click()
    page.wait_for_url(f"**/declarations/{SEEDED['declaration']}")
    assert f"{DECLARANT_ID} / {LRN}" in text_of(page, "h1")
    reasons = text_of(page, "[data-testid=reasons]")
    assert RULE_REASON in reasons and RULE_INSTRUCTIONS in reasons
    assert DESCRIPTION in text_of(page, "[data-testid=items]")
    assert TRANSPORT_ID in page.locator("main").text_content()
    page.check("input[name=outcome][value=compliant]")
    page.fill("textarea[name=note]", INSPECTION_NOTE)
    page.click("text=Record the result")
    result = page.get_by_test_id("inspection")
    result.wait_for()
    assert INSPECTION_NOTE in str(result.locator("p").last.text_content())
    assert_inert(page, problems)


def test_ledger_explorer(open_page: Any) -> None:
    assert "ledger" in SEEDED, "the transit's record is in the ledger"
    _, page, problems = open_page(Role.AUDITOR)
    page.goto(f"/ledger?index={SEEDED['ledger']}")
    entry = str(page.get_by_test_id("entry").text_content())
    # The entry is shown as indented JSON: the strings appear JSON-escaped, as text.
    assert "window.__pwned=1" in entry and "<img src=x" in entry and "javascript:" in entry
    assert_inert(page, problems)
