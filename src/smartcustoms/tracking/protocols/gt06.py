"""Concox GT06 / GT06N and the many trackers that copy it.

Frames: start 0x7878 with a 1-byte length (0x7979 with a 2-byte length for extended packets),
protocol number, content, serial number, CRC-16/X-25 over length..serial, stop 0x0D0A. The
device logs in once with its IMEI (0x01); later frames on the connection carry no identity.
Times are UTC unless the device was configured otherwise (its login may say so).

The server answers login, heartbeat and alarm packets with ``7878 05 <protocol> <serial> <crc>
0D0A``; location packets (0x12, 0x22) need no answer.
"""

from __future__ import annotations

import struct
from datetime import datetime, timedelta
from typing import Final

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.plausibility import check_coordinates, implausible
from smartcustoms.tracking.protocols.base import Context, Framing, Message, MessageKind
from smartcustoms.tracking.protocols.checksums import crc16_x25
from smartcustoms.tracking.protocols.datetimes import from_fields
from smartcustoms.tracking.protocols.framing import cut_sized
from smartcustoms.tracking.protocols.reader import Reader
from smartcustoms.tracking.records import AttrValue, Position, SealEvent, events

__all__ = ["MAX_FRAME", "decode", "encode_reply", "frame"]

_GPS_BLOCK: Final = struct.Struct(">7BIIBH")  # date-time … course: 18 bytes
_MAX_EXTENDED_LENGTH: Final = 4096  # photos come in 1 KiB chunks; longer is garbage
MAX_FRAME: Final = _MAX_EXTENDED_LENGTH + 6
_DEFAULT_CONTEXT: Final = Context()

_LOGIN: Final = 0x01
_STATUS: Final = 0x13  # heartbeat with terminal status
_LBS_STATUS: Final = 0x19
_HEARTBEAT_GK310: Final = 0x23
# Protocol numbers whose content opens with the GPS block, and which of those carry LBS/status.
_GPS: Final = frozenset({0x10, 0x11, 0x12, 0x16, 0x22, 0x26, 0x27})
_LBS: Final = frozenset({0x11, 0x12, 0x16, 0x22, 0x26, 0x27, _LBS_STATUS})
_WITH_STATUS: Final = frozenset({0x16, 0x26, 0x27, _LBS_STATUS})
_WITH_RECORD: Final = _GPS | _LBS | {_STATUS, _HEARTBEAT_GK310}
_ACKED: Final = frozenset({_LOGIN, _STATUS, 0x16, _LBS_STATUS, _HEARTBEAT_GK310, 0x26, 0x27})

# Terminal information bits 3–5 (Concox manual; 7 "removing" after traccar).
_STATUS_ALARMS: Final = {
    1: SealEvent.VIBRATION,
    2: SealEvent.POWER_CUT,
    3: SealEvent.LOW_BATTERY,
    4: SealEvent.SOS,
    7: SealEvent.TAMPER,
}
# The alarm byte of alarm packets (Concox manual, traccar's additions).
_ALARM_CODES: Final = {
    0x01: SealEvent.SOS,
    0x02: SealEvent.POWER_CUT,
    0x03: SealEvent.VIBRATION,
    0x04: SealEvent.GEOFENCE_ENTER,
    0x05: SealEvent.GEOFENCE_EXIT,
    0x06: SealEvent.OVERSPEED,
    0x09: SealEvent.VIBRATION,
    0x0C: SealEvent.TAMPER,
    0x0E: SealEvent.LOW_BATTERY,
    0x0F: SealEvent.LOW_BATTERY,
    0x11: SealEvent.POWER_CUT,  # device switched off
    0x13: SealEvent.TAMPER,
    0x14: SealEvent.OPENED,  # door
    0x33: SealEvent.LOCKED,
    0x34: SealEvent.UNLOCKED,
}


def encode_reply(
    protocol: int, serial: int, content: bytes = b"", *, extended: bool = False
) -> bytes:
    """A server packet: start, length, protocol number, content, serial, CRC-16/X-25, stop."""
    body = bytes((protocol,)) + content + serial.to_bytes(2, "big")
    length = len(body) + 2  # the CRC counts
    head = length.to_bytes(2, "big") if extended else bytes((length,))
    crc = crc16_x25(head + body)
    start = b"\x79\x79" if extended else b"\x78\x78"
    return start + head + body + crc.to_bytes(2, "big") + b"\r\n"


# --- framing -----------------------------------------------------------------------------------


def frame(buffer: bytes | bytearray | memoryview) -> Framing:
    """Cut 0x7878/0x7979 packets from a TCP byte stream, resynchronising on the start bits."""
    return cut_sized(buffer, _frame_size, _next_start, _EXPECTED)


