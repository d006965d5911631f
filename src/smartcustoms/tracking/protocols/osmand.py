"""OsmAnd / Traccar Client over HTTP: one request, one report.

Positions arrive as query parameters (GET or POST, or a form body), e.g.
``/?id=123456&lat=60.0&lon=30.0&timestamp=1377177267&speed=0.0``, or as a JSON body in the
Transistor background-geolocation shape that newer Traccar Client versions send. Parameters
follow traccar: ``id``/``deviceid`` (required), ``timestamp`` (Unix seconds, milliseconds past
2³¹, ISO 8601, or ``yyyy-mm-dd hh:mm:ss`` UTC; missing means now), ``lat``/``lon`` or
``location=lat,lon``, ``speed`` in knots, ``bearing``/``heading``, ``altitude``, ``accuracy``,
``hdop``, ``batt`` (%), ``charge``, ``valid``, repeatable ``cell`` and ``wifi``; any other
parameter becomes an attribute. The answer is ``HTTP 200``; a request without an id is refused.

:func:`decode` takes a whole HTTP request, a bare request line (``GET /?…``), a query string or
a JSON body; :func:`decode_request` serves an HTTP server that has already parsed the request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import unquote_plus

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.plausibility import check_coordinates, implausible
from smartcustoms.tracking.protocols.base import Context, Frame, Framing, Message, MessageKind
from smartcustoms.tracking.protocols.datetimes import from_epoch_ms
from smartcustoms.tracking.records import AttrValue, Position

__all__ = ["MAX_FRAME", "decode", "decode_request", "encode_response", "frame"]

_MAX_HEADER: Final = 8192
_MAX_BODY: Final = 65_536
MAX_FRAME: Final = _MAX_HEADER + _MAX_BODY
_KNOTS: Final = 1.852  # km/h per knot
_DEFAULT_CONTEXT: Final = Context()
_REQUEST_LINE: Final = re.compile(r"([A-Z]{3,7}) (\S+)(?: HTTP/\d\.\d)?(?:\r?\n|$)")
_HTTP_REQUEST_LINE: Final = re.compile(r"[A-Z]{3,7} \S+ HTTP/\d\.\d(?:\r\n|$)")
_NUMBER: Final = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_REASONS: Final = {200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large"}


def encode_response(status: int = 200) -> bytes:
    """The whole HTTP/1.1 answer: a status line and an empty body."""
    reason = _REASONS.get(status, "Error")
    return f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\n\r\n".encode("ascii")


# --- framing (HTTP/1.1 requests on a TCP stream) ------------------------------------------------


def frame(buffer: bytes | bytearray | memoryview) -> Framing:
    """Cut HTTP/1.1 requests (headers and a Content-Length body) from a TCP byte stream."""
    buf = bytes(buffer)
    n = len(buf)
    pos = 0
    frames: list[Frame] = []
    errors: list[FrameError] = []
    while pos < n:
        head_end = buf.find(b"\r\n\r\n", pos, pos + _MAX_HEADER)
        if head_end < 0:
            if n - pos >= _MAX_HEADER:
                errors.append(
                    FrameError(pos, "HTTP headers ending in a blank line", "8 KiB without")
                )
                pos = _next_line(buf, pos)
                continue
            break
        head = buf[pos:head_end].decode("latin-1")
        if not _HTTP_REQUEST_LINE.match(head):
            errors.append(FrameError(pos, "an HTTP/1.x request line", repr(head[:20])))
            pos = head_end + 4
            continue
        length = _content_length(head, pos, errors)
        if length < 0:
            pos = head_end + 4
            continue
        end = head_end + 4 + length
        if end > n:
            break
        frames.append(Frame(buf[pos:end], pos))
        pos = end
    return Framing(tuple(frames), pos, tuple(errors))


def _next_line(buf: bytes, pos: int) -> int:
    nxt = buf.find(b"\n", pos)
    return len(buf) if nxt < 0 else nxt + 1


def _content_length(head: str, offset: int, errors: list[FrameError]) -> int:
    """The body length the headers announce (0 if none); -1 after recording an error."""
    length = 0
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "transfer-encoding":
            errors.append(
                FrameError(offset, "a Content-Length body", f"Transfer-Encoding {value.strip()}")
            )
            return -1
        if name == "content-length":
            value = value.strip()
            if not value.isdigit() or int(value) > _MAX_BODY:
                errors.append(FrameError(offset, f"Content-Length up to {_MAX_BODY}", repr(value)))
                return -1
            length = int(value)
    return length


# --- decoding ----------------------------------------------------------------------------------


def decode(frame: bytes, context: Context = _DEFAULT_CONTEXT) -> Message:
    """A whole request, a request line, a query string or a JSON body."""
    try:
        text = frame.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FrameError(
            error.start, "UTF-8 text", frame[error.start : error.start + 1].hex()
        ) from None
    line = _REQUEST_LINE.match(text)
    if line is None:
        stripped = text.lstrip()
        if stripped.startswith(("{", "[")):
            return _decode_json(text, len(text) - len(stripped), context)
        base = len(text) - len(text.lstrip("/?"))
        return _decode_query(text[base:], base, context)
    target = line.group(2)
    question = target.find("?")
    query = target[question + 1 :] if question >= 0 else ""
    query_at = line.start(2) + question + 1
    head_end = text.find("\r\n\r\n")
    body = text[head_end + 4 :] if head_end >= 0 else ""
    return _dispatch(query, query_at, body, head_end + 4, context)


def decode_request(query: str, body: bytes = b"", context: Context = _DEFAULT_CONTEXT) -> Message:
    """A request an HTTP server has parsed: its raw query string and body.

    Error offsets count from the start of the query string, or of the body when the query is
    empty and the body is read instead.
    """
    try:
        body_text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise FrameError(
            error.start, "UTF-8 text", body[error.start : error.start + 1].hex()
        ) from None
    return _dispatch(query, 0, body_text, 0, context)


def _dispatch(query: str, query_at: int, body: str, body_at: int, context: Context) -> Message:
    if query or not body.strip():
        return _decode_query(query, query_at, context)
    if body.lstrip().startswith(("{", "[")):
        return _decode_json(body, body_at, context)
    return _decode_query(body.strip(), body_at, context)


def _decode_query(query: str, base: int, context: Context) -> Message:
    params: list[tuple[str, str, int]] = []
    at = base
    for pair in query.split("&"):
        if pair:
            key, equals, value = pair.partition("=")
            params.append((unquote_plus(key), unquote_plus(value), at + len(key) + len(equals)))
        at += len(pair) + 1
    device_id = None
    for key, value, _ in params:
        if key in ("id", "deviceid"):
            device_id = value
    if not device_id:
        raise FrameError(base, "an id or deviceid parameter", repr(query[:40]) if query else "none")
    now = context.now()
    time = now
    latitude = longitude = speed = course = altitude = None
    valid: bool | None = None
    attributes: dict[str, AttrValue] = {}
    cells: list[AttrValue] = []
    wifis: list[AttrValue] = []
    for key, value, offset in params:
        if key in ("id", "deviceid"):
            continue
        if key == "valid":
            valid = value.lower() == "true" or value == "1"
        elif key == "timestamp":
            time = _timestamp(value, offset)
        elif key == "lat":
            latitude = _number(value, offset, "latitude")
        elif key == "lon":
            longitude = _number(value, offset, "longitude")
        elif key == "location":
            lat_text, comma, lon_text = value.partition(",")
            if not comma:
                raise FrameError(offset, "location=<lat>,<lon>", repr(value))
            latitude = _number(lat_text, offset, "latitude")
            longitude = _number(lon_text, offset + len(lat_text) + 1, "longitude")
        elif key == "cell":
            cells.append(value)
        elif key == "wifi":
            wifis.append(value)
        elif key == "speed":
            speed = _number(value, offset, "speed, knots") * _KNOTS
        elif key in ("bearing", "heading"):
            course = _number(value, offset, "bearing")
        elif key == "altitude":
            altitude = _number(value, offset, "altitude")
        elif key == "batt":
            attributes["battery_level"] = _number(value, offset, "battery %")
        elif key == "charge":
            attributes["charging"] = value.lower() == "true" or value == "1"
        else:
            attributes[key] = _loose(value)
    if cells:
        attributes["cell"] = cells
    if wifis:
        attributes["wifi"] = wifis
    if (latitude is None) != (longitude is None):
        raise FrameError(base, "both lat and lon, or neither", "only one of them")
    if latitude is not None and longitude is not None:
        check_coordinates(latitude, longitude, base)
    record = Position(
        device_id=device_id,
        time=time,
        latitude=latitude,
        longitude=longitude,
        speed_kmh=speed,
        course=course,
        valid=latitude is not None and (valid is None or valid),
        altitude=altitude,
        attributes=attributes,
        implausible=implausible(time, speed, course, now),
    )
    return Message(MessageKind.DATA, device_id, (record,), encode_response(200))


def _number(text: str, offset: int, what: str) -> float:
    """A finite decimal number (NaN and infinity are not positions)."""
    if not _NUMBER.fullmatch(text.strip()):
        raise FrameError(offset, f"a number ({what})", repr(text))
    return float(text)


def _loose(text: str) -> AttrValue:
    """Unknown parameters as traccar keeps them: numbers, true/false, or the text."""
    if _NUMBER.fullmatch(text):
        return float(text)
    if text in ("true", "false"):
        return text == "true"
    return text


def _timestamp(text: str, offset: int) -> datetime:
    if text.isascii() and text.isdigit():
        value = int(text)
        return from_epoch_ms(value * 1000 if value < 2**31 - 1 else value, offset=offset)
    try:
        if "T" in text:
            parsed = datetime.fromisoformat(text)
        else:
            parsed = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise FrameError(offset, "Unix time, ISO 8601 or yyyy-mm-dd hh:mm:ss", repr(text)) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# --- JSON bodies -------------------------------------------------------------------------------


def _decode_json(text: str, base: int, context: Context) -> Message:
    try:
        root = json.loads(text)
    except json.JSONDecodeError as error:
        raise FrameError(
            error.pos, f"JSON ({error.msg})", repr(text[error.pos : error.pos + 10])
        ) from None
    if not isinstance(root, dict):
        raise FrameError(base, "a JSON object with device_id and location", type(root).__name__)
    device_id = root.get("device_id")
    if not isinstance(device_id, str) or not device_id:
        raise FrameError(base, "a device_id string", repr(device_id))
    locations = root.get("location")
    items = locations if isinstance(locations, list) else [locations]
    now = context.now()
    records = tuple(_json_location(item, device_id, base, now) for item in items)
    return Message(MessageKind.DATA, device_id, records, encode_response(200))


def _json_location(item: Any, device_id: str, base: int, now: datetime) -> Position:
    if not isinstance(item, dict) or not isinstance(item.get("coords"), dict):
        raise FrameError(base, "location.coords", repr(item)[:40])
    coords: Mapping[str, Any] = item["coords"]
    latitude = _json_required(coords, "latitude", base)
    longitude = _json_required(coords, "longitude", base)
    check_coordinates(latitude, longitude, base)
    stamp = item.get("timestamp")
    time = now if stamp is None else _timestamp(str(stamp), base)
    speed_ms = _json_number(coords, "speed", base)
    speed = None if speed_ms is None or speed_ms < 0 else speed_ms * 3.6  # m/s, -1 unknown
    heading = _json_number(coords, "heading", base)
    course = None if heading is None or heading < 0 else heading
    attributes: dict[str, AttrValue] = {}
    if (accuracy := _json_number(coords, "accuracy", base)) is not None:
        attributes["accuracy"] = accuracy
    battery = item.get("battery")
    if isinstance(battery, dict):
        level = battery.get("level")
        if isinstance(level, int | float) and not isinstance(level, bool) and level >= 0:
            attributes["battery_level"] = round(level * 100, 1)  # 0–1 in this format
        if isinstance(battery.get("is_charging"), bool):
            attributes["charging"] = battery["is_charging"]
    for key in ("is_moving", "odometer", "event"):
        value = item.get(key)
        if isinstance(value, str | int | float | bool):
            attributes["odometer_m" if key == "odometer" else key] = value
    activity = item.get("activity")
    if isinstance(activity, dict) and isinstance(activity.get("type"), str):
        attributes["activity"] = activity["type"]
    return Position(
        device_id=device_id,
        time=time,
        latitude=latitude,
        longitude=longitude,
        speed_kmh=speed,
        course=course,
        valid=True,
        altitude=_json_number(coords, "altitude", base),
        attributes=attributes,
        implausible=implausible(time, speed, course, now),
    )


def _json_number(coords: Mapping[str, Any], key: str, base: int) -> float | None:
    return None if coords.get(key) is None else _json_required(coords, key, base)


def _json_required(coords: Mapping[str, Any], key: str, base: int) -> float:
    value = coords.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise FrameError(base, f"a number at location.coords.{key}", repr(value))
    return float(value)
