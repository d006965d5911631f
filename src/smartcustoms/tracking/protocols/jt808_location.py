"""The JT/T 808 location report body (0x0200) and the additional items e-lock vendors append.

Basic information: alarm flags 4B, status 4B (bit 0 ACC, bit 1 positioned, bit 2 south, bit 3
west), latitude and longitude 4B ×10⁶, altitude 2B m, speed 2B ×0.1 km/h, direction 2B, time
6B BCD YYMMDDhhmmss. Then additional items: ID 1B, length 1B, value. Item meanings beyond the
standard's (0x01 mileage, 0x30 signal, 0x31 satellites …) follow traccar's decoder, which
collected them from vendors' documents; unknown items are kept as hex.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final

from smartcustoms.tracking.plausibility import check_coordinates, implausible
from smartcustoms.tracking.protocols.datetimes import from_fields
from smartcustoms.tracking.protocols.reader import Reader
from smartcustoms.tracking.records import AttrValue, Position, SealEvent, events

__all__ = ["decode_location"]

_BASICS: Final = struct.Struct(">IIIIhHH")  # alarm … direction: 22 bytes

Attrs = dict[str, AttrValue]

# Alarm flag bits (JT/T 808 table 24; 16/17 tamper and 18 low battery as traccar reads them).
_ALARM_BITS: Final = (
    (0, SealEvent.SOS),
    (1, SealEvent.OVERSPEED),
    (4, SealEvent.FAULT),  # GNSS module fault
    (5, SealEvent.GPS_ANTENNA_CUT),  # GNSS antenna disconnected
    (6, SealEvent.GPS_ANTENNA_CUT),  # GNSS antenna short-circuited
    (7, SealEvent.LOW_BATTERY),  # main power under-voltage
    (8, SealEvent.POWER_CUT),  # main power cut
    (9, SealEvent.FAULT),  # display fault
    (10, SealEvent.FAULT),  # TTS module fault
    (11, SealEvent.FAULT),  # camera fault
    (15, SealEvent.VIBRATION),
    (16, SealEvent.TAMPER),
    (17, SealEvent.TAMPER),
    (18, SealEvent.LOW_BATTERY),
    (31, SealEvent.OPENED),  # illegal door opening
)


def decode_location(
    r: Reader, device_id: str, utc_offset: timedelta, received_at: datetime
) -> Position:
    """One location report body from ``r.pos`` to ``r.end``."""
    start = r.pos
    r.need(28, "location basics: alarm, status, position, altitude, speed, direction, time")
    (
        alarm,  # alarm flags
        status,  # status bits
        lat_e6,  # latitude, degrees ×10⁶
        lon_e6,  # longitude, degrees ×10⁶
        altitude,  # metres
        speed_e1,  # km/h ×10
        direction,  # degrees from north
    ) = _BASICS.unpack_from(r.data, start)
    r.pos = start + 22
    latitude = lat_e6 / 1_000_000
    longitude = lon_e6 / 1_000_000
    speed = speed_e1 / 10
    course = float(direction)
    time_at = r.pos
    stamp = r.bcd(6, "time YYMMDDhhmmss")  # time, BCD
    year, month, day = int(stamp[0:2]), int(stamp[2:4]), int(stamp[4:6])
    hour, minute, second = int(stamp[6:8]), int(stamp[8:10]), int(stamp[10:12])
    time = from_fields(
        2000 + year, month, day, hour, minute, second, offset=time_at, utc_offset=utc_offset
    )
    if status & 0x04:
        latitude = -latitude
    if status & 0x08:
        longitude = -longitude
    check_coordinates(latitude, longitude, start + 8)
    attributes: Attrs = {"alarm": alarm, "status": status, "ignition": bool(status & 0x01)}
    found = [event for bit, event in _ALARM_BITS if alarm >> bit & 1] if alarm else []
    satellites = _items(r, attributes, found)
    return Position(
        device_id=device_id,
        time=time,
        latitude=latitude,
        longitude=longitude,
        speed_kmh=speed,
        course=course,
        satellites=satellites,
        valid=bool(status & 0x02),
        altitude=float(altitude),
        events=events(found) if found else (),
        attributes=attributes,
        implausible=implausible(time, speed, course, received_at),
    )


def _items(r: Reader, attributes: Attrs, found: list[SealEvent]) -> int | None:
    """Additional items to the end of the body; returns the satellite count if one was sent."""
    satellites = None
    data, at, end = r.data, r.pos, r.end
    while end - at >= 2:
        item = data[at]  # additional item ID
        length = data[at + 1]  # additional item length
        at += 2
        if length > end - at:
            # Some firmware pads with zero items and overruns the body; keep what is there.
            attributes["truncated_item"] = {
                "id": item,
                "length": length,
                "value": data[at:end].hex(),
            }
            at = end
            break
        value = data[at : at + length]
        at += length
        if item == 0x31 and length == 1:
            satellites = value[0]  # GNSS satellites in use
            continue
        handler = _HANDLERS.get(item)
        if handler is None or not handler(value, attributes, found):
            attributes[f"item_{item:02x}"] = value.hex()
    if at < end:
        attributes["trailing"] = data[at:end].hex()
    r.pos = end
    return satellites


# Each handler stores what it understands and returns False if the value does not fit its form.
Handler = Callable[[bytes, Attrs, list[SealEvent]], bool]


def _uint(value: bytes) -> int:
    return int.from_bytes(value, "big")


def _mileage(value: bytes, attributes: Attrs, found: list[SealEvent]) -> bool:
    if len(value) != 4:
        return False
    attributes["odometer_m"] = _uint(value) * 100  # mileage, 0.1 km
    return True


def _one_byte(name: str) -> Handler:
    def handle(value: bytes, attributes: Attrs, found: list[SealEvent]) -> bool:
        if len(value) != 1:
            return False
        attributes[name] = value[0]
        return True

    return handle


def _lock_command(value: bytes, attributes: Attrs, found: list[SealEvent]) -> bool:
    """0x0B: lock command, then a card number (5–6 bytes) or password (7+), unlock result."""
    if not value:
        return False
    attributes["lock_command"] = value[0]
    if 5 <= len(value) <= 6:
        attributes["lock_card"] = _uint(value[1:5])
    elif len(value) >= 7:
        attributes["lock_password"] = value[1:7].decode("ascii", "replace")
    if len(value) % 2 == 0:
        attributes["unlock_result"] = value[-1]
    return True


def _text_33(value: bytes, attributes: Attrs, found: list[SealEvent]) -> bool:
    """0x33: a mode byte, or a vendor sentence; ``*M00`` sentences carry the lock battery."""
    if len(value) == 1:
        attributes["mode"] = value[0]
        return True
    text = value.decode("ascii", "replace")
    attributes["lock_report"] = text
    volts = text[10:13]  # *M00,<n>,<7-character lock status whose characters 2–4 are V×100>
    if text.startswith("*M00") and volts.isdigit():
        attributes["battery_voltage"] = int(volts) / 100
    return True


def _locks_63(value: bytes, attributes: Attrs, found: list[SealEvent]) -> bool:
    """0x63: 11 bytes per lock: ID 6B, battery 2B mV, seal state (0x31 sealed), state, RSSI."""
    if not value or len(value) % 11:
        return False
    sealed = []
    for i in range(len(value) // 11):
        lock = value[11 * i : 11 * i + 11]
        n = i + 1
        attributes[f"lock{n}_id"] = lock[:6].hex()
        attributes[f"lock{n}_battery_voltage"] = _uint(lock[6:8]) / 1000
        sealed.append(lock[8] == 0x31)
        attributes[f"lock{n}_sealed"] = sealed[-1]
        attributes[f"lock{n}_state"] = lock[9]
        attributes[f"lock{n}_rssi"] = lock[10]
    attributes["locked"] = all(sealed)
    return True


def _locks_d5(value: bytes, attributes: Attrs, found: list[SealEvent]) -> bool:
    """0xD5: battery (2 bytes, V×100), or a count, then per lock ID, card, battery, status."""
    if len(value) == 2:
        attributes["battery_voltage"] = _uint(value) / 100
        return True
    if not value or len(value) != 1 + 13 * value[0]:
        return False
    locked = []
    for i in range(value[0]):
        lock = value[1 + 13 * i : 14 + 13 * i]
        n = i + 1
        attributes[f"lock{n}_id"] = lock[:5].hex()
        attributes[f"lock{n}_card"] = lock[5:10].hex()
        attributes[f"lock{n}_battery"] = lock[10]
        status = _uint(lock[11:13])
        locked.append(not status & 0x20)  # status bit 5 set: unlocked
        attributes[f"lock{n}_locked"] = locked[-1]
    attributes["locked"] = all(locked)
    return True


def _battery_e3(value: bytes, attributes: Attrs, found: list[SealEvent]) -> bool:
    if len(value) != 4:
        return False
    attributes["battery_level"] = value[1]  # after a reserved byte
    attributes["battery_voltage"] = _uint(value[2:4]) / 100
    return True


def _extended_eb(value: bytes, attributes: Attrs, found: list[SealEvent]) -> bool:
    """0xEB: cell towers, a time-zone string, or sub-items (length 2B, type 2B, value)."""
    if len(value) >= 2 and _uint(value[:2]) > 200 and (len(value) - 3) % 5 == 0:
        attributes["cells"] = value.hex()
        return True
    if value and value.isascii() and value.decode("ascii").isprintable():
        attributes["timezone"] = value.decode("ascii")
        return True
    at = 0
    while at + 4 <= len(value):
        length = _uint(value[at : at + 2])  # sub-item length, its type included
        kind = _uint(value[at + 2 : at + 4])  # sub-item type
        if length < 2 or at + 2 + length > len(value):
            return False
        _sub_item(kind, value[at + 4 : at + 2 + length], attributes, found)
        at += 2 + length
    return at == len(value)


def _sub_item(kind: int, data: bytes, attributes: Attrs, found: list[SealEvent]) -> None:
    if kind == 0x0089 and len(data) == 4:
        flags = _uint(data)  # alarm states, a clear bit is the alarm
        if not flags & 0x0001:
            found.append(SealEvent.POWER_CUT)
        if not flags & 0x1000:
            found.append(SealEvent.TAMPER)  # device removed from its mounting
    elif kind == 0x00C5 and len(data) == 4:
        if not _uint(data) & 0x40:
            found.append(SealEvent.VIBRATION)
    elif kind == 0x002D and len(data) == 4:
        attributes["power_voltage"] = _uint(data) / 1000  # external power, mV
    elif kind == 0x002D and len(data) == 2:
        attributes["battery_voltage"] = _uint(data) / 1000  # battery, mV
    elif kind in (0x00A8, 0x00E1) and len(data) == 1:
        attributes["battery_level"] = data[0]
    elif kind == 0x00B2 and len(data) == 10:
        attributes["iccid"] = data.hex().rstrip("f")
    else:
        attributes[f"item_eb_{kind:04x}"] = data.hex()


def _item_fe(value: bytes, attributes: Attrs, found: list[SealEvent]) -> bool:
    if len(value) == 1:
        attributes["battery_level"] = value[0]
    elif len(value) == 2:
        attributes["power_voltage"] = _uint(value) / 10
    elif len(value) == 4:
        attributes["odometer_m"] = _uint(value)
    else:
        return False
    return True


_HANDLERS: Final[dict[int, Handler]] = {
    0x01: _mileage,
    0x06: _one_byte("battery_level"),
    0x0B: _lock_command,
    0x30: _one_byte("rssi"),
    0x33: _text_33,
    0x63: _locks_63,
    0xD5: _locks_d5,
    0xE3: _battery_e3,
    0xEB: _extended_eb,
    0xFE: _item_fe,
}
