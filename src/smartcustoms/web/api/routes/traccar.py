"""Traccar's JSON forwarding: positions and events from a Traccar server, into our pipeline.

Thin: the body is read and stored by :mod:`smartcustoms.tracking.traccar`; the answer (a
``2xx``, which Traccar takes as delivered) is sent only after the record is committed.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel

from smartcustoms.core.roles import Role
from smartcustoms.tracking.traccar import TraccarIntake, intake_of
from smartcustoms.tracking.traccar.intake import Receipt
from smartcustoms.web.auth import context
from smartcustoms.web.policy import requires

__all__ = ["TELEMETRY_FEEDERS", "router"]

router = APIRouter(prefix="/api/tracking/traccar", tags=["tracking"])

#: Who may feed telemetry: a tracking gateway — the Traccar server's own account, a machine
#: role that opens nothing else, so a leaked ``traccar.xml`` token can feed positions but read
#: or change nothing — and the administrators who register devices (to test a feed by hand).
TELEMETRY_FEEDERS: Final = frozenset({Role.TRACKING_GATEWAY, Role.ADMINISTRATOR})

_POSITION_EXAMPLE: Final = {
    "position": {
        "id": 1021,
        "attributes": {"batteryLevel": 87, "ignition": True, "alarm": "tampering"},
        "deviceId": 7,
        "protocol": "jt600",
        "serverTime": "2024-05-01T10:00:02.000+00:00",
        "deviceTime": "2024-05-01T10:00:00.000+00:00",
        "fixTime": "2024-05-01T10:00:00.000+00:00",
        "outdated": False,
        "valid": True,
        "latitude": -3.39605,
        "longitude": 38.55609,
        "altitude": 560.0,
        "speed": 32.4,
        "course": 300.0,
        "address": None,
        "accuracy": 0.0,
        "network": None,
    },
    "device": {"id": 7, "name": "KBX 123A seal", "uniqueId": "860000000000001"},
}
_EVENT_EXAMPLE: Final = {
    "event": {
        "id": 55,
        "attributes": {"alarm": "tampering"},
        "deviceId": 7,
        "type": "alarm",
        "eventTime": "2024-05-01T10:00:00.000+00:00",
        "positionId": 1021,
        "geofenceId": 0,
        "maintenanceId": 0,
    },
    **_POSITION_EXAMPLE,
}


class TraccarReceipt(BaseModel):
    device_id: str
    stored: bool
    events: list[str]
    ignored: str | None = None


def _intake(request: Request) -> TraccarIntake:
    # A plain function: FastAPI runs it in a worker thread, where the first call may start the
    # writer (it reads the monitored transits) without holding up the event loop.
    return intake_of(context(request))


IntakeDep = Annotated[TraccarIntake, Depends(_intake)]


def _public(receipt: Receipt) -> TraccarReceipt:
    return TraccarReceipt(
        device_id=receipt.device_id,
        stored=receipt.stored,
        events=list(receipt.events),
        ignored=receipt.ignored,
    )


@router.post(
    "/positions",
    summary="Traccar position forwarding (forward.type json)",
    description="The body Traccar's `PositionForwarderJson` posts: `{position, device}`. "
    "Answered after the position is stored; `device.uniqueId` is the device id.",
)
@requires(TELEMETRY_FEEDERS)
async def positions(
    body: Annotated[
        dict[str, Any],
        Body(openapi_examples={"tamper": {"value": _POSITION_EXAMPLE}}),
    ],
    intake: IntakeDep,
) -> TraccarReceipt:
    return _public(await intake.receive(body, event=False))


@router.post(
    "/events",
    summary="Traccar event forwarding (event.forward.type json)",
    description="The body Traccar's `EventForwarderJson` posts: `{event, position, device}`. "
    "Seal events (alarms, geofences, overspeed) are stored with their position; other events "
    "are acknowledged and not stored (`ignored`).",
)
@requires(TELEMETRY_FEEDERS)
async def events(
    body: Annotated[
        dict[str, Any],
        Body(openapi_examples={"alarm": {"value": _EVENT_EXAMPLE}}),
    ],
    intake: IntakeDep,
) -> TraccarReceipt:
    return _public(await intake.receive(body, event=True))
