"""The one normalised form every device protocol decodes to.

A :class:`Position` is one report from one device: where and when (if the message said), the
seal events it carries, and the raw values the device sent. Listeners store it, the pipeline
reads it; neither needs to know which protocol it came from.

Attribute keys are free-form raw values, except these, which every decoder that knows the value
writes with the same name and unit so that rules need not know the protocol:

==================  =========================================================
``locked``          bool: the lock/seal reports itself locked (state, not event)
``door_open``       bool: the door/shackle sensor reports open (state)
``cable_inserted``  bool: the steel cable sits in the lock (state)
``ignition``        bool
``charging``        bool
``battery_level``   percent, 0–100
``battery_voltage`` volts
``power_voltage``   external supply, volts
``odometer_m``      metres
``rssi``            the device's own signal figure, as sent
``index``           the device's message counter, as sent
==================  =========================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TypeAlias, cast

__all__ = [
    "DEVICE_ID_PATTERN",
    "AttrValue",
    "Attributes",
    "Position",
    "SealEvent",
    "events",
    "trusted_position",
    "valid_device_id",
]

#: A device id as the API accepts it (``tracking_schemas``) and listeners must too: 1-32
#: characters, no white space, no MQTT topic characters, no control characters.
DEVICE_ID_PATTERN = r"^[^\s/+#\x00-\x1f\x7f]{1,32}$"
_DEVICE_ID = re.compile(DEVICE_ID_PATTERN)


def valid_device_id(device_id: str) -> bool:
    return _DEVICE_ID.fullmatch(device_id) is not None


AttrValue: TypeAlias = (
    str | int | float | bool | Sequence["AttrValue"] | Mapping[str, "AttrValue"] | None
)
Attributes: TypeAlias = Mapping[str, AttrValue]


class SealEvent(StrEnum):
    """What happened to the seal or the truck, whatever the protocol called it.

    Events are things the device reports as alarms or transitions. Steady states (locked, door
    open) go in the attributes, so that a report every ten seconds does not read as a new event.
    """

    LOCKED = "locked"
    UNLOCKED = "unlocked"
    OPENED = "opened"  # door, shackle or seal body opened
    CLOSED = "closed"
    CABLE_CUT = "cable_cut"
    TAMPER = "tamper"  # casing opened, device removed or dropped, tamper switch
    LOW_BATTERY = "low_battery"
    POWER_CUT = "power_cut"  # external power lost or device switched off
    GPS_JAMMING = "gps_jamming"  # radio jamming (GNSS or GSM) detected
    GPS_ANTENNA_CUT = "gps_antenna_cut"
    VIBRATION = "vibration"  # shock sensor
    SOS = "sos"
    OVERSPEED = "overspeed"
    GEOFENCE_ENTER = "geofence_enter"
    GEOFENCE_EXIT = "geofence_exit"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 (an event name, not a secret)
    UNAUTHORIZED_CARD = "unauthorized_card"
    FAULT = "fault"  # the device reports a hardware fault (motor, GNSS module…)


_ORDER = {event: n for n, event in enumerate(SealEvent)}
_ZERO = timedelta(0)


def events(found: Iterable[SealEvent]) -> tuple[SealEvent, ...]:
    """Events without repeats, in the enum's order, so equal sets compare and print equal."""
    return tuple(sorted(set(found), key=_ORDER.__getitem__))


@dataclass(frozen=True, slots=True)
class Position:
    """One device report in normalised form.

    ``latitude``/``longitude`` are ``None`` when the message carried no location at all (a
    heartbeat, an OsmAnd request with cell towers only); a message that sent coordinates with
    an invalid fix keeps them and says ``valid=False``. ``device_id`` is ``None`` only when the
    frame does not name its device and the caller did not say (a Teltonika AVL packet decoded
    outside its TCP session). ``implausible`` names fields that failed the shared plausibility
    checks (``time``, ``speed``, ``course``); the record is kept so the device still gets its
    acknowledgement, and the pipeline decides what to trust.
    """

    device_id: str | None
    time: datetime
    latitude: float | None
    longitude: float | None
    speed_kmh: float | None = None
    course: float | None = None
    satellites: int | None = None
    valid: bool = False
    altitude: float | None = None
    events: tuple[SealEvent, ...] = ()
    attributes: Attributes = field(default_factory=dict, hash=False)
    implausible: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.time.utcoffset() != _ZERO:
            raise ValueError(f"Position.time must be aware UTC, got {self.time!r}")


class _Unfrozen:
    """A :class:`Position` under construction: the same slots, plain assignments (the frozen
    class's descriptors are called one by one otherwise). It becomes a Position by taking its
    class, which Python allows between classes of the same slots and base."""

    __slots__ = Position.__slots__

    def __init__(
        self,
        device_id: str | None,
        time: datetime,
        latitude: float | None,
        longitude: float | None,
        speed_kmh: float | None,
        course: float | None,
        satellites: int | None,
        valid: bool,
        altitude: float | None,
        events: tuple[SealEvent, ...],
        attributes: Attributes,
        implausible: tuple[str, ...],
    ) -> None:
        self.device_id = device_id
        self.time = time
        self.latitude = latitude
        self.longitude = longitude
        self.speed_kmh = speed_kmh
        self.course = course
        self.satellites = satellites
        self.valid = valid
        self.altitude = altitude
        self.events = events
        self.attributes = attributes
        self.implausible = implausible


_POSITION: type = Position  # assigned as a class below (mypy sees two unrelated classes)


def trusted_position(
    device_id: str | None,
    time: datetime,
    latitude: float | None,
    longitude: float | None,
    speed_kmh: float | None,
    course: float | None,
    satellites: int | None,
    valid: bool,
    altitude: float | None,
    events: tuple[SealEvent, ...],
    attributes: Attributes,
    implausible: tuple[str, ...],
) -> Position:
    """A :class:`Position` equal to ``Position(...)`` with the same values, built in less than
    a third of the time, for decoders on the hot path that already give ``time`` in UTC (it is not
    checked here). Every field is given: no defaults."""
    p = _Unfrozen(
        device_id,
        time,
        latitude,
        longitude,
        speed_kmh,
        course,
        satellites,
        valid,
        altitude,
        events,
        attributes,
        implausible,
    )
    p.__class__ = _POSITION
    return cast(Position, p)
