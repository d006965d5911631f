"""Traccar's JSON forwarding, read into the records our own device protocols decode to.

An administration or a tracking company that already runs Traccar (some 200 device protocols)
forwards to smartcustoms what its server decoded, instead of pointing every device at us. Two
forwards exist, both HTTP ``POST`` with a JSON body, one request per position or event (Traccar
does not batch), a ``2xx`` answer taking it as delivered:

* **positions** (``forward.type`` = ``json``): ``{"position": {...}, "device": {...}}`` —
  ``org.traccar.forward.PositionData``, posted by ``PositionForwarderJson``;
* **events** (``event.forward.type`` = ``json``, the default): ``{"event": {...},
  "position": {...}, "device": {...}}`` plus ``geofence`` / ``maintenance`` when the event has
  one — ``org.traccar.forward.EventData``, posted by ``EventForwarderJson``. ``position`` is
  absent for events without one (``deviceOnline``, ``deviceOffline``: ``positionId`` 0).

Both objects are ``@JsonInclude(NON_NULL)``; the models inside are written by Traccar's Jackson
mapper with dates as ISO 8601 text with an offset (``"2024-05-01T10:00:00.000+00:00"``).
Sources (traccar/traccar on GitHub, ``src/main/java/org/traccar/``): ``forward/PositionData.java``,
``forward/EventData.java``, ``forward/PositionForwarderJson.java``,
``forward/EventForwarderJson.java``, ``model/Position.java`` (keys, alarms, units),
``model/Event.java`` (types), ``config/Keys.java`` (``forward.*``, ``event.forward.*``); and
https://www.traccar.org/forward (the configuration keys). Samples: tests/tracking/data/traccar/.

Reading is lenient where Traccar versions differ and strict where a wrong value would mislead:
unknown fields are ignored (Traccar adds fields between versions), ``attributes`` may be ``{}``
or the ``[]`` older servers wrote for an empty map; a field we use that has the wrong type or is
out of range fails as :class:`TraccarFieldError` naming its path (``position.latitude``).

The device is ``device.uniqueId`` (the identifier the device itself sends, an IMEI mostly) —
the id transits and registered devices name here. Traccar's numeric ``deviceId`` is its own
database key and means nothing to us. The record:

==================  ==========================================================================
``time``            ``position.fixTime`` (else ``deviceTime``); for an event without a
                    position, ``event.eventTime``
latitude/longitude  as sent; kept when ``valid`` is false (as our decoders do), and ``valid``
                    is false too when Traccar marks the position ``outdated`` (a copy of the
                    last known fix attached to a later message)
``speed_kmh``       ``position.speed`` is in knots: × 1.852
``course``          ``position.course``; ``altitude``: ``position.altitude`` (metres)
``satellites``      ``attributes.sat``
``attributes``      the normalised keys our rules read — ``battery_level`` (``batteryLevel``),
                    ``battery_voltage`` (``battery``), ``power_voltage`` (``power``),
                    ``ignition``, ``charging`` (``charge``), ``door_open`` (``door``),
                    ``odometer_m`` (``odometer``), ``rssi``, ``index`` — and ``traccar``:
                    Traccar's own ``protocol``, ``positionId`` and ``attributes``, as sent
``events``          Traccar alarms (``attributes.alarm``, comma-separated when several) and
                    event types, as below
==================  ==========================================================================

Traccar alarm (``Position.ALARM_*``) or event type (``Event.TYPE_*``) → our
:class:`SealEvent` → the alert it raises on a transit (``rules.REPORT_RULES``):

========================================  ======================  ==============================
Traccar                                   ours                    alert
========================================  ======================  ==============================
``tampering``, ``removing``               ``tamper``              tamper
``powerCut``, ``powerOff``                ``power_cut``           tamper (a seal losing power)
``gpsAntennaCut``                         ``gps_antenna_cut``     tamper
``door``                                  ``opened``              seal opened (outside
                                                                  authorised zones)
``unlock``                                ``unlocked``            seal opened (same)
``lock``                                  ``locked``              —
``jamming``                               ``gps_jamming``         GPS jamming
``lowBattery``, ``lowPower``              ``low_battery``         low battery
``sos``                                   ``sos``                 —
``vibration``, ``shock``                  ``vibration``           —
``overspeed``, event ``deviceOverspeed``  ``overspeed``           —
``geofenceEnter`` (alarm or event)        ``geofence_enter``      —
``geofenceExit`` (alarm or event)         ``geofence_exit``       —
``fault``                                 ``fault``               —
========================================  ======================  ==============================

Traccar defines no cable-cut alarm (``model/Position.java``), so no forward raises our cable-cut
alert: a decoder that reports a cut cable as ``tampering`` or ``door`` raises tamper or seal
opened. Other alarms (``general``, ``movement``,
``accident``, ``hardBraking`` …) stay in the attributes with no event. An event forward whose
type maps to no seal event (``deviceOnline``, ``deviceOffline``, ``deviceMoving``,
``ignitionOn`` …) is acknowledged and not stored: the position forward carries the positions,
and our own clock rules watch for silence.

An alarm arrives twice when both forwards are on: in the position (``attributes.alarm``) and as
an ``alarm`` event with that position. Both read to the same record — the events come from the
position's alarm as well as the event's — so the store keeps one (same device, time and
content), as it does for a device's own retransmissions; Traccar's retries are the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.tracking.plausibility import implausible
from smartcustoms.tracking.records import AttrValue, Position, SealEvent, events, valid_device_id

__all__ = [
    "ALARMS",
    "EVENT_TYPES",
    "KNOTS_KMH",
    "Forwarded",
    "TraccarFieldError",
    "read_event",
    "read_position",
]

KNOTS_KMH: Final = 1.852  # Traccar's Position.speed is in knots (model/Position.java)

#: Traccar's ``Position.ALARM_*`` values we act on.
ALARMS: Final[Mapping[str, SealEvent]] = {
    "tampering": SealEvent.TAMPER,
    "removing": SealEvent.TAMPER,
    "powerCut": SealEvent.POWER_CUT,
    "powerOff": SealEvent.POWER_CUT,
    "gpsAntennaCut": SealEvent.GPS_ANTENNA_CUT,
    "door": SealEvent.OPENED,
    "unlock": SealEvent.UNLOCKED,
    "lock": SealEvent.LOCKED,
    "jamming": SealEvent.GPS_JAMMING,
    "lowBattery": SealEvent.LOW_BATTERY,
    "lowPower": SealEvent.LOW_BATTERY,
    "sos": SealEvent.SOS,
    "vibration": SealEvent.VIBRATION,
    "shock": SealEvent.VIBRATION,
    "overspeed": SealEvent.OVERSPEED,
    "geofenceEnter": SealEvent.GEOFENCE_ENTER,
    "geofenceExit": SealEvent.GEOFENCE_EXIT,
    "fault": SealEvent.FAULT,
}

#: Traccar's ``Event.TYPE_*`` values that are seal events by their type alone (``alarm`` events
#: say which alarm in ``attributes.alarm``).
EVENT_TYPES: Final[Mapping[str, SealEvent]] = {
    "geofenceEnter": SealEvent.GEOFENCE_ENTER,
    "geofenceExit": SealEvent.GEOFENCE_EXIT,
    "deviceOverspeed": SealEvent.OVERSPEED,
}

# Traccar attribute → (our normalised key, the Python types it must have to be copied).
_NORMALISED: Final[Mapping[str, tuple[str, tuple[type, ...]]]] = {
    "batteryLevel": ("battery_level", (int, float)),
    "battery": ("battery_voltage", (int, float)),
    "power": ("power_voltage", (int, float)),
    "ignition": ("ignition", (bool,)),
    "charge": ("charging", (bool,)),
    "door": ("door_open", (bool,)),
    "odometer": ("odometer_m", (int, float)),
    "rssi": ("rssi", (int, float)),
    "index": ("index", (int,)),
}
_MAX_TEXT: Final = 256  # longest protocol name or alarm list we keep


class TraccarFieldError(ValidationFailed):
    """A forwarded JSON field we need is missing, of the wrong type or out of range."""

    code = "traccar_field"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", details=[{"field": field, "problem": problem}])
        self.field = field


@dataclass(frozen=True, slots=True)
class Forwarded:
    """One forwarded request, read: whose it is, and the record to store (``None``: nothing to
    store, e.g. a ``deviceOnline`` event; ``ignored`` says why)."""

    device_id: str
    device_name: str | None
    record: Position | None
    ignored: str | None = None


# --- field readers (each names the path it reads) ---------------------------------------------


def _object(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise TraccarFieldError(field, "must be a JSON object")
    return value


def _attributes(parent: Mapping[str, Any], field: str) -> Mapping[str, Any]:
    value = parent.get("attributes")
    if value is None or value == []:  # older servers wrote an empty map as []
        return {}
    return _object(value, field)


def _number(
    obj: Mapping[str, Any], key: str, field: str, *, low: float, high: float, default: float | None
) -> float | None:
    value = obj.get(key)
    if value is None:
        return default
    # bool is an int in Python; JSON true is not a number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TraccarFieldError(field, "must be a number")
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise TraccarFieldError(field, f"must be within {low:g} to {high:g}")
    return number


def _bool(obj: Mapping[str, Any], key: str, field: str, default: bool) -> bool:
    value = obj.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise TraccarFieldError(field, "must be true or false")
    return value


def _text(obj: Mapping[str, Any], key: str, field: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise TraccarFieldError(field, "must be a string")
    return value


def _time(obj: Mapping[str, Any], key: str, field: str) -> datetime | None:
    text = _text(obj, key, field)
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise TraccarFieldError(field, "must be an ISO 8601 time with an offset") from None
    if value.tzinfo is None:
        # A time without an offset could be any zone's: Traccar always writes one.
        raise TraccarFieldError(field, "must be an ISO 8601 time with an offset")
    return value.astimezone(UTC)


def _device(body: Mapping[str, Any]) -> tuple[str, str | None]:
    device = _object(body.get("device"), "device")
    unique_id = device.get("uniqueId")
    if not isinstance(unique_id, str):
        raise TraccarFieldError("device.uniqueId", "must be a string")
    if not valid_device_id(unique_id):
        raise TraccarFieldError(
            "device.uniqueId",
            "must be 1 to 32 characters without spaces, control characters, / + or #",
        )
    return unique_id, _text(device, "name", "device.name")


def _alarms(attributes: Mapping[str, Any], field: str) -> list[SealEvent]:
    text = _text(attributes, "alarm", field)
    if not text:
        return []
    # Position.addAlarm joins several alarms with commas.
    return [ALARMS[a] for a in (part.strip() for part in text.split(",")) if a in ALARMS]


def _position(
    position: Mapping[str, Any], extra: list[SealEvent], received_at: datetime
) -> Position:
    attributes = _attributes(position, "position.attributes")
    time = _time(position, "fixTime", "position.fixTime") or _time(
        position, "deviceTime", "position.deviceTime"
    )
    if time is None:
        raise TraccarFieldError("position.fixTime", "is required")
    latitude = _number(position, "latitude", "position.latitude", low=-90, high=90, default=None)
    longitude = _number(
        position, "longitude", "position.longitude", low=-180, high=180, default=None
    )
    if (latitude is None) != (longitude is None):
        missing = "position.latitude" if latitude is None else "position.longitude"
        raise TraccarFieldError(missing, "is required with the other coordinate")
    knots = _number(position, "speed", "position.speed", low=0, high=1e6, default=None)
    speed = None if knots is None else knots * KNOTS_KMH
    course = _number(position, "course", "position.course", low=-1e6, high=1e6, default=None)
    altitude = _number(position, "altitude", "position.altitude", low=-1e6, high=1e6, default=None)
    sat = _number(attributes, "sat", "position.attributes.sat", low=0, high=32767, default=None)
    valid = _bool(position, "valid", "position.valid", False)
    outdated = _bool(position, "outdated", "position.outdated", False)
    protocol = _text(position, "protocol", "position.protocol")
    if protocol is not None and len(protocol) > _MAX_TEXT:
        raise TraccarFieldError("position.protocol", f"must be at most {_MAX_TEXT} characters")
    position_id = position.get("id")
    if position_id is not None and (
        isinstance(position_id, bool) or not isinstance(position_id, int) or position_id < 0
    ):
        raise TraccarFieldError("position.id", "must be a whole number, 0 or more")
    found = _alarms(attributes, "position.attributes.alarm") + extra
    values: dict[str, AttrValue] = {}
    for key, (ours, types) in _NORMALISED.items():
        value = attributes.get(key)
        if isinstance(value, types) and not (bool not in types and isinstance(value, bool)):
            values[ours] = attributes[key]
    values["traccar"] = {
        "protocol": protocol,
        "positionId": position_id,
        "attributes": dict(attributes),
    }
    return Position(
        device_id=None,  # set by the caller, from device.uniqueId
        time=time,
        latitude=latitude,
        longitude=longitude,
        speed_kmh=speed,
        course=course,
        satellites=None if sat is None else int(sat),
        valid=valid and not outdated and latitude is not None,
        altitude=altitude,
        events=events(found),
        attributes=values,
        implausible=implausible(time, speed, course, received_at),
    )


def _named(record: Position, device_id: str) -> Position:
    return Position(
        device_id=device_id,
        time=record.time,
        latitude=record.latitude,
        longitude=record.longitude,
        speed_kmh=record.speed_kmh,
        course=record.course,
        satellites=record.satellites,
        valid=record.valid,
        altitude=record.altitude,
        events=record.events,
        attributes=record.attributes,
        implausible=record.implausible,
    )


# --- the two forwards -------------------------------------------------------------------------


def read_position(body: Any, received_at: datetime) -> Forwarded:
    """A position forward (``PositionData``): its device and its record."""
    body = _object(body, "body")
    device_id, name = _device(body)
    position = _object(body.get("position"), "position")
    record = _position(position, [], received_at)
    return Forwarded(device_id, name, _named(record, device_id))


def read_event(body: Any, received_at: datetime) -> Forwarded:
    """An event forward (``EventData``): its device and, when the event is a seal event, the
    record to store (the event's position with the event's seal events)."""
    body = _object(body, "body")
    device_id, name = _device(body)
    event = _object(body.get("event"), "event")
    kind = _text(event, "type", "event.type")
    if not kind:
        raise TraccarFieldError("event.type", "is required")
    found = _alarms(_attributes(event, "event.attributes"), "event.attributes.alarm")
    if kind in EVENT_TYPES:
        found.append(EVENT_TYPES[kind])
    position = body.get("position")
    if position is not None:
        record = _position(_object(position, "position"), found, received_at)
    elif found:
        time = _time(event, "eventTime", "event.eventTime")
        if time is None:
            raise TraccarFieldError("event.eventTime", "is required when there is no position")
        record = Position(
            device_id=None,
            time=time,
            latitude=None,
            longitude=None,
            events=events(found),
            attributes={"traccar": {"event": kind}},
            implausible=implausible(time, None, None, received_at),
        )
    else:
        record = None
    if record is None or not record.events:
        return Forwarded(device_id, name, None, ignored=kind[:_MAX_TEXT])
    return Forwarded(device_id, name, _named(record, device_id))
