"""The MQTT topic scheme, version 1, for gateways and modern devices.

Topics (``<prefix>`` is the setting ``tracking_mqtt_topic_prefix``, ``smartcustoms`` by default;
``<device>`` is the device ID, 1–32 characters without ``/``, ``+`` or ``#``):

``<prefix>/v1/devices/<device>/positions``
    A JSON payload: one record object, an array of them, or ``{"records": [...]}`` (at most
    1,000). A record::

        {"time": "2026-03-01T08:15:00Z",      # ISO 8601 with zone, or Unix milliseconds
         "latitude": -1.2833, "longitude": 36.8167,   # both or neither
         "speed_kmh": 62.5, "course": 270, "satellites": 9, "valid": true,
         "altitude_m": 1650,
         "events": ["opened", "low_battery"],  # normalised seal events (SealEvent values)
         "attributes": {"battery_level": 81, "locked": true}}

    Only ``time`` is required. ``valid`` defaults to true when coordinates are given.

``<prefix>/v1/devices/<device>/frames/<protocol>``
    Raw bytes exactly as the device would send them to that protocol's TCP listener (one or
    several frames, e.g. a gateway relaying a JT/T 808 e-lock). The topic names the device, so
    protocols whose frames do not (Teltonika AVL, GT06 locations) need no login frame.

Publish with QoS 1. The ingest worker acknowledges (PUBACK) only after the records are
committed, so the broker keeps a message until it is stored; a worker that dies before that
gets it again when it reconnects (its session is persistent). QoS 0 messages are stored but can
be lost in transit. Workers share the load through the MQTT 5 shared subscription
``$share/<group>/<prefix>/v1/devices/#``. Future versions get a new ``v2`` segment; ``v1`` stays.

``<prefix>/v1/workers/<digest>/gone``
    Not for devices: each ingest worker in a share group leaves this as its will (the payload
    is its client ID). The broker publishes it when the worker vanishes without leaving the
    group and does not come back within ``tracking_mqtt_reap_after_s``; one surviving worker
    then takes over the vanished one's session and stores what the broker queued for it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.plausibility import check_coordinates, implausible
from smartcustoms.tracking.protocols import PROTOCOLS, Context
from smartcustoms.tracking.protocols.datetimes import from_epoch_ms
from smartcustoms.tracking.records import AttrValue, Position, SealEvent, events

__all__ = [
    "MAX_PAYLOAD",
    "MAX_RECORDS",
    "SCHEME_VERSION",
    "Parsed",
    "decode_message",
    "frames_topic",
    "is_worker_gone",
    "positions_topic",
    "subscription",
    "worker_gone_subscription",
    "worker_gone_topic",
]

SCHEME_VERSION: Final = "v1"
MAX_RECORDS: Final = 1000
MAX_PAYLOAD: Final = 256 * 1024
_FORBIDDEN: Final = frozenset("/+#")


def positions_topic(prefix: str, device_id: str) -> str:
    return f"{prefix}/{SCHEME_VERSION}/devices/{device_id}/positions"


def frames_topic(prefix: str, device_id: str, protocol: str) -> str:
    return f"{prefix}/{SCHEME_VERSION}/devices/{device_id}/frames/{protocol}"


def subscription(prefix: str, share_group: str | None) -> str:
    topic = f"{prefix}/{SCHEME_VERSION}/devices/#"
    return f"$share/{share_group}/{topic}" if share_group else topic


def worker_gone_topic(prefix: str, client_id: str) -> str:
    """Where the broker announces an ingest worker that vanished (its will). A client ID may
    hold characters a topic level may not, so the level is a digest; the payload is the ID."""
    digest = hashlib.sha256(client_id.encode()).hexdigest()[:16]
    return f"{prefix}/{SCHEME_VERSION}/workers/{digest}/gone"


def worker_gone_subscription(prefix: str, share_group: str) -> str:
    """One surviving worker of the group gets each announcement (a share group of its own)."""
    return f"$share/{share_group}-reapers/{prefix}/{SCHEME_VERSION}/workers/+/gone"


def is_worker_gone(topic: str, prefix: str) -> bool:
    return topic.startswith(f"{prefix}/{SCHEME_VERSION}/workers/") and topic.endswith("/gone")


class Parsed:
    """A decoded MQTT message: the device and its records (``kind`` says which topic)."""

    __slots__ = ("device_id", "kind", "protocol", "records")

    def __init__(
        self, device_id: str, kind: str, records: tuple[Position, ...], protocol: str
    ) -> None:
        self.device_id = device_id
        self.kind = kind
        self.records = records
        self.protocol = protocol


def decode_message(
    topic: str, payload: bytes, *, prefix: str, received_at: datetime
) -> Parsed | None:
    """The records of one MQTT message; None if the topic is not ours. FrameError if bad."""
    head = f"{prefix}/{SCHEME_VERSION}/devices/"
    if not topic.startswith(head):
        return None
    parts = topic[len(head) :].split("/")
    device_id = parts[0]
    if not 1 <= len(device_id) <= 32 or _FORBIDDEN & set(device_id):
        raise FrameError(0, "a device ID of 1 to 32 characters in the topic", repr(device_id))
    if len(payload) > MAX_PAYLOAD:
        raise FrameError(MAX_PAYLOAD, f"a payload of at most {MAX_PAYLOAD} bytes", "more")
    if parts[1:] == ["positions"]:
        records = _decode_json(payload, device_id, received_at)
        return Parsed(device_id, "positions", records, "mqtt")
    if len(parts) == 3 and parts[1] == "frames":
        protocol = PROTOCOLS.get(parts[2])
        if protocol is None or "http" in protocol.transports:
            raise FrameError(0, f"a stream protocol ({', '.join(PROTOCOLS)})", repr(parts[2]))
        return Parsed(
            device_id,
            "frames",
            _decode_frames(protocol.name, payload, device_id, received_at),
            protocol.name,
        )
    raise FrameError(0, "…/positions or …/frames/<protocol> in the topic", repr(topic))


def _decode_frames(
    name: str, payload: bytes, device_id: str, received_at: datetime
) -> tuple[Position, ...]:
    protocol = PROTOCOLS[name]
    framing = protocol.frame(payload)
    if framing.errors:
        raise framing.errors[0]
    if framing.consumed < len(payload):
        raise FrameError(framing.consumed, "a complete frame", "the payload ends inside one")
    context = Context(device_id=device_id, received_at=received_at)
    records: list[Position] = []
    for frame in framing.frames:
        try:
            message = protocol.decode(frame.data, context)
        except FrameError as error:
            raise error.shifted(frame.offset) from None
        if message.utc_offset is not None:
            context = Context(
                device_id=device_id, received_at=received_at, utc_offset=message.utc_offset
            )
        records.extend(message.records)
    return tuple(records)


def _decode_json(payload: bytes, device_id: str, received_at: datetime) -> tuple[Position, ...]:
    try:
        root = json.loads(payload)
    except UnicodeDecodeError as error:
        raise FrameError(
            error.start, "UTF-8 JSON", payload[error.start : error.start + 1].hex()
        ) from None
    except json.JSONDecodeError as error:
        raise FrameError(
            error.pos, f"JSON ({error.msg})", repr(error.doc[error.pos : error.pos + 10])
        ) from None
    if isinstance(root, Mapping) and "records" in root:
        root = root["records"]
    items = root if isinstance(root, list) else [root]
    if not 1 <= len(items) <= MAX_RECORDS:
        raise FrameError(0, f"1 to {MAX_RECORDS} records", str(len(items)))
    return tuple(_record(item, n, device_id, received_at) for n, item in enumerate(items))


def _record(item: Any, n: int, device_id: str, received_at: datetime) -> Position:
    where = f"records[{n}]"
    if not isinstance(item, Mapping):
        raise FrameError(0, f"{where}: a JSON object", type(item).__name__)
    time = _time(item.get("time"), where)
    latitude = _number(item, "latitude", where)
    longitude = _number(item, "longitude", where)
    if (latitude is None) != (longitude is None):
        raise FrameError(0, f"{where}: both latitude and longitude, or neither", "only one")
    if latitude is not None and longitude is not None:
        check_coordinates(latitude, longitude, 0)
    speed = _number(item, "speed_kmh", where)
    course = _number(item, "course", where)
    satellites = item.get("satellites")
    if satellites is not None and (isinstance(satellites, bool) or not isinstance(satellites, int)):
        raise FrameError(0, f"{where}.satellites: an integer", repr(satellites))
    valid = item.get("valid", latitude is not None)
    if not isinstance(valid, bool):
        raise FrameError(0, f"{where}.valid: true or false", repr(valid))
    found = []
    raw_events = item.get("events", [])
    if not isinstance(raw_events, list):
        raise FrameError(0, f"{where}.events: a list", type(raw_events).__name__)
    for event in raw_events:
        if event not in SealEvent._value2member_map_:
            raise FrameError(
                0, f"{where}.events: seal events ({', '.join(SealEvent)})", repr(event)
            )
        found.append(SealEvent(event))
    attributes = item.get("attributes", {})
    if not isinstance(attributes, Mapping):
        raise FrameError(0, f"{where}.attributes: an object", type(attributes).__name__)
    clean: dict[str, AttrValue] = dict(attributes)
    return Position(
        device_id=device_id,
        time=time,
        latitude=latitude,
        longitude=longitude,
        speed_kmh=speed,
        course=course,
        satellites=satellites,
        valid=valid and latitude is not None,
        altitude=_number(item, "altitude_m", where),
        events=events(found) if found else (),
        attributes=clean,
        implausible=implausible(time, speed, course, received_at),
    )


def _number(item: Mapping[str, Any], key: str, where: str) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise FrameError(0, f"{where}.{key}: a number", repr(value))
    return float(value)


def _time(value: Any, where: str) -> datetime:
    if isinstance(value, int) and not isinstance(value, bool):
        return from_epoch_ms(value, offset=0)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is not None:
            return parsed.astimezone(UTC)
    raise FrameError(0, f"{where}.time: ISO 8601 with a zone, or Unix milliseconds", repr(value))
