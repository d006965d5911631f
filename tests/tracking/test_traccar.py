"""Traccar as a front end, end to end: the JSON a Traccar server forwards (samples from its own
source, tests/tracking/data/traccar/) posted to the real application on a real database, into
the same pipeline as our own listeners — transit matching, corridor, rules, alerts, ledger."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings
from smartcustoms.core.tokens import create_token
from smartcustoms.core.users import create_user, get_user
from smartcustoms.ledger.service import ledger_of
from smartcustoms.tracking import get_protocol
from smartcustoms.tracking.devices import register_device
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.tables import AlertRow, PositionRow
from smartcustoms.tracking.traccar import intake_of
from smartcustoms.web.app import create_app
from tests.conftest import PASSWORD

from .helpers import NEAR_VOI_OFF_ROUTE, VOI, import_packaged, make_transit

DATA = Path(__file__).parent / "data" / "traccar"
POSITIONS = "/api/tracking/traccar/positions"
EVENTS = "/api/tracking/traccar/events"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def add_token(ctx: AppContext, username: str, role: Role) -> str:
    with ctx.unit() as unit:
        create_user(unit, username=username, password=PASSWORD, roles=[role], actor="test")
        user = get_user(unit.session, username)
        return create_token(unit, user, name="traccar", days=1, max_days=10, actor="test").secret


@pytest.fixture
def feeder(ctx: AppContext) -> dict[str, str]:
    """The Traccar server's header: a tracking gateway's token, the role it is given."""
    return bearer(add_token(ctx, "traccar", Role.TRACKING_GATEWAY))


def traccar_time(at: datetime) -> str:
    """As Traccar's Jackson mapper writes a date: milliseconds and an offset."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+00:00"


def body(
    name: str,
    device: str,
    at: datetime,
    where: tuple[float, float] | None = None,
    position_id: int | None = None,
) -> dict[str, Any]:
    """A sample as Traccar would send it for ``device`` at ``at`` (and ``where``, lon/lat)."""
    data: dict[str, Any] = json.loads((DATA / name).read_text())
    data["device"]["uniqueId"] = device
    position = data.get("position")
    if position is not None:
        for key in ("fixTime", "deviceTime", "serverTime"):
            position[key] = traccar_time(at)
        if where is not None:
            position["longitude"], position["latitude"] = where
        if position_id is not None:
            position["id"] = position_id
    if "event" in data:
        data["event"]["eventTime"] = traccar_time(at)
    return data


def alerts(ctx: AppContext, device: str) -> list[AlertRow]:
    with ctx.db.session() as session:
        return list(session.scalars(select(AlertRow).where(AlertRow.device_id == device)))


def stored(ctx: AppContext, device: str) -> int:
    with ctx.db.session() as session:
        count = session.scalar(
            select(func.count()).select_from(PositionRow).where(PositionRow.device_id == device)
        )
    return int(count or 0)


def test_a_tamper_alarm_raises_an_alert_with_its_ledger_record_once(
    client: TestClient, ctx: AppContext, feeder: dict[str, str]
) -> None:
    import_packaged(ctx)
    transit = make_transit(ctx, "860000000000001")
    at = datetime.now(UTC) + timedelta(minutes=1)
    sent = body("position_tampering.json", "860000000000001", at, VOI)
    answer = client.post(POSITIONS, json=sent, headers=feeder)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "device_id": "860000000000001", "stored": True, "events": ["tamper"], "ignored": None
    }  # fmt: skip
    # Answered after the commit: the alert is there when the answer is.
    (alert,) = alerts(ctx, "860000000000001")
    assert (alert.transit_id, alert.type, alert.severity) == (transit, "tamper", "critical")
    assert (alert.latitude, alert.longitude) == (VOI[1], VOI[0])
    ledger_of(ctx).flush()
    ledger = ledger_of(ctx)
    records = [ledger.record(i) for i in range(ledger.size())]
    assert [r for r in records if r["type"] == "tracking.alert_raised"][-1]["alert_id"] == alert.id
    # Traccar retries, and the event forward brings the same alarm with the same position: the
    # store keeps one record, and the alert is neither repeated nor counted again.
    assert client.post(POSITIONS, json=sent, headers=feeder).status_code == 200
    event = body("event_alarm_tampering.json", "860000000000001", at, VOI)
    answer = client.post(EVENTS, json=event, headers=feeder)
    assert answer.status_code == 200 and answer.json()["events"] == ["tamper"]
    assert stored(ctx, "860000000000001") == 1
    (again,) = alerts(ctx, "860000000000001")
    assert again.count == 1
    assert intake_of(ctx).stats.stored == 3


