"""What tracking records: transit lifecycle steps, alerts and their workflow, corridor imports.

Each is a typed event published on the context's bus after its transaction commits; the ledger
subscribes to the bus and appends every event as a record (``ledger.service.attach_ledger``),
so these are the ledger records of tracking. Comments an operator types may name people: the
event carries their SHA-256, the text stays in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smartcustoms.core.events import Event

__all__ = [
    "AlertAcknowledged",
    "AlertAssigned",
    "AlertCommented",
    "AlertEscalated",
    "AlertRaised",
    "AlertResolved",
    "CorridorImported",
    "DeviceAssigned",
    "DeviceRegistered",
    "DeviceRetired",
    "TransitArmed",
    "TransitCancelled",
    "TransitCreated",
    "TransitDischarged",
    "TransitHandedOver",
]


@dataclass(frozen=True, kw_only=True)
class TransitCreated(Event):
    type: ClassVar[str] = "tracking.transit_created"
    transit_id: int
    reference: str
    declaration_id: int
    device_id: str
    seal_number: str | None
    vehicle: str
    containers: tuple[str, ...]
    corridor: str
    origin: str
    destination: str
    deadline: str


@dataclass(frozen=True, kw_only=True)
class TransitArmed(Event):
    type: ClassVar[str] = "tracking.transit_armed"
    transit_id: int
    reference: str
    device_id: str
    office: str


@dataclass(frozen=True, kw_only=True)
class TransitHandedOver(Event):
    type: ClassVar[str] = "tracking.transit_handed_over"
    transit_id: int
    reference: str
    border: str
    to_administration: str
    from_administration: str


@dataclass(frozen=True, kw_only=True)
class TransitDischarged(Event):
    type: ClassVar[str] = "tracking.transit_discharged"
    transit_id: int
    reference: str
    office: str
    at_destination: bool  # the seal's last position was inside the destination zone
    seal_intact: bool


@dataclass(frozen=True, kw_only=True)
class TransitCancelled(Event):
    type: ClassVar[str] = "tracking.transit_cancelled"
    transit_id: int
    reference: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class AlertRaised(Event):
    type: ClassVar[str] = "tracking.alert_raised"
    alert_id: int
    transit_id: int
    reference: str
    device_id: str
    alert_type: str
    severity: str
    occurred_at: str


@dataclass(frozen=True, kw_only=True)
class AlertAcknowledged(Event):
    type: ClassVar[str] = "tracking.alert_acknowledged"
    alert_id: int
    elapsed_ms: int  # since the alert was raised


@dataclass(frozen=True, kw_only=True)
class AlertAssigned(Event):
    type: ClassVar[str] = "tracking.alert_assigned"
    alert_id: int
    assignee: str
    elapsed_ms: int  # since the alert was raised


@dataclass(frozen=True, kw_only=True)
class AlertCommented(Event):
    type: ClassVar[str] = "tracking.alert_commented"
    alert_id: int
    note_sha256: str
    elapsed_ms: int  # since the alert was raised


@dataclass(frozen=True, kw_only=True)
class AlertEscalated(Event):
    type: ClassVar[str] = "tracking.alert_escalated"
    alert_id: int
    team: str
    elapsed_ms: int  # since the alert was raised


@dataclass(frozen=True, kw_only=True)
class AlertResolved(Event):
    type: ClassVar[str] = "tracking.alert_resolved"
    alert_id: int
    outcome: str
    elapsed_ms: int  # since the alert was raised


@dataclass(frozen=True, kw_only=True)
class CorridorImported(Event):
    type: ClassVar[str] = "tracking.corridor_imported"
    corridors: tuple[str, ...]
    zones: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class DeviceRegistered(Event):
    type: ClassVar[str] = "tracking.device_registered"
    device_id: str
    kind: str
    protocol: str | None


@dataclass(frozen=True, kw_only=True)
class DeviceAssigned(Event):
    """A transit not armed yet takes another device as its seal (``tracking.audit`` reads the
    transit's device from the latest of this record and ``transit_created``)."""

    type: ClassVar[str] = "tracking.transit_device_assigned"
    transit_id: int
    reference: str
    declaration_id: int
    device_id: str
    previous_device_id: str


@dataclass(frozen=True, kw_only=True)
class DeviceRetired(Event):
    type: ClassVar[str] = "tracking.device_retired"
    device_id: str
    reason: str
