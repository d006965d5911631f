"""POST /api/declarations takes CUSDEC and WCO DM XML bodies by content type, through the one
lodging use case; a malformed or invalid message stores nothing."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from smartcustoms.core.roles import Role
from smartcustoms.declarations.tables import DeclarationRow
from tests.web.conftest import bearer

EDIFACT = {"content-type": "application/edifact"}
XML = {"content-type": "application/xml"}


def stored(client: TestClient) -> int:
    ctx = client.app.state.ctx  # type: ignore[attr-defined]
    with ctx.unit() as unit:
        return int(unit.session.scalar(select(func.count()).select_from(DeclarationRow)) or 0)


def test_lodge_cusdec_then_xml_of_the_same_declaration(
    client: TestClient, role_tokens: dict[Role, str], cusdec_example: Path, wco_example: Path
) -> None:
    declarant = bearer(role_tokens[Role.DECLARANT])
    first = client.post(
        "/api/declarations", headers={**declarant, **EDIFACT}, content=cusdec_example.read_bytes()
    )
    assert first.status_code == 201, first.text
    [receipt] = first.json()  # an interchange is a batch: one receipt per message
    assert receipt["lrn"] == "MSA-2026-000417"
    assert receipt["created"] is True
    assert receipt["lane"] in {"green", "blue", "yellow", "scan", "red"}
    again = client.post(
        "/api/declarations", headers={**declarant, **XML}, content=wco_example.read_bytes()
    )
    assert again.status_code == 200, again.text  # the same declarant and LRN: already lodged
    assert again.json() == {**receipt, "created": False}
    officer = bearer(role_tokens[Role.EXAMINING_OFFICER])
    read = client.get(f"/api/declarations/{receipt['id']}", headers=officer).json()
    assert read["source"] == "api"
    assert read["declaration"]["national_fields"] == {"import_regime": "C4"}


def test_invalid_messages_store_nothing(
    client: TestClient, role_tokens: dict[Role, str], cusdec_example: Path, wco_example: Path
) -> None:
    declarant = bearer(role_tokens[Role.DECLARANT])
    broken = cusdec_example.read_bytes().replace(b"UNT+49+1'", b"")
    response = client.post("/api/declarations", headers={**declarant, **EDIFACT}, content=broken)
    assert response.status_code == 422
    assert "has no UNT" in response.json()["error"]["message"]
    bad_hs = cusdec_example.read_bytes().replace(b"CST+2+610910", b"CST+2+770000")
    response = client.post("/api/declarations", headers={**declarant, **EDIFACT}, content=bad_hs)
    assert response.status_code == 422
    detail = response.json()["error"]["details"][0]
    assert (detail["where"], detail["field"], detail["segment"]) == (
        "message 1 (line 3)",
        "items[1].hs_code",
        "CST",
    )
    bad_xml = wco_example.read_bytes().replace(b"<ModeCode>1</ModeCode>", b"<ModeCode/>")
    response = client.post("/api/declarations", headers={**declarant, **XML}, content=bad_xml)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["xpath"] == (
        "/Declaration/BorderTransportMeans/ModeCode"
    )
    assert stored(client) == 0


def test_another_traders_message_is_refused(
    client: TestClient, role_tokens: dict[Role, str], wco_example: Path
) -> None:
    declarant = bearer(role_tokens[Role.DECLARANT])
    other = wco_example.read_bytes().replace(b"<ID>BRK001</ID>", b"<ID>BRK999</ID>")
    response = client.post("/api/declarations", headers={**declarant, **XML}, content=other)
    assert response.status_code == 403
    assert response.json()["error"]["details"][0]["field"] == "Declaration.declarant.id"
    assert stored(client) == 0


def test_an_unknown_content_type_is_refused(
    client: TestClient, role_tokens: dict[Role, str]
) -> None:
    declarant = bearer(role_tokens[Role.DECLARANT])
    response = client.post(
        "/api/declarations",
        headers={**declarant, "content-type": "text/csv"},
        content=b"lrn,office\n1,KEMBA\n",
    )
    assert response.status_code == 415
    assert "application/edifact" in response.json()["error"]["message"]
    schema = client.get("/api/openapi.json", headers=declarant).json()
    body = schema["paths"]["/api/declarations"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/edifact", "application/xml"} <= set(body)
