"""Jointech JT701/JT709 electronic locks and the JT600 trackers they grew from.

Two forms share one TCP stream. Binary frames start with ``$``: terminal ID (5 BCD bytes),
[protocol version, long format only], data type/version, length, records, index. Text frames
sit in parentheses, ``(ID,P45,…)``, and are read in ``jt701_text``.

The long (e-lock) binary format carries, per position, the 17-byte location block and the 17
bytes every version sends (odometer, satellites, vehicle ID, lock status, battery, cell, GSM
signal), then a tail as long as the frame's length leaves: nothing (protocol versions 0x01 and
0x16 as traccar's captures show them), or a geofence ID and 3 reserved bytes, then lock-specific
fields (traccar expects this tail from versions 0x17 and 0x19; other firmware, version 0x01
included, sends it too). The tail is read as far as it goes and the rest kept as ``extra``; a
remainder that is a whole number of 34-byte blocks is read as further positions instead, as
traccar reads the versions it expects no tail from.

The lock status word is decoded per Jointech's JT701D field list: bit 3 steel cable cut, bit 6
cable inserted, bit 7 motor locked, bit 8 unlocking alarm, bit 13 back cap closed… When bit 5
("needs confirmation") is set, the server must answer ``(P35)`` (protocol version below 0x19)
or ``(P69,0,<index>)``.

Speeds: the binary speed byte is read as knots and P45/U0x speeds as mph, as traccar does;
Jointech's documents were not at hand to confirm (see the report).
"""

from __future__ import annotations

from typing import Final

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols import jt701_text
from smartcustoms.tracking.protocols.base import Context, Frame, Framing, Message, MessageKind
from smartcustoms.tracking.protocols.framing import garbage
from smartcustoms.tracking.protocols.jointech_location import read_fix
from smartcustoms.tracking.protocols.reader import Reader
from smartcustoms.tracking.records import AttrValue, Position, SealEvent

__all__ = ["MAX_FRAME", "decode", "encode_confirmation", "frame"]

MAX_FRAME: Final = 0xFFFF + 10
_MAX_TEXT: Final = 1024
_LONG_RECORD: Final = 17 + 17  # location block + the e-lock fields every version sends
_TAIL_VERSIONS: Final = frozenset({0x17, 0x19})  # versions whose tail traccar always expects
_DEFAULT_CONTEXT: Final = Context()

# Lock status word (long format), per the JT701D field list; traccar agrees on the positions.
_STATUS_EVENTS: Final = (
    (1, SealEvent.GEOFENCE_ENTER),
    (2, SealEvent.GEOFENCE_EXIT),
    (3, SealEvent.CABLE_CUT),  # steel string cut
    (4, SealEvent.VIBRATION),
    (8, SealEvent.UNLOCKED),  # unlocking alarm
    (9, SealEvent.WRONG_PASSWORD),  # more than five wrong passwords
    (10, SealEvent.UNAUTHORIZED_CARD),  # unauthorised RFID card swiped
    (11, SealEvent.LOW_BATTERY),
    (12, SealEvent.TAMPER),  # back cap opened
    (14, SealEvent.FAULT),  # motor fault
)


def encode_confirmation(protocol_version: int, index: int) -> bytes:
    """The answer to a record that asks for confirmation (status bit 5)."""
    if protocol_version < 0x19:
        return b"(P35)"
    return f"(P69,0,{index})".encode("ascii")


# --- framing -----------------------------------------------------------------------------------


def frame(buffer: bytes | bytearray | memoryview) -> Framing:
    """Cut ``$`` binary frames and ``(…)`` text frames from a TCP byte stream."""
    buf = bytes(buffer)
    n = len(buf)
    pos = 0
    frames: list[Frame] = []
    errors: list[FrameError] = []
    while pos < n:
        first = buf[pos]
        if first == 0x24:  # '$'
            if n - pos < 10:
                break
            at = pos + _length_at(buf, pos)
            size = int.from_bytes(buf[at : at + 2], "big") + 10  # length + header and index
            if pos + size > n:
                break
            frames.append(Frame(buf[pos : pos + size], pos))
            pos += size
        elif first == 0x28:  # '('
            end = buf.find(b")", pos + 1, pos + _MAX_TEXT)
            if end < 0:
                if n - pos >= _MAX_TEXT:
                    errors.append(
                        FrameError(pos, "')' closing a text frame", f"{_MAX_TEXT} bytes without")
                    )
                    pos += 1
                    continue
                break
            frames.append(Frame(buf[pos : end + 1], pos))
            pos = end + 1
        else:
            nxt = min((i for i in (buf.find(b"$", pos), buf.find(b"(", pos)) if i >= 0), default=n)
            errors.append(garbage(buf, pos, nxt, "'$' or '(' opening a JT701 frame"))
            pos = nxt
    return Framing(tuple(frames), pos, tuple(errors))


def _long_format(buf: bytes, at: int) -> bool:
    """Long (e-lock) format: terminal IDs from 7 up, as traccar tells them apart."""
    return buf[at + 1] >> 4 >= 7


def _length_at(buf: bytes, at: int) -> int:
    return 8 if _long_format(buf, at) else 7


# --- decoding ----------------------------------------------------------------------------------


