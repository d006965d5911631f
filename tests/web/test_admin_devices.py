"""Devices, by administrators only: the overview with each device's transit, battery and last
report (/api/admin/devices, /admin/devices); registering one from the page; assigning one to
a transit not armed yet — never to a second transit that is not over —; retiring one. Each
change is a ledger record, and ``ledger fsck`` still finds the transits as their records say."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.ledger.audit import audit
from smartcustoms.ledger.service import ledger_of
from smartcustoms.tracking.audit import auditors
from smartcustoms.tracking.devices import register_device
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.tables import DeviceRow, TransitRow, TransitStepRow
from tests.conftest import add_user, login
from tests.tracking.helpers import VOI, import_packaged, incoming, make_transit, position
from tests.web.admin_helpers import NOT_ADMIN, records, sign_in
from tests.web.conftest import bearer


def _report(ctx: AppContext, device_id: str, **attributes: object) -> None:
    """One position from ``device_id`` through the real ingest writer."""
    writer = Ingestor(ctx)
    writer.start()
    done = threading.Event()
    at = datetime.now(UTC) - timedelta(minutes=1)
    writer.submit(
        [incoming(position(device_id, VOI, at=at, **attributes))], device_id, lambda ok: done.set()
    )
    assert done.wait(10)
    writer.stop()


def _register(ctx: AppContext, device_id: str) -> None:
    with ctx.unit() as unit:
        register_device(unit, device_id, kind="e-seal", protocol=None, label=None, actor="t")


def test_overview_shows_the_transit_battery_and_last_report(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    import_packaged(ctx)
    transit = make_transit(ctx, "SEAL-1")  # armed: its reports are stored
    _report(ctx, "SEAL-1", battery_level=64.0)
    _register(ctx, "SPARE-1")
    devices = client.get("/api/admin/devices", headers=bearer(role_tokens[Role.ADMINISTRATOR]))
    assert devices.status_code == 200, devices.text
    by_id = {d["device_id"]: d for d in devices.json()}
    sealed = by_id["SEAL-1"]
    assert sealed["transit_id"] == transit
    assert sealed["transit_status"] == "armed"
    assert sealed["battery_level"] == 64.0
    assert sealed["last_report_at"] is not None
    assert sealed["latitude"] == pytest.approx(VOI[1])
    spare = by_id["SPARE-1"]
    assert (spare["transit_id"], spare["battery_level"], spare["last_report_at"]) == (
        None,
        None,
        None,
    )


def test_assign_to_a_transit_not_armed_and_never_to_two(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]
) -> None:
    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    import_packaged(ctx)
    first = make_transit(ctx, "OLD-1", arm=False)
    second = make_transit(ctx, "OLD-2", arm=False)
    armed = make_transit(ctx, "OLD-3")
    _register(ctx, "NEW-1")

    assigned = client.post(
        "/api/admin/devices/NEW-1/assign", json={"transit_id": first}, headers=admin
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json() == {
        "transit_id": first,
        "reference": "BRK001-T-OLD-1",
        "device_id": "NEW-1",
    }

    # The same device on a second transit that is not over: refused, naming the device.
    twice = client.post(
        "/api/admin/devices/NEW-1/assign", json={"transit_id": second}, headers=admin
    )
    assert twice.status_code == 409, twice.text
    error = twice.json()["error"]
    assert error["details"][0]["field"] == "device_id"
    assert error["details"][0]["transit"] == "BRK001-T-OLD-1"
    # An armed transit keeps the seal on the truck.
    on_armed = client.post(
        "/api/admin/devices/OLD-1/assign", json={"transit_id": armed}, headers=admin
    )
    assert on_armed.status_code == 409
    assert on_armed.json()["error"]["details"][0]["field"] == "transit_id"
    # No such transit: 422 naming the field.
    missing = client.post(
        "/api/admin/devices/OLD-1/assign", json={"transit_id": 9999}, headers=admin
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["details"][0]["field"] == "transit_id"
    unknown = client.post(
        "/api/admin/devices/NOPE/assign", json={"transit_id": first}, headers=admin
    )
    assert unknown.status_code == 404

    with ctx.db.session() as session:
        row = session.get(TransitRow, first)
        assert row is not None and row.device_id == "NEW-1"
        assert session.get(TransitRow, second).device_id == "OLD-2"  # type: ignore[union-attr]
        steps = session.scalars(
            select(TransitStepRow.step).where(TransitStepRow.transit_id == first)
        ).all()
        assert steps == ["created", "device_assigned"]

    recorded = records(ctx, "tracking.transit_device_assigned")
    assert [(r["transit_id"], r["device_id"], r["previous_device_id"]) for r in recorded] == [
        (first, "NEW-1", "OLD-1")
    ]
    # The ledger's audit reads the transit's device from that record: no problem found.
    ledger_of(ctx).flush()
    report = audit(ctx.db, auditors())
    assert report.ok, report.problems
    assert report.checked["transits"] == 3


def test_retire_a_device(ctx: AppContext, client: TestClient, role_tokens: dict[Role, str]) -> None:
    admin = bearer(role_tokens[Role.ADMINISTRATOR])
    import_packaged(ctx)
    make_transit(ctx, "BUSY-1", arm=False)
    _register(ctx, "IDLE-1")

    busy = client.post("/api/admin/devices/BUSY-1/retire", json={"reason": "broken"}, headers=admin)
    assert busy.status_code == 409
    assert busy.json()["error"]["details"][0]["field"] == "device_id"
    blank = client.post("/api/admin/devices/IDLE-1/retire", json={"reason": "   "}, headers=admin)
    assert blank.status_code == 422
    assert blank.json()["error"]["details"][0]["field"] == "reason"

    retired = client.post(
        "/api/admin/devices/IDLE-1/retire", json={"reason": "lost at sea"}, headers=admin
    )
    assert retired.status_code == 200
    assert retired.json() == {"device_id": "IDLE-1", "retired": True}
    again = client.post("/api/admin/devices/IDLE-1/retire", json={"reason": "x"}, headers=admin)
    assert again.status_code == 409
    # A retired device seals nothing.
    second = make_transit(ctx, "OTHER-1", arm=False)
    refused = client.post(
        "/api/admin/devices/IDLE-1/assign", json={"transit_id": second}, headers=admin
    )
    assert refused.status_code == 409
    assert [(r["device_id"], r["reason"]) for r in records(ctx, "tracking.device_retired")] == [
        ("IDLE-1", "lost at sea")
    ]
    with ctx.db.session() as session:
        assert session.get(DeviceRow, "IDLE-1").disabled  # type: ignore[union-attr]


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_every_other_role_is_refused(
    ctx: AppContext, client: TestClient, role_tokens: dict[Role, str], role: Role
) -> None:
    _register(ctx, "D-1")
    headers = bearer(role_tokens[role])
    assert client.get("/api/admin/devices", headers=headers).status_code == 403
    assert (
        client.post("/api/admin/devices/D-1/assign", json={"transit_id": 1}, headers=headers)
    ).status_code == 403
    assert (
        client.post("/api/admin/devices/D-1/retire", json={"reason": "x"}, headers=headers)
    ).status_code == 403
    with ctx.db.session() as session:
        assert not session.get(DeviceRow, "D-1").disabled  # type: ignore[union-attr]


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found
    return found.group(1)


def test_the_page_registers_assigns_and_retires(ctx: AppContext, client: TestClient) -> None:
    import_packaged(ctx)
    waiting = make_transit(ctx, "PAGE-OLD", arm=False)
    add_user(ctx, "admin", Role.ADMINISTRATOR)
    csrf = login(client, "admin")
    page = client.get("/admin/devices")
    assert page.status_code == 200
    assert 'data-device="PAGE-OLD"' in page.text

    hostile = "<img src=x onerror=alert(1)>"
    refused = client.post(
        "/admin/devices",
        data={"csrf_token": csrf, "device_id": "X" * 40, "kind": "e-seal", "label": hostile},
    )
    assert refused.status_code == 422
    assert 'data-field="device_id"' in refused.text
    assert f'value="{"X" * 40}"' in refused.text  # the form keeps what was typed
    assert hostile not in refused.text and str(escape(hostile)) in refused.text
    bad_kind = client.post(
        "/admin/devices", data={"csrf_token": csrf, "device_id": "PAGE-NEW", "kind": "drone"}
    )
    assert bad_kind.status_code == 422 and 'data-field="kind"' in bad_kind.text

    added = client.post(
        "/admin/devices",
        data={"csrf_token": csrf, "device_id": "PAGE-NEW", "kind": "e-lock", "label": hostile},
        follow_redirects=True,
    )
    assert added.status_code == 200
    assert 'data-device="PAGE-NEW"' in added.text and hostile not in added.text
    assert "PAGE-NEW" in [r["device_id"] for r in records(ctx, "tracking.device_registered")]

    assigned = client.post(
        "/admin/devices/PAGE-NEW/assign",
        data={"csrf_token": csrf, "transit_id": str(waiting)},
        follow_redirects=True,
    )
    assert assigned.status_code == 200
    row = re.search(r'<tr data-device="PAGE-NEW">.*?</tr>', assigned.text, re.S)
    assert row and "BRK001-T-PAGE-OLD" in row.group(0)

    # PAGE-NEW seals that transit now: retiring it is refused, on the page, naming it.
    busy = client.post("/admin/devices/PAGE-NEW/retire", data={"csrf_token": csrf, "reason": "x"})
    assert busy.status_code == 409
    assert 'data-testid="row-error" data-device="PAGE-NEW"' in busy.text
    retired = client.post(
        "/admin/devices/PAGE-OLD/retire",
        data={"csrf_token": csrf, "reason": "battery swollen"},
        follow_redirects=True,
    )
    assert retired.status_code == 200
    assert [r["device_id"] for r in records(ctx, "tracking.device_retired")] == ["PAGE-OLD"]


@pytest.mark.parametrize("role", NOT_ADMIN)
def test_the_page_refuses_every_other_role(ctx: AppContext, client: TestClient, role: Role) -> None:
    csrf = sign_in(ctx, client, role)
    assert client.get("/admin/devices").status_code == 403
    posted = client.post(
        "/admin/devices", data={"csrf_token": csrf, "device_id": "Z-1", "kind": "e-seal"}
    )
    assert posted.status_code == 403
    with ctx.db.session() as session:
        assert session.get(DeviceRow, "Z-1") is None
