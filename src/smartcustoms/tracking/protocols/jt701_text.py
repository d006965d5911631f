"""Jointech text sentences: ``(ID,P45,…)`` lock events, ``(ID,U01…U06,…)`` and ``(ID,W01,…)``
positions. Inside the parentheses ``=`` escapes the characters that would break framing:
``=\\x15`` '(', ``=\\x14`` ')', ``=\\x11`` ',', ``=\\x00`` '='. Field layouts follow traccar's
patterns for the same sentences; other sentence types (command replies) carry no record.
"""

from __future__ import annotations

from typing import Final

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.plausibility import check_coordinates, implausible
from smartcustoms.tracking.protocols.base import Context, Message, MessageKind
from smartcustoms.tracking.protocols.datetimes import from_fields
from smartcustoms.tracking.protocols.textfields import Fields
from smartcustoms.tracking.records import AttrValue, Position

__all__ = ["decode"]

_MPH: Final = 1.609344  # km/h per mile per hour
_UNESCAPE: Final = (("=\x15", "("), ("=\x14", ")"), ("=\x11", ","), ("=\x00", "="))
_U_ACKS: Final = {"U01": b"(S39)", "U02": b"(S39)", "U03": b"(S39)", "U06": b"(S20)"}


def decode(frame: bytes, context: Context) -> Message:
    if frame[:1] != b"(" or frame[-1:] != b")":
        raise FrameError(0, "a text frame in parentheses", frame[:8].hex())
    try:
        text = frame[1:-1].decode("ascii")
    except UnicodeDecodeError as error:
        raise FrameError(
            1 + error.start, "ASCII text", frame[1 + error.start : 2 + error.start].hex()
        ) from None
    fields = Fields(text, base=1)
    fields.values = [_unescape(value) for value in fields.values]
    device_id = fields.text(0) if fields.text(0).isdigit() else context.device_id
    kind = fields.text(1) if len(fields) > 1 else ""
    if kind == "P45":
        return _p45(fields, device_id, context)
    if kind == "W01":
        return _w01(fields, device_id, context)
    if kind in _U_ACKS and len(fields) > 2:
        return _u0x(fields, kind, device_id, context)
    return Message(MessageKind.OTHER, device_id)


def _unescape(value: str) -> str:
    if "=" in value:
        for escaped, plain in _UNESCAPE:
            value = value.replace(escaped, plain)
    return value


def _coordinate(fields: Fields, i: int, hemispheres: str, what: str) -> float:
    """Decimal degrees in field ``i``, signed by the hemisphere letter in field ``i + 1``."""
    value = fields.decimal(i, what)
    negative = fields.choice(i + 1, (hemispheres[0], hemispheres[1]), f"{what} hemisphere")
    return -value if negative == hemispheres[1] else value


def _minutes_coordinate(fields: Fields, i: int, degree_digits: int, what: str) -> float:
    """(d)ddmm.mmmm in field ``i`` to degrees."""
    value = fields.text(i)
    if len(value) < degree_digits + 2 or not value[:degree_digits].isdigit():
        raise fields.error(i, f"{'d' * degree_digits}mm.mmmm ({what})")
    minutes = Fields(value[degree_digits:], fields.offsets[i] + degree_digits).decimal(0, what)
    return int(value[:degree_digits]) + minutes / 60


def _position(
    fields: Fields,
    device_id: str | None,
    context: Context,
    *,
    date: int,
    latitude: float,
    longitude: float,
    speed_kmh: float,
    course: float,
    valid: bool,
    satellites: int | None,
    attributes: dict[str, AttrValue],
) -> Position:
    day, month, year = fields.digits(date, 6, "date ddmmyy")
    hour, minute, second = fields.digits(date + 1, 6, "time hhmmss")
    time = from_fields(2000 + year, month, day, hour, minute, second, offset=fields.offsets[date])
    check_coordinates(latitude, longitude, fields.offsets[0])
    return Position(
        device_id=device_id,
        time=time,
        latitude=latitude,
        longitude=longitude,
        speed_kmh=speed_kmh,
        course=course,
        satellites=satellites,
        valid=valid,
        attributes=attributes,
        implausible=implausible(time, speed_kmh, course, context.now()),
    )