def decode(frame: bytes, context: Context = _DEFAULT_CONTEXT) -> Message:
    """A binary ``$`` frame or a text ``(…)`` frame."""
    if frame[:1] == b"(":
        return jt701_text.decode(frame, context)
    if frame[:1] != b"$":
        raise FrameError(0, "'$' or '('", frame[:1].hex() or "nothing")
    n = len(frame)
    r = Reader(frame, 1)
    r.need(10, "terminal ID, version, data type and length")
    long_format = _long_format(frame, 0)
    device_id = str(int(r.bcd(5, "terminal ID")))  # terminal ID, BCD
    protocol_version = r.u8() if long_format else 0  # protocol version (long format)
    type_at = r.pos
    data_version = r.u8() >> 4  # data type / version in the high nibble
    length = r.u16()  # length of what follows (long) / of the records (short)
    if length + 10 != n:
        raise FrameError(type_at + 1, f"length {n - 10} (the frame's size)", str(length))
    if not long_format and data_version not in (1, 2, 3):
        raise FrameError(type_at, "data version 1, 2 or 3", str(data_version))
    index = frame[-1]  # message index
    body = Reader(frame, r.pos, n - 1)
    received_at = context.now()
    records: list[Position] = []
    confirm = False
    while body.remaining:
        attributes: dict[str, AttrValue] = {"index": index}
        found: list[SealEvent] = []
        fix = read_fix(body)
        satellites: int | None
        if long_format:
            status, satellites = _long_record(body, protocol_version, attributes, found)
            if body.remaining and (
                protocol_version in _TAIL_VERSIONS or body.remaining % _LONG_RECORD
            ):
                _long_tail(body, attributes)
            confirm = confirm or bool(status & 0x20)
        else:
            satellites = _short_record(body, data_version, attributes, found)
        records.append(
            fix.position(
                device_id, received_at, satellites=satellites, attributes=attributes, found=found
            )
        )
    ack = encode_confirmation(protocol_version, index) if confirm else None
    return Message(MessageKind.DATA, device_id, tuple(records), ack)


def _long_record(
    r: Reader, protocol_version: int, attributes: dict[str, AttrValue], found: list[SealEvent]
) -> tuple[int, int]:
    """The e-lock fields after the location; returns the status word and satellite count."""
    r.need(17, "odometer, satellites, vehicle ID, status, battery and cell")
    attributes["odometer_m"] = r.u32() * 1000  # odometer, km
    satellites = r.u8()  # satellites
    attributes["vehicle_id"] = r.u32()  # vehicle ID
    status = r.u16()  # lock status word
    battery = r.u8()  # battery %, 0xFF while charging on USB
    attributes["cell_id"] = r.u16()  # cell ID
    attributes["lac"] = r.u16()  # location area code
    attributes["rssi"] = r.u8()  # GSM signal
    attributes["protocol_version"] = protocol_version
    attributes["status"] = status
    attributes["lbs_fix"] = bool(status & 0x0001)
    attributes["ack_required"] = bool(status & 0x0020)
    attributes["cable_inserted"] = bool(status & 0x0040)
    attributes["locked"] = bool(status & 0x0080)
    attributes["back_cap_closed"] = bool(status & 0x2000)
    if battery == 0xFF:
        attributes["charging"] = True
    else:
        attributes["battery_level"] = battery
    found.extend(event for bit, event in _STATUS_EVENTS if status >> bit & 1)
    return status, satellites


def _long_tail(r: Reader, attributes: dict[str, AttrValue]) -> None:
    """What follows the fixed e-lock fields, to the end of the frame: a geofence ID, 3 reserved
    bytes, then lock-specific fields kept as hex (a shorter tail is kept whole as hex)."""
    if r.remaining >= 4:
        attributes["geofence_id"] = r.u8()  # geofence ID
        r.take(3)  # reserved
    if r.remaining:
        attributes["extra"] = r.take(r.remaining).hex()  # lock-specific fields


def _short_record(
    r: Reader, data_version: int, attributes: dict[str, AttrValue], found: list[SealEvent]
) -> int | None:
    if data_version == 1:
        r.need(10, "satellites, power, flags, altitude and cell")
        satellites = r.u8()  # satellites
        attributes["power"] = r.u8()  # power level
        attributes["flags"] = r.u8()  # other flags and sensors
        attributes["altitude_m"] = r.u16()  # altitude, m
        attributes["cell_id"] = r.u16()  # cell ID
        attributes["lac"] = r.u16()  # location area code
        attributes["rssi"] = r.u8()  # GSM signal
        return satellites
    if data_version == 2:
        r.need(10, "fuel, status, odometer")
        fuel = r.u8() << 8  # fuel, high byte
        _status_v2(r.take(4), attributes, found)  # vehicle status
        attributes["odometer_m"] = r.u32() * 1000  # odometer, km
        attributes["fuel"] = fuel + r.u8()  # fuel, low byte
        return None
    bits = int.from_bytes(r.take(10), "big")  # 3×12-bit fuel, 20-bit odometer, 24-bit status
    attributes["fuel1"] = bits >> 68
    attributes["fuel2"] = bits >> 56 & 0xFFF
    attributes["fuel3"] = bits >> 44 & 0xFFF
    attributes["odometer_m"] = (bits >> 24 & 0xFFFFF) * 1000
    attributes["status"] = bits & 0xFFFFFF
    attributes["ignition"] = bool(bits & 0x1)
    return None


def _status_v2(status: bytes, attributes: dict[str, AttrValue], found: list[SealEvent]) -> None:
    attributes["ignition"] = bool(status[0] & 0x01)
    attributes["door_open"] = bool(status[0] & 0x40)
    attributes["charging"] = bool(status[1] & 0x01)
    attributes["blocked"] = bool(status[1] & 0x02)
    if status[1] & 0x04:
        found.append(SealEvent.SOS)
    if status[1] & 0x08:
        found.append(SealEvent.GPS_ANTENNA_CUT)
    if status[1] & 0x10:
        found.append(SealEvent.OVERSPEED)