def _frame_size(buf: bytes, pos: int) -> int:
    """Size of the packet starting at ``pos``; 0 if more bytes must come to tell; -1 if none."""
    rest = len(buf) - pos
    first = buf[pos]
    if first not in (0x78, 0x79):
        return -1
    if rest < 2:
        return 0
    if buf[pos + 1] != first:
        return -1
    if first == 0x78:
        if rest < 3:
            return 0
        length = buf[pos + 2]
        size = length + 5
    else:
        if rest < 4:
            return 0
        length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
        if length > _MAX_EXTENDED_LENGTH:
            return -1
        size = length + 6
    if length < 5:  # protocol number, serial and CRC at the least
        return -1
    if rest >= size and buf[pos + size - 2 : pos + size] != b"\r\n":
        return -1
    return size


def _next_start(buf: bytes, at: int) -> int:
    starts = [i for i in (buf.find(b"\x78\x78", at), buf.find(b"\x79\x79", at)) if i >= 0]
    if starts:
        return min(starts)
    # A lone start byte at the very end may be the first half of the next packet.
    return len(buf) - 1 if buf[-1:] in (b"\x78", b"\x79") and len(buf) - 1 >= at else len(buf)


_EXPECTED: Final = "a GT06 packet (start bits 7878 or 7979, length, …, stop bits 0d0a)"


# --- decoding ----------------------------------------------------------------------------------


def decode(frame: bytes, context: Context = _DEFAULT_CONTEXT) -> Message:
    """One packet: login, location, status/heartbeat or alarm."""
    n = len(frame)
    extended = frame[:2] == b"\x79\x79"
    if not extended and frame[:2] != b"\x78\x78":
        raise FrameError(0, "start bits 7878 or 7979", frame[:2].hex() or "nothing")
    head = 4 if extended else 3
    if n < head + 7:
        raise FrameError(
            n, "a packet of at least protocol, serial, CRC and stop bits", f"{n} bytes"
        )
    length = int.from_bytes(frame[2:head], "big")  # packet length: protocol .. CRC
    if head + length + 2 != n:
        raise FrameError(2, f"packet length {n - head - 2} (the packet's size)", str(length))
    if frame[n - 2 :] != b"\r\n":
        raise FrameError(n - 2, "stop bits 0d0a", frame[n - 2 :].hex())
    crc_field = int.from_bytes(frame[n - 4 : n - 2], "big")  # error check
    crc = crc16_x25(memoryview(frame)[2 : n - 4])
    if crc_field != crc:
        raise FrameError(n - 4, f"CRC 0x{crc:04x}", f"0x{crc_field:04x}")
    protocol = frame[head]  # protocol number
    serial = int.from_bytes(frame[n - 6 : n - 4], "big")  # information serial number
    ack = encode_reply(protocol, serial) if protocol in _ACKED and not extended else None
    r = Reader(frame, head + 1, n - 6)
    if extended:
        return Message(MessageKind.OTHER, context.device_id)
    if protocol == _LOGIN:
        return _login(r, ack)
    record = _record(r, protocol, serial, context)
    if record is None:
        return Message(MessageKind.OTHER, context.device_id, (), ack)
    kind = MessageKind.HEARTBEAT if protocol in (_STATUS, _HEARTBEAT_GK310) else MessageKind.DATA
    return Message(kind, context.device_id, (record,), ack)


def _login(r: Reader, ack: bytes | None) -> Message:
    imei = r.bcd(8, "IMEI")[1:]  # terminal ID: 15 IMEI digits after a leading zero
    utc_offset = None
    if r.remaining >= 2:
        r.u16()  # type identifier (device model)
    if r.remaining >= 2:
        zone = r.u16()  # time zone: hours×100+minutes in bits 4–15, bit 3 set west of UTC
        minutes = (zone >> 4) // 100 * 60 + (zone >> 4) % 100
        utc_offset = timedelta(minutes=-minutes if zone & 0x08 else minutes)
    return Message(MessageKind.LOGIN, imei, (), ack, utc_offset)


def _record(r: Reader, protocol: int, serial: int, context: Context) -> Position | None:
    if protocol not in _WITH_RECORD:
        return None
    if protocol in _GPS and not r.remaining:
        return None  # an empty location packet, sent by some firmware as a keep-alive
    received_at = context.now()
    attributes: dict[str, AttrValue] = {"protocol": f"0x{protocol:02x}", "index": serial}
    found: list[SealEvent] = []
    time = received_at
    latitude = longitude = speed = course = None
    satellites = None
    valid = False
    if protocol in _GPS:
        gps_at = r.pos
        time, latitude, longitude, speed, course, satellites, valid = _gps(
            r, context.utc_offset or timedelta(0), attributes
        )
        check_coordinates(latitude, longitude, gps_at + 7)
    if protocol in _LBS:
        _lbs(r, protocol, attributes, with_length=protocol in _WITH_STATUS)
    if protocol in _WITH_STATUS or protocol == _STATUS:
        _status(r, attributes, found)
    elif protocol == _HEARTBEAT_GK310:
        _status_gk310(r, attributes)
    elif protocol == 0x22 and r.remaining >= 3:
        acc = r.u8()  # ACC
        attributes["acc"] = acc
        attributes["ignition"] = acc > 0
        attributes["upload_mode"] = r.u8()  # data upload mode (why this report was sent)
        attributes["realtime_reupload"] = r.u8()  # 0 real time, 1 re-upload from memory
    if r.remaining == 4:
        attributes["odometer_m"] = r.u32()  # mileage, m
    elif r.remaining:
        attributes["extra"] = r.take(r.remaining).hex()
    return Position(
        device_id=context.device_id,
        time=time,
        latitude=latitude,
        longitude=longitude,
        speed_kmh=speed,
        course=course,
        satellites=satellites,
        valid=valid,
        events=events(found) if found else (),
        attributes=attributes,
        implausible=implausible(time, speed, course, received_at),
    )


