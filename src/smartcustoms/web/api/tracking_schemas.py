"""Request and response bodies of tracking's API (``XCreate`` / ``XPublic``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from smartcustoms.tracking.alerts import Outcome
from smartcustoms.web.params import INT32_MAX

__all__ = [
    "AlertAssign",
    "AlertComment",
    "AlertDetail",
    "AlertEscalate",
    "AlertNote",
    "AlertPublic",
    "AlertResolve",
    "DeviceCreate",
    "DevicePublic",
    "ImportPublic",
    "TrackPoint",
    "TransitCancel",
    "TransitCreate",
    "TransitDetail",
    "TransitDischarge",
    "TransitHandOver",
    "TransitPublic",
]


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TransitCreate(StrictBody):
    declaration_id: int = Field(
        ge=1, le=INT32_MAX, description="The stored declaration the transit is made from."
    )
    device_id: str = Field(min_length=1, max_length=32, description="The e-seal's device ID.")
    vehicle: str = Field(min_length=1, max_length=35, description="The truck's registration.")
    corridor: str = Field(min_length=1, max_length=32, description="Corridor code.")
    origin: str = Field(min_length=1, max_length=32, description="Zone code: office of departure.")
    destination: str = Field(
        min_length=1, max_length=32, description="Zone code: office of destination."
    )
    deadline: datetime | None = Field(None, description="When the goods must be at destination.")
    hours: float | None = Field(
        None, gt=0, le=24 * 60, description="Or: hours allowed from now (default 120)."
    )
    seal_number: str | None = Field(None, max_length=35)
    containers: list[str] | None = Field(
        None, max_length=99, description="ISO 6346 numbers; default: the declaration's."
    )
    reference: str | None = Field(
        None, max_length=70, description="Default: the declaration's MRN, or declarant-LRN."
    )

    @model_validator(mode="after")
    def _one_deadline(self) -> TransitCreate:
        if self.deadline is not None and self.hours is not None:
            raise ValueError("give deadline or hours, not both")
        if self.deadline is not None and self.deadline.tzinfo is None:
            raise ValueError("deadline: give a time zone (e.g. 2026-03-01T18:00:00Z)")
        return self


class TransitHandOver(StrictBody):
    border: str = Field(min_length=1, max_length=32, description="Zone code of the border post.")
    to_administration: str = Field(min_length=1, max_length=120)


class TransitDischarge(StrictBody):
    seal_intact: bool = True
    note: str = Field("", max_length=500)


class TransitCancel(StrictBody):
    reason: str = Field(min_length=1, max_length=500)


class TransitPublic(BaseModel):
    id: int
    reference: str
    declaration_id: int
    device_id: str
    seal_number: str | None
    vehicle: str
    containers: list[str]
    corridor: str | None
    origin: str
    destination: str
    deadline: str
    status: str
    responsible: str
    created_at: str
    created_by: str
    armed_at: str | None
    ended_at: str | None


class TransitDetail(TransitPublic):
    live: dict[str, Any] | None
    timeline: list[dict[str, Any]]
    alerts: list[dict[str, Any]]


class TrackPoint(BaseModel):
    time: str
    latitude: float
    longitude: float
    speed_kmh: float | None
    course: float | None
    valid: bool
    events: list[str]
    battery_level: float | None = None


class AlertPublic(BaseModel):
    id: int
    transit_id: int
    reference: str
    device_id: str
    type: str
    severity: str
    status: str
    raised_at: str
    received_at: str
    occurred_at: str
    last_occurred_at: str
    count: int
    latitude: float | None
    longitude: float | None
    details: dict[str, Any]
    assignee: str | None
    team: str | None
    outcome: str | None
    acknowledged_at: str | None
    resolved_at: str | None


class AlertDetail(AlertPublic):
    steps: list[dict[str, Any]]


class AlertNote(StrictBody):
    note: str | None = Field(None, max_length=2000)


class AlertAssign(StrictBody):
    assignee: str = Field(min_length=1, max_length=64)


class AlertComment(StrictBody):
    note: str = Field(min_length=1, max_length=2000)


class AlertEscalate(StrictBody):
    team: str = Field(min_length=1, max_length=64, description="The response team dispatched.")
    note: str | None = Field(None, max_length=2000)


class AlertResolve(StrictBody):
    outcome: Outcome
    note: str | None = Field(None, max_length=2000)


class DeviceCreate(StrictBody):
    device_id: str = Field(min_length=1, max_length=32, pattern=r"^[^\s/+#]+$")
    kind: str = Field("e-seal", pattern="^(e-seal|e-lock|tracker)$")
    protocol: str | None = Field(None, max_length=16)
    label: str | None = Field(None, max_length=120)


class DevicePublic(BaseModel):
    device_id: str
    kind: str
    protocol: str | None
    label: str | None
    registered_at: datetime
    registered_by: str
    disabled: bool


class ImportPublic(BaseModel):
    corridors: list[str]
    zones: list[str]