def osmand_frame(device: str, at: datetime, where: tuple[float, float], knots: float) -> bytes:
    query = f"id={device}&lat={where[1]}&lon={where[0]}&timestamp={int(at.timestamp())}"
    return f"GET /?{query}&speed={knots}&bearing=300 HTTP/1.1\r\nHost: x\r\n\r\n".encode()


def test_the_corridor_judges_a_forward_as_it_judges_our_own_listener(
    client: TestClient, ctx: AppContext, feeder: dict[str, str]
) -> None:
    """The same drive, once forwarded by Traccar and once sent by an OsmAnd device to our
    writer: inside the corridor nothing, then off the route long enough — the same alert."""
    import_packaged(ctx)
    make_transit(ctx, "TRC-A", lrn="T-A")
    make_transit(ctx, "OSM-B", lrn="T-B")
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1)
    drive = [
        (start, VOI),
        (start + timedelta(minutes=1), NEAR_VOI_OFF_ROUTE),
        (start + timedelta(minutes=12), NEAR_VOI_OFF_ROUTE),
    ]
    osmand = get_protocol("osmand")
    writer = Ingestor(ctx)
    writer.start()
    try:
        for n, (at, where) in enumerate(drive):
            sent = body("position.json", "TRC-A", at, where, position_id=1000 + n)
            sent["position"]["speed"] = 20.0
            assert client.post(POSITIONS, json=sent, headers=feeder).status_code == 200
            done = threading.Event()
            records = osmand.decode(osmand_frame("OSM-B", at, where, 20.0)).records
            writer.submit_records(
                records, datetime.now(UTC), "osmand", "OSM-B", lambda ok, done=done: done.set()
            )
            assert done.wait(10)
            if n == 0:
                assert alerts(ctx, "TRC-A") == alerts(ctx, "OSM-B") == []
    finally:
        writer.stop()
    (ours,) = alerts(ctx, "OSM-B")
    (theirs,) = alerts(ctx, "TRC-A")

    def shape(a: AlertRow) -> tuple[Any, ...]:
        return (a.type, a.severity, a.status, a.count, a.occurred_at, a.latitude, a.longitude,
                a.details)  # fmt: skip

    assert ours.type == "route_deviation"
    assert shape(theirs) == shape(ours)


def test_only_a_feeder_s_token_is_taken(
    client: TestClient, ctx: AppContext, feeder: dict[str, str]
) -> None:
    sent = body("position.json", "860000000000001", datetime.now(UTC))
    assert client.post(POSITIONS, json=sent).status_code == 401
    forged = bearer("sct_AAAAAAAAAAAA_" + "B" * 43)
    assert client.post(POSITIONS, json=sent, headers=forged).status_code == 401
    operator = bearer(add_token(ctx, "operator", Role.COMMAND_CENTRE_OPERATOR))
    for path in (POSITIONS, EVENTS):
        refused = client.post(path, json=sent, headers=operator)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert stored(ctx, "860000000000001") == 0
    # An administrator's token is taken too (to try a feed by hand), and stores the same.
    admin = bearer(add_token(ctx, "admin", Role.ADMINISTRATOR))
    assert client.post(POSITIONS, json=sent, headers=admin).status_code == 200
    assert stored(ctx, "860000000000001") == 1