def _gps(
    r: Reader, utc_offset: timedelta, attributes: dict[str, AttrValue]
) -> tuple[datetime, float, float, float, float, int, bool]:
    start = r.pos
    r.need(18, "GPS block: date-time, satellites, latitude, longitude, speed, course")
    (
        year,  # date-time: YY
        month,  # MM
        day,  # DD
        hour,  # hh
        minute,  # mm
        second,  # ss
        info,  # GPS info: length in the high nibble, satellites in the low
        lat_raw,  # latitude, minutes ×30000
        lon_raw,  # longitude, minutes ×30000
        speed_kmh,  # km/h
        flags,  # course (bits 0–9) and status
    ) = _GPS_BLOCK.unpack_from(r.data, start)
    r.pos = start + 18
    time = from_fields(
        2000 + year, month, day, hour, minute, second, offset=start, utc_offset=utc_offset
    )
    latitude = lat_raw / 1_800_000
    longitude = lon_raw / 1_800_000
    speed = float(speed_kmh)
    if not flags & 0x0400:  # bit 10 set: north
        latitude = -latitude
    if flags & 0x0800:  # bit 11 set: west
        longitude = -longitude
    attributes["gps_info_length"] = info >> 4
    attributes["gps_realtime"] = not flags & 0x2000  # bit 13 set: differential positioning
    if flags & 0x4000:  # bit 14: the ACC bit (15) is meaningful
        attributes["ignition"] = bool(flags & 0x8000)
    valid = bool(flags & 0x1000)  # bit 12: positioned
    return time, latitude, longitude, speed, float(flags & 0x03FF), info & 0x0F, valid


def _lbs(r: Reader, protocol: int, attributes: dict[str, AttrValue], *, with_length: bool) -> None:
    length = 0
    if with_length:
        length = r.u8()  # LBS length, itself included
        if length == 0:
            return
    start = r.pos
    mcc = r.u16()  # mobile country code; bit 15 set: the MNC takes two bytes
    mnc = r.u16() if mcc & 0x8000 or protocol == 0x11 else r.u8()  # mobile network code
    lac = r.u16()  # location area code
    cell_id = r.u32() if protocol == 0x11 else r.u24()  # cell ID
    attributes.update(mcc=mcc & 0x7FFF, mnc=mnc, lac=lac, cell_id=cell_id)
    if length > 1 + r.pos - start:
        r.take(length - 1 - (r.pos - start))  # fields newer firmware appends


def _status(r: Reader, attributes: dict[str, AttrValue], found: list[SealEvent]) -> None:
    r.need(3, "terminal information, voltage level, GSM signal")
    info = r.u8()  # terminal information
    attributes["status"] = info
    attributes["armed"] = bool(info & 0x01)
    attributes["ignition"] = bool(info & 0x02)
    attributes["charging"] = bool(info & 0x04)
    attributes["blocked"] = bool(info & 0x80)  # oil/electricity cut
    if event := _STATUS_ALARMS.get((info >> 3) & 0x07):
        found.append(event)
    attributes["battery_level"] = min(r.u8(), 6) * 100 // 6  # voltage level 0–6
    attributes["rssi"] = r.u8()  # GSM signal strength 0–4
    if r.remaining >= 1:
        alarm = r.u8()  # alarm (first byte of alarm/language)
        attributes["alarm"] = alarm
        if event := _ALARM_CODES.get(alarm):
            found.append(event)
    if r.remaining >= 1:
        r.u8()  # language


def _status_gk310(r: Reader, attributes: dict[str, AttrValue]) -> None:
    status = r.u8()  # terminal status
    attributes["armed"] = bool(status & 0x01)
    attributes["ignition"] = bool(status & 0x02)
    attributes["charging"] = bool(status & 0x04)
    if r.remaining >= 2:
        attributes["battery_voltage"] = r.u16() / 100  # battery, 10 mV
    if r.remaining >= 1:
        attributes["rssi"] = r.u8()  # GSM signal
    if r.remaining >= 2:
        r.u16()  # language
