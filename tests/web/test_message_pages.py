"""Stored reasons, findings and events read in the reader's language with the locale's numbers:
the French declaration page, scan page, transit page and forbidden page carry no English left
over from the machine form (issue 15, "Languages")."""

from __future__ import annotations

import html
import json
import re
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.risk.tables import LaneDecisionRow
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.storage import store_for
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.records import SealEvent
from tests.conftest import add_user, login
from tests.scans.stored import MASS, case, declaration_for, lodge, write
from tests.tracking.helpers import VOI, import_packaged, incoming, make_transit, position
from tests.web.test_overrides_api import lodge as lodge_through_api

NNBSP = "\u202f"  # Babel's French thousands separator (and before a unit)


def visible(page: str) -> str:
    """The text a reader sees: no tags, scripts or attributes; entities decoded."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def french(client: TestClient, csrf: str) -> None:
    client.post("/lang", data={"language": "fr", "next": "/", "csrf_token": csrf})


def test_scan_page_in_french_words_and_numbers(
    ctx: AppContext, client: TestClient, tmp_path: Path
) -> None:
    heavy = case(MASS, under_kg=3000)  # declared 3 t light: a mass finding
    (declaration_id,) = lodge(ctx, declaration_for(heavy))
    path = write(heavy, tmp_path, "heavy")
    with ctx.unit() as unit:
        scan_id = receive_scan(
            unit,
            store_for(ctx.settings),
            Upload(path.read_bytes(), path.name, declaration_id),
            actor="scanner",
            source="api",
        ).scan.id
    add_user(ctx, "ana", Role.IMAGE_ANALYST)
    csrf = login(client, "ana")

    english = visible(client.get(f"/scans/{scan_id}").text)
    assert "load heavier than declared: imaged load " in english

    french(client, csrf)
    text = visible(client.get(f"/scans/{scan_id}").text)
    assert "chargement plus lourd que déclaré\u00a0: chargement imagé de " in text
    declared = f"{round(heavy.goods_gross_kg):,}".replace(",", NNBSP)
    assert f"{declared}{NNBSP}kg déclarés" in text  # "7 773 kg", Babel's French
    for fragment in ("load heavier", "imaged load", "region(s) inconsistent", "declared goods",
                     "no region", "kg declared"):  # fmt: skip
        assert fragment not in text, fragment
    queue = visible(client.get("/scans").text)
    assert "chargement plus lourd que déclaré" in queue and "heavier" not in queue


def test_declaration_page_and_queue_in_french(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    declaration_id = lodge_through_api(client, role_tokens)
    # A reason stored before reasons were code + params: shown as it was written.
    with ctx.db.session() as session:
        row = session.scalars(
            select(LaneDecisionRow).where(LaneDecisionRow.declaration_id == declaration_id)
        ).one()
        stored = list(row.reasons)
        assert stored and all("code" in r and "text" not in r for r in stored)
        row.reasons = [
            *stored,
            {
                "kind": "history.retired",
                "code": "history.retired",
                "params": {},
                "text": {"en": "An older sentence", "fr": "Une phrase d'avant"},
            },
        ]
        session.commit()
    add_user(ctx, "sam", Role.SUPERVISOR)
    csrf = login(client, "sam")
    english = visible(client.get(f"/declarations/{declaration_id}").text)
    assert "No risk model is active" in english and "An older sentence" in english

    french(client, csrf)
    text = visible(client.get(f"/declarations/{declaration_id}").text)
    assert "Aucun modèle de risque actif" in text and "Une phrase d'avant" in text
    assert "No risk model" not in text and "An older sentence" not in text
    queue = client.get("/declarations?lane=all").text
    badges = re.findall(r'data-lane="green">([^<]+)<', queue)
    assert badges and set(badges) == {"Vert"}  # not "green"

    # The API keeps the machine form and gives the text in English and French.
    api = client.get(f"/api/declarations/{declaration_id}/decision", headers=_bearer(role_tokens))
    assert api.status_code == 200, api.text
    reasons = api.json()["reasons"]
    first = next(r for r in reasons if r.get("code") == "no_model")
    assert first["params"] == {}
    assert first["text"]["en"] == "No risk model is active: only rules and random control apply"
    assert first["text"]["fr"].startswith("Aucun modèle de risque actif")
    old = next(r for r in reasons if r.get("code") == "history.retired")
    assert old["text"] == {"en": "An older sentence", "fr": "Une phrase d'avant"}


def _bearer(tokens: dict[Role, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[Role.RISK_ANALYST]}"}


def test_forbidden_page_in_french(ctx: AppContext, client: TestClient) -> None:
    add_user(ctx, "broker", Role.DECLARANT)
    csrf = login(client, "broker")
    french(client, csrf)
    response = client.get("/scans", headers={"accept": "text/html"})
    assert response.status_code == 403
    assert 'data-error-code="forbidden"' in response.text  # the code, for support
    text = visible(response.text)
    assert "Vos rôles ne permettent pas cette page ou cette action." in text
    for fragment in ("your roles do not allow this", "forbidden", "Error code"):
        assert fragment not in text, fragment
    # The API still says what it said, for machines.
    api = client.get("/api/scans", headers={"accept": "application/json"})
    assert api.json()["error"]["message"] == "your roles do not allow this"


@pytest.fixture
def alert_world(ctx: AppContext) -> int:
    """An armed transit with one open alert (a seal opened); returns the transit's id."""
    import_packaged(ctx)
    transit = make_transit(ctx, "MSG-1")
    writer = Ingestor(ctx)
    writer.start()
    done = threading.Event()
    writer.submit(
        [incoming(position("MSG-1", VOI, events=(SealEvent.OPENED,)))],
        "MSG-1",
        lambda ok: done.set(),
    )
    assert done.wait(10)
    writer.stop()
    return transit


def test_transit_page_and_alert_queue_in_french(
    ctx: AppContext, client: TestClient, alert_world: int
) -> None:
    add_user(ctx, "op", Role.COMMAND_CENTRE_OPERATOR)
    csrf = login(client, "op")
    hx = {"HX-Request": "true", "X-CSRF-Token": csrf}
    client.post(
        "/tracking/alerts/1/resolve",
        data={"show": "active", "outcome": "false_alarm", "note": "vu"},
        headers=hx,
    )
    french(client, csrf)
    page = client.get(f"/tracking/transits/{alert_world}").text
    # The replay's script names seal events from the page's labels, not by their codes.
    found = re.search(r"data-i18n='([^']+)'", page)
    assert found is not None
    labels = json.loads(html.unescape(found.group(1)))
    assert labels["events"]["opened"] == "ouvert"
    assert labels["events"]["low_battery"] == "batterie faible"
    text = visible(page)
    assert "(Fausse alerte)" in text and "(false_alarm)" not in text
    # Times in the instance's zone as French writes them, to the second: no ISO "T", no µs.
    times = re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', page)
    assert times
    for iso, shown in times:
        assert "T" not in shown and "." not in shown.split(" ")[-1], shown
        assert iso[:4] in shown
    queue = visible(client.get("/tracking/alerts", headers={"accept": "text/html"}).text)
    assert "Ouvertes" in queue and "Ouvrir" not in queue  # the state, not the verb
