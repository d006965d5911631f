"""Tracking's API: corridors, transits through their lifecycle, alerts through their workflow,
the live snapshot and the live stream, each with the roles it names."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.packaged import packaged_geojson
from smartcustoms.tracking.records import SealEvent
from tests.tracking.helpers import CONTAINERS, VOI, incoming, position, store_declaration
from tests.web.conftest import bearer

OFFICER = Role.EXAMINING_OFFICER
OPERATOR = Role.COMMAND_CENTRE_OPERATOR


@pytest.fixture
def world(client: TestClient, role_tokens: dict[Role, str]) -> dict[Role, dict[str, str]]:
    """Corridors imported by the administrator; a header per role."""
    headers = {role: bearer(token) for role, token in role_tokens.items()}
    response = client.post(
        "/api/tracking/corridors/import",
        json=packaged_geojson(),
        headers=headers[Role.ADMINISTRATOR],
    )
    assert response.status_code == 201, response.text
    assert response.json()["corridors"] == ["northern", "central"]
    return headers


def create_transit(
    client: TestClient, ctx: AppContext, headers: dict[str, str], **extra: Any
) -> dict[str, Any]:
    declaration = store_declaration(
        ctx,
        extra.pop("lrn", "API-1"),
        submitted_by=extra.pop("by", "declarant"),
        declarant=extra.pop("declarant", "BRK001"),
    )
    body = {
        "declaration_id": declaration,
        "device_id": "API-SEAL",
        "vehicle": "KBX 001A",
        "corridor": "northern",
        "origin": "KEMBA",
        "destination": "UGKLA",
        "hours": 72,
        **extra,
    }
    response = client.post("/api/tracking/transits", json=body, headers=headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_transit_lifecycle_through_the_api(
    client: TestClient, ctx: AppContext, world: dict[Role, dict[str, str]]
) -> None:
    transit = create_transit(client, ctx, world[OFFICER])
    assert transit["status"] == "created" and transit["containers"] == CONTAINERS
    tid = transit["id"]
    # Roles: an operator may not arm; the officer may. Our officer hands over at the border (a
    # partner's account hands over onward only what was handed to its administration).
    assert (
        client.post(f"/api/tracking/transits/{tid}/arm", headers=world[OPERATOR]).status_code == 403
    )
    armed = client.post(f"/api/tracking/transits/{tid}/arm", headers=world[OFFICER])
    assert armed.json()["status"] == "armed"
    hand_over = {"border": "UGMAL", "to_administration": "Uganda Revenue Authority"}
    refused = client.post(
        f"/api/tracking/transits/{tid}/hand-over",
        json=hand_over,
        headers=world[Role.PARTNER_ADMINISTRATION],
    )
    assert refused.status_code == 403
    handed = client.post(
        f"/api/tracking/transits/{tid}/hand-over", json=hand_over, headers=world[OFFICER]
    )
    assert handed.json()["responsible"] == "Uganda Revenue Authority"
    detail = client.get(f"/api/tracking/transits/{tid}", headers=world[Role.AUDITOR]).json()
    assert [s["action"] for s in detail["timeline"]] == ["created", "armed", "handed_over"]
    done = client.post(
        f"/api/tracking/transits/{tid}/discharge",
        json={"seal_intact": True},
        headers=world[OFFICER],
    )
    assert done.json()["status"] == "discharged"
    again = client.post(f"/api/tracking/transits/{tid}/arm", headers=world[OFFICER])
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    listed = client.get("/api/tracking/transits?status=discharged", headers=world[OPERATOR]).json()
    assert [t["id"] for t in listed] == [tid]


def test_creation_errors_name_the_field(
    client: TestClient, ctx: AppContext, world: dict[Role, dict[str, str]]
) -> None:
    declaration = store_declaration(ctx, "API-BAD")
    body = {"declaration_id": declaration, "device_id": "S", "vehicle": "V", "corridor": "northern",
            "origin": "KEMBA", "destination": "UGKLA", "containers": ["CSQU3054384"]}  # fmt: skip
    response = client.post("/api/tracking/transits", json=body, headers=world[OFFICER])
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "containers[0]"
    response = client.post(
        "/api/tracking/transits", json={**body, "colour": "red"}, headers=world[OFFICER]
    )
    assert response.json()["error"]["details"][0]["field"] == "colour"


def test_a_declarant_sees_only_its_own_transits(
    client: TestClient, ctx: AppContext, world: dict[Role, dict[str, str]]
) -> None:
    """Its own: those of the traders it acts for (BRK001), whoever lodged the declaration."""
    mine = create_transit(client, ctx, world[OFFICER], lrn="MINE", by="someone-else")
    theirs = create_transit(
        client, ctx, world[OFFICER], lrn="THEIRS", by="declarant", declarant="BRK999",
        device_id="S2",
    )  # fmt: skip
    me = world[Role.DECLARANT]
    assert [t["id"] for t in client.get("/api/tracking/transits", headers=me).json()] == [
        mine["id"]
    ]
    assert client.get(f"/api/tracking/transits/{mine['id']}", headers=me).status_code == 200
    assert client.get(f"/api/tracking/transits/{theirs['id']}", headers=me).status_code == 403
    assert client.get(f"/api/tracking/transits/{theirs['id']}/track", headers=me).status_code == 403


@pytest.fixture
def alert(
    client: TestClient, ctx: AppContext, world: dict[Role, dict[str, str]]
) -> Iterator[dict[str, Any]]:
    transit = create_transit(client, ctx, world[OFFICER])
    client.post(f"/api/tracking/transits/{transit['id']}/arm", headers=world[OFFICER])
    writer = Ingestor(ctx)
    writer.start()
    try:
        done = threading.Event()
        writer.submit(
            [incoming(position("API-SEAL", VOI, events=(SealEvent.OPENED,)))],
            "API-SEAL",
            lambda ok: done.set(),
        )
        assert done.wait(10)
        (found,) = client.get("/api/tracking/alerts", headers=world[OPERATOR]).json()
        yield found
    finally:
        writer.stop()


def test_alert_workflow_through_the_api(
    client: TestClient, world: dict[Role, dict[str, str]], alert: dict[str, Any]
) -> None:
    url = f"/api/tracking/alerts/{alert['id']}"
    assert alert["type"] == "seal_opened" and alert["status"] == "open"
    assert client.post(f"{url}/acknowledge", headers=world[Role.AUDITOR]).status_code == 403
    assert (
        client.post(f"{url}/acknowledge", headers=world[OPERATOR]).json()["status"]
        == "acknowledged"
    )
    commented = client.post(
        f"{url}/comment", json={"note": "Driver reached"}, headers=world[OPERATOR]
    )
    assert commented.json()["steps"][-1]["note"] == "Driver reached"
    escalated = client.post(
        f"{url}/escalate", json={"team": "Mobile unit 3"}, headers=world[Role.SUPERVISOR]
    )
    assert escalated.json()["status"] == "escalated" and escalated.json()["team"] == "Mobile unit 3"
    bad = client.post(f"{url}/resolve", json={"outcome": "meh"}, headers=world[OPERATOR])
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "outcome"
    resolved = client.post(
        f"{url}/resolve", json={"outcome": "authorised"}, headers=world[OPERATOR]
    )
    body = resolved.json()
    assert body["status"] == "resolved" and body["outcome"] == "authorised"
    assert [s["action"] for s in body["steps"]] == [
        "raised",
        "acknowledged",
        "commented",
        "escalated",
        "resolved",
    ]
    assert [s["actor"] for s in body["steps"]][1:] == ["command-centre-operator"] * 2 + [
        "supervisor",
        "command-centre-operator",
    ]
    assert client.get("/api/tracking/alerts", headers=world[OPERATOR]).json() == []  # none active
    assert (
        len(client.get("/api/tracking/alerts?status=resolved", headers=world[OPERATOR]).json()) == 1
    )


def test_live_snapshot_track_and_map(
    client: TestClient, world: dict[Role, dict[str, str]], alert: dict[str, Any]
) -> None:
    snapshot = client.get("/api/tracking/live", headers=world[OPERATOR]).json()
    (truck,) = snapshot["transits"]
    assert truck["live"]["latitude"] == VOI[1] and truck["live"]["inside_corridor"] is True
    assert truck["open_alerts"][0]["severity"] == "critical"
    assert snapshot["feed_id"] > 0
    track = client.get(
        f"/api/tracking/transits/{alert['transit_id']}/track", headers=world[OPERATOR]
    )
    assert [p["events"] for p in track.json()] == [["opened"]]
    layers = client.get("/api/tracking/map", headers=world[OFFICER]).json()
    parts = {f["properties"]["part"] for f in layers["corridors"]["features"]}
    assert parts == {"route", "buffer"} and len(layers["zones"]["features"]) == 15


def test_live_stream_delivers_an_alert(
    client: TestClient, ctx: AppContext, world: dict[Role, dict[str, str]]
) -> None:
    transit = create_transit(client, ctx, world[OFFICER])
    client.post(f"/api/tracking/transits/{transit['id']}/arm", headers=world[OFFICER])
    after = client.get("/api/tracking/live", headers=world[OPERATOR]).json()["feed_id"]
    writer = Ingestor(ctx)
    writer.start()

    def later() -> None:
        # No pause needed: the stream resumes after `after`, so the alert reaches it whether it
        # is raised before the stream opens or while it is open.
        writer.submit([incoming(position("API-SEAL", VOI, events=(SealEvent.TAMPER,)))], "API-SEAL")

    threading.Thread(target=later).start()
    headers = {**world[OPERATOR], "accept": "text/event-stream"}
    events: list[tuple[str, dict[str, Any]]] = []
    try:
        with client.stream("GET", f"/api/tracking/stream?after={after}", headers=headers) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            kind = ""
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    events.append((kind, json.loads(line[6:])))
                    if kind == "alert":
                        break
    finally:
        writer.stop()
    assert events[-1][0] == "alert" and events[-1][1]["type"] == "tamper"
    assert all(kind != "transit" for kind, _ in events)  # nothing from before ?after=
    plain = client.get("/api/tracking/stream", headers=world[OPERATOR])
    assert plain.status_code == 406 and plain.json()["error"]["code"] == "not_acceptable"
    denied = client.get(
        "/api/tracking/stream", headers={**world[Role.DECLARANT], "accept": "text/event-stream"}
    )
    assert denied.status_code == 403


def test_devices_and_imports_are_for_administrators(
    client: TestClient, world: dict[Role, dict[str, str]]
) -> None:
    body = {"device_id": "JT701-9", "kind": "e-lock", "protocol": "jt701"}
    assert (
        client.post("/api/tracking/devices", json=body, headers=world[OPERATOR]).status_code == 403
    )
    assert (
        client.post(
            "/api/tracking/devices", json=body, headers=world[Role.ADMINISTRATOR]
        ).status_code
        == 201
    )
    again = client.post("/api/tracking/devices", json=body, headers=world[Role.ADMINISTRATOR])
    assert again.status_code == 409
    devices = client.get("/api/tracking/devices", headers=world[OPERATOR]).json()
    assert [d["device_id"] for d in devices] == ["JT701-9"]
    point = {"type": "Point", "coordinates": [1, 2]}
    feature = {"type": "Feature", "geometry": point, "properties": {"code": "z"}}
    bad = client.post(
        "/api/tracking/corridors/import",
        json={"type": "FeatureCollection", "features": [feature]},
        headers=world[Role.ADMINISTRATOR],
    )
    assert bad.status_code == 422 and "radius_m" in bad.json()["error"]["message"]
