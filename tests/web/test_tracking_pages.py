"""Tracking's pages: the command-centre map, the alert queue and its forms (HTMX and plain),
the transit pages with the officers' steps; in English and French."""

from __future__ import annotations

import html
import json
import re
import threading

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.records import SealEvent
from smartcustoms.web.i18n import translations
from tests.conftest import add_user, login
from tests.tracking.helpers import VOI, import_packaged, incoming, make_transit, position


@pytest.fixture
def alert_world(ctx: AppContext) -> int:
    """An armed transit with one open alert; returns the transit's id."""
    import_packaged(ctx)
    transit = make_transit(ctx, "UI-1")
    writer = Ingestor(ctx)
    writer.start()
    done = threading.Event()
    writer.submit(
        [incoming(position("UI-1", VOI, events=(SealEvent.OPENED,)))], "UI-1", lambda ok: done.set()
    )
    assert done.wait(10)
    writer.stop()
    return transit


def page(client: TestClient, url: str) -> str:
    response = client.get(url, headers={"accept": "text/html"})
    assert response.status_code == 200, response.text[:500]
    return response.text


def test_map_page(ctx: AppContext, client: TestClient, alert_world: int) -> None:
    add_user(ctx, "op", Role.COMMAND_CENTRE_OPERATOR)
    login(client, "op")
    text = page(client, "/tracking")
    assert 'id="cc-map"' in text and "/static/js/tracking-map.js" in text
    assert "/static/vendor/leaflet/leaflet.js" in text and "countries-50m.json" in text
    assert "style=" not in text and "<script>" not in text  # the CSP allows neither
    labels = json.loads(html.unescape(re.search(r"data-i18n='([^']+)'", text).group(1)))  # type: ignore[union-attr]
    assert labels["types"]["seal_opened"] == "Seal opened"
    assert 'data-alert-id="1"' in text and "Seal opened" in text
    for path in ("/tracking", "/tracking/alerts", "/tracking/transits"):
        assert f'href="{path}"' in text  # the navigation


def test_map_page_in_french_and_refused_to_other_roles(
    ctx: AppContext, client: TestClient, alert_world: int
) -> None:
    add_user(ctx, "op", Role.COMMAND_CENTRE_OPERATOR)
    add_user(ctx, "officer", Role.EXAMINING_OFFICER)
    login(client, "op")
    fr = translations("fr").gettext
    client.cookies.set("sc_lang", "fr")
    text = page(client, "/tracking")
    labels = json.loads(html.unescape(re.search(r"data-i18n='([^']+)'", text).group(1)))  # type: ignore[union-attr]
    assert labels["types"]["seal_opened"] == fr("Seal opened") != "Seal opened"
    assert fr("Command centre") in text
    client.cookies.clear()
    login(client, "officer")
    assert client.get("/tracking", headers={"accept": "text/html"}).status_code == 403


def test_alert_queue_acknowledge_and_resolve_with_htmx(
    ctx: AppContext, client: TestClient, alert_world: int
) -> None:
    add_user(ctx, "op", Role.COMMAND_CENTRE_OPERATOR)
    csrf = login(client, "op")
    text = page(client, "/tracking/alerts")
    assert 'data-alert-id="1"' in text and 'data-action="acknowledge"' in text
    hx = {"HX-Request": "true", "X-CSRF-Token": csrf}
    response = client.post("/tracking/alerts/1/acknowledge", data={"show": "active"}, headers=hx)
    assert response.status_code == 200
    assert 'data-status="acknowledged"' in response.text and 'id="alert-rows"' in response.text
    again = client.post("/tracking/alerts/1/acknowledge", data={"show": "active"}, headers=hx)
    assert again.status_code == 200 and 'data-testid="alert-error"' in again.text  # shown in place
    resolved = client.post(
        "/tracking/alerts/1/resolve",
        data={"show": "active", "outcome": "false_alarm", "note": "Vibration"},
        headers=hx,
    )
    assert 'data-alert-id="1"' not in resolved.text  # no longer active
    history = page(client, "/tracking/alerts?show=resolved")
    assert "False alarm" in history


def test_alert_forms_without_htmx_and_without_csrf(
    ctx: AppContext, client: TestClient, alert_world: int
) -> None:
    add_user(ctx, "sup", Role.SUPERVISOR)
    add_user(ctx, "op2", Role.COMMAND_CENTRE_OPERATOR)
    csrf = login(client, "sup")
    refused = client.post("/tracking/alerts/1/escalate", data={"team": "Unit 4"})
    assert refused.status_code == 403
    response = client.post(
        "/tracking/alerts/1/assign",
        data={"assignee": "op2", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert (
        response.status_code == 303
        and response.headers["location"] == "/tracking/alerts?show=active"
    )
    escalated = client.post(
        "/tracking/alerts/1/escalate", data={"team": "Unit 4", "csrf_token": csrf}
    )
    assert "Unit 4" in escalated.text
    text = page(client, "/tracking/alerts")
    assert "op2" in text and "escalated" in text


def test_transit_pages_and_officer_steps(
    ctx: AppContext, client: TestClient, alert_world: int
) -> None:
    import_packaged(ctx)
    pending = make_transit(ctx, "UI-2", arm=False)
    add_user(ctx, "officer", Role.EXAMINING_OFFICER)
    csrf = login(client, "officer")
    listing = page(client, "/tracking/transits")
    assert (
        f'data-transit-id="{pending}"' in listing and f'data-transit-id="{alert_world}"' in listing
    )
    text = page(client, f"/tracking/transits/{pending}")
    assert 'data-action="arm"' in text and 'id="transit-map"' in text
    armed = client.post(f"/tracking/transits/{pending}/arm", data={"csrf_token": csrf})
    assert "armed" in armed.text and 'data-action="discharge"' in armed.text
    handed = client.post(
        f"/tracking/transits/{pending}/hand-over",
        data={"csrf_token": csrf, "border": "UGMAL", "to_administration": "URA"},
    )
    assert "URA" in handed.text
    done = client.post(
        f"/tracking/transits/{pending}/discharge",
        data={"csrf_token": csrf, "seal_intact": "true", "note": "ok"},
    )
    assert 'data-testid="transit-status">discharged' in done.text
    events = re.findall(r"<strong>(created|armed|handed over|discharged)</strong>", done.text)
    assert events == ["created", "armed", "handed over", "discharged"]
    bad = client.post(f"/tracking/transits/{pending}/arm", data={"csrf_token": csrf})
    assert bad.status_code == 409 and 'role="alert"' in bad.text
    detail = page(client, f"/tracking/transits/{alert_world}")
    assert "Seal opened" in detail  # its alert, on its page


def test_declarant_sees_transit_pages_of_its_own_only(
    ctx: AppContext, client: TestClient, alert_world: int
) -> None:
    add_user(ctx, "declarant", Role.DECLARANT)
    login(client, "declarant")
    assert "No transits." in page(client, "/tracking/transits")  # lodged by "test"
    assert (
        client.get(f"/tracking/transits/{alert_world}", headers={"accept": "text/html"}).status_code
        == 403
    )
    assert client.post(f"/tracking/transits/{alert_world}/arm").status_code == 403