def test_bad_input_is_refused_naming_the_field(
    client: TestClient, ctx: AppContext, feeder: dict[str, str]
) -> None:
    sent = body("position.json", "860000000000001", datetime.now(UTC))
    sent["position"]["latitude"] = "3.4S"
    answer = client.post(POSITIONS, json=sent, headers=feeder)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "traccar_field" and error["details"][0]["field"] == "position.latitude"
    no_device = {"position": sent["position"]}
    answer = client.post(POSITIONS, json=no_device, headers=feeder)
    assert answer.json()["error"]["details"][0]["field"] == "device"
    event = body("event_device_offline.json", "868618052108909", datetime.now(UTC))
    del event["event"]["type"]
    answer = client.post(EVENTS, json=event, headers=feeder)
    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["field"] == "event.type"
    garbled = client.post(
        POSITIONS,
        content=b'{"position": {',
        headers={**feeder, "Content-Type": "application/json"},
    )
    assert garbled.status_code == 422
    listed = client.post(POSITIONS, json=[sent], headers=feeder)
    assert listed.status_code == 422
    assert stored(ctx, "860000000000001") == 0
    assert intake_of(ctx).stats.bad == 3


def test_status_events_are_acknowledged_and_not_stored(
    client: TestClient, ctx: AppContext, feeder: dict[str, str]
) -> None:
    offline = body("event_device_offline.json", "868618052108909", datetime.now(UTC))
    answer = client.post(EVENTS, json=offline, headers=feeder)
    assert answer.status_code == 200
    assert answer.json() == {
        "device_id": "868618052108909", "stored": False, "events": [], "ignored": "deviceOffline"
    }  # fmt: skip
    assert stored(ctx, "868618052108909") == 0


@pytest.fixture
def closed_ctx(settings: Settings) -> Iterator[AppContext]:
    """A context that refuses unknown devices (``tracking_accept_unknown_devices`` off)."""
    context = AppContext.from_settings(
        settings.model_copy(update={"tracking_accept_unknown_devices": False})
    )
    yield context
    context.close()


def test_unknown_devices_are_refused_as_the_listeners_refuse_them(
    closed_ctx: AppContext,
) -> None:
    header = bearer(add_token(closed_ctx, "traccar", Role.TRACKING_GATEWAY))
    with closed_ctx.unit() as unit:
        register_device(
            unit, "860000000000001", kind="e-seal", protocol=None, label=None, actor="test"
        )
    with TestClient(create_app(closed_ctx), raise_server_exceptions=False) as client:
        now = datetime.now(UTC)
        known = client.post(
            POSITIONS, json=body("position.json", "860000000000001", now), headers=header
        )
        assert known.status_code == 200, known.text
        unknown = client.post(
            POSITIONS, json=body("position.json", "860000000000999", now), headers=header
        )
        assert unknown.status_code == 403
        error = unknown.json()["error"]
        assert error["code"] == "unknown_device"
        assert error["details"] == [{"field": "device.uniqueId", "value": "860000000000999"}]
    assert stored(closed_ctx, "860000000000001") == 1 and stored(closed_ctx, "860000000000999") == 0
    assert intake_of(closed_ctx).stats.refused == 1


HOSTILE = "<b>\"'&x"  # a valid device id: no spaces, no / + #


def test_a_hostile_device_id_is_escaped_on_the_pages_in_french(
    client: TestClient, ctx: AppContext, feeder: dict[str, str]
) -> None:
    import_packaged(ctx)
    transit = make_transit(ctx, HOSTILE)
    sent = body("position_tampering.json", HOSTILE, datetime.now(UTC) + timedelta(minutes=1), VOI)
    sent["device"]["name"] = "<script>alert(1)</script>"
    answer = client.post(POSITIONS, json=sent, headers=feeder)
    assert answer.status_code == 200 and answer.json()["device_id"] == HOSTILE
    operator = bearer(add_token(ctx, "operator", Role.COMMAND_CENTRE_OPERATOR))
    page = client.get(
        f"/tracking/transits/{transit}",
        headers={**operator, "Accept": "text/html", "Accept-Language": "fr"},
    )
    assert page.status_code == 200
    assert "Manipulation" in page.text  # the tamper alert, in French
    assert "&lt;b&gt;&#34;&#39;&amp;x" in page.text and HOSTILE not in page.text
    assert "<script>alert(1)" not in page.text