def _p45(fields: Fields, device_id: str | None, context: Context) -> Message:
    """Lock/unlock event: date, time, lat, N/S, lon, E/W, A/V, speed, course, event source,
    unlock verification, RFID card, password verification, wrong password count, index."""
    fields.require(17, "P45 lock event")
    index = fields.integer(16, "index")
    attributes: dict[str, AttrValue] = {
        "message": "P45",
        "event_source": fields.integer(11, "event source"),
        "unlock_verification": fields.integer(12, "unlock verification"),
        "rfid_card": fields.text(13),
        "password_verification": fields.integer(14, "password verification"),
        "incorrect_password_count": fields.integer(15, "incorrect password count"),
        "index": index,
    }
    record = _position(
        fields,
        device_id,
        context,
        date=2,
        latitude=_coordinate(fields, 4, "NS", "latitude"),
        longitude=_coordinate(fields, 6, "EW", "longitude"),
        valid=fields.choice(8, ("A", "V"), "validity") == "A",
        speed_kmh=fields.decimal(9, "speed, mph") * _MPH,
        course=fields.decimal(10, "course"),
        satellites=None,
        attributes=attributes,
    )
    ack = f"(P69,0,{index})".encode("ascii")
    return Message(MessageKind.DATA, device_id, (record,), ack)


def _u0x(fields: Fields, kind: str, device_id: str | None, context: Context) -> Message:
    """Position: [alarm,] date, time, T/F, lat, N/S, lon, E/W, speed, course, satellites,
    battery %, status bits, cell ID, LAC, GSM signal, odometer, serial [, checksum]."""
    at = 2
    attributes: dict[str, AttrValue] = {"message": kind}
    if len(fields.text(2)) != 6:  # U06 and others put an alarm code before the date
        attributes["alarm"] = fields.integer(2, "alarm")
        at = 3
    fields.require(at + 17, f"{kind} position")
    battery = fields.text(at + 10)
    if not battery.endswith("%") or not battery[:-1].isdigit():
        raise fields.error(at + 10, "battery percentage like 32%")
    status = fields.text(at + 11)
    if not status or set(status) - {"0", "1"}:
        raise fields.error(at + 11, "status bits of 0 and 1")
    attributes.update(
        battery_level=int(battery[:-1]),
        status=int(status, 2),
        cell_id=fields.integer(at + 12, "cell ID"),
        lac=fields.integer(at + 13, "LAC"),
        rssi=fields.integer(at + 14, "GSM signal"),
        odometer_m=fields.integer(at + 15, "odometer, km") * 1000,
        index=fields.integer(at + 16, "serial number"),
    )
    record = _position(
        fields,
        device_id,
        context,
        date=at,
        valid=fields.choice(at + 2, ("T", "F"), "validity") == "T",
        latitude=_coordinate(fields, at + 3, "NS", "latitude"),
        longitude=_coordinate(fields, at + 5, "EW", "longitude"),
        speed_kmh=fields.decimal(at + 7, "speed, mph") * _MPH,
        course=fields.decimal(at + 8, "course"),
        satellites=fields.integer(at + 9, "satellites"),
        attributes=attributes,
    )
    return Message(MessageKind.DATA, device_id, (record,), _U_ACKS[kind])


def _w01(fields: Fields, device_id: str | None, context: Context) -> Message:
    """Legacy position: lon dddmm.mmmm, E/W, lat ddmm.mmmm, N/S, A/V, date, time, speed km/h,
    course, power, GPS signal, GSM signal, alert type."""
    fields.require(15, "W01 position")
    longitude = _minutes_coordinate(fields, 2, 3, "longitude")
    if fields.choice(3, ("E", "W"), "longitude hemisphere") == "W":
        longitude = -longitude
    latitude = _minutes_coordinate(fields, 4, 2, "latitude")
    if fields.choice(5, ("N", "S"), "latitude hemisphere") == "S":
        latitude = -latitude
    attributes: dict[str, AttrValue] = {
        "message": "W01",
        "power": fields.integer(11, "power"),
        "gps_signal": fields.integer(12, "GPS signal"),
        "rssi": fields.integer(13, "GSM signal"),
        "alert_type": fields.integer(14, "alert type"),
    }
    record = _position(
        fields,
        device_id,
        context,
        date=7,
        latitude=latitude,
        longitude=longitude,
        valid=fields.choice(6, ("A", "V"), "validity") == "A",
        speed_kmh=fields.decimal(9, "speed, km/h"),
        course=fields.decimal(10, "course"),
        satellites=None,
        attributes=attributes,
    )
    return Message(MessageKind.DATA, device_id, (record,))
