"""Teltonika FMB/FMC/FMM trackers: Codec 8, Codec 8 Extended and Codec 16.

Over TCP a device first sends its IMEI (2-byte length, ASCII digits) and waits for 0x01; then
AVL packets: preamble 00000000, data length, codec, records, record count again, CRC-16/IBM.
The server answers each packet with the number of records it accepted (4 bytes). Over UDP each
datagram carries its own header with the IMEI, has no CRC, and is answered with an echo of its
packet IDs. Wire units: km/h, degrees ×10⁷, milliseconds since 1970 UTC.

:func:`decode` tells the three forms apart by shape (login: length + digits; TCP: zero
preamble; anything else is tried as a UDP datagram), so it serves both listeners and the CLI.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from itertools import chain
from operator import itemgetter
from typing import Final

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.plausibility import (
    EARLIEST_TIME,
    FUTURE_SLACK,
    MAX_SPEED_KMH,
    check_coordinates,
    implausible,
)
from smartcustoms.tracking.protocols.base import Context, Framing, Message, MessageKind
from smartcustoms.tracking.protocols.checksums import crc16_ibm
from smartcustoms.tracking.protocols.datetimes import from_epoch_ms
from smartcustoms.tracking.protocols.framing import cut_sized
from smartcustoms.tracking.protocols.reader import Reader
from smartcustoms.tracking.records import (
    AttrValue,
    Position,
    SealEvent,
    events,
    trusted_position,
)

__all__ = [
    "LOGIN_REFUSAL",
    "MAX_FRAME",
    "decode",
    "encode_login_reply",
    "encode_tcp_ack",
    "encode_udp_ack",
    "frame",
]

_MAX_DATA_LENGTH: Final = 65_536  # far above any device's packet; a larger length is garbage
MAX_FRAME: Final = 12 + _MAX_DATA_LENGTH
# The login is always 000F and 15 digits; accepting other lengths would let a stray "00 05 …"
# in garbage pass for a login and rename the connection's device.
_IMEI_DIGITS: Final = 15
_AVL_CODECS: Final = {0x08: "8", 0x8E: "8E", 0x10: "16"}
_COMMAND_CODECS: Final = frozenset({0x0C, 0x0D, 0x0E})  # GPRS command replies: nothing to store
_DEFAULT_CONTEXT: Final = Context()
_DIGITS: Final = frozenset(b"0123456789")


def encode_login_reply(accepted: bool) -> bytes:
    """The one byte a device waits for after its IMEI: 0x01 to go on, 0x00 to refuse it."""
    return b"\x01" if accepted else b"\x00"


LOGIN_REFUSAL: Final = encode_login_reply(False)  # then the server hangs up


def encode_tcp_ack(count: int) -> bytes:
    """TCP acknowledgement: the number of records accepted, 4 bytes big-endian."""
    return count.to_bytes(4, "big")


def encode_udp_ack(packet_id: int, avl_packet_id: int, count: int) -> bytes:
    """UDP acknowledgement: length 5, the packet ID, 0x01, the AVL packet ID, records accepted."""
    return b"\x00\x05" + packet_id.to_bytes(2, "big") + bytes((1, avl_packet_id, count))


# --- framing (TCP) -----------------------------------------------------------------------------


def frame(buffer: bytes | bytearray | memoryview) -> Framing:
    """Cut IMEI logins and AVL packets from a TCP byte stream."""
    return cut_sized(buffer, _frame_size, _next_zero, _EXPECTED)


def _next_zero(buf: bytes, at: int) -> int:
    # Every Teltonika frame starts with a zero byte: resume at the next one.
    nxt = buf.find(b"\x00", at)
    return len(buf) if nxt < 0 else nxt


def _frame_size(buf: bytes, pos: int) -> int:
    """Size of the frame starting at ``pos``; 0 if more bytes must come to tell; -1 if none."""
    rest = len(buf) - pos
    if buf[pos] != 0:
        return -1
    if rest < 2:
        return 0
    second = buf[pos + 1]
    if second == 0:
        if any(buf[pos + 2 : pos + 4]):
            return -1
        if rest < 8:
            return 0
        length = int.from_bytes(buf[pos + 4 : pos + 8], "big")  # data field length
        if not 3 <= length <= _MAX_DATA_LENGTH:
            return -1
        return 12 + length
    if second == _IMEI_DIGITS:
        seen = buf[pos + 2 : pos + 2 + second]
        if not _DIGITS.issuperset(seen):
            return -1
        return 2 + second
    return -1


_EXPECTED: Final = "a Teltonika frame (IMEI login 000F… or AVL preamble 00000000)"


# --- decoding ----------------------------------------------------------------------------------


def decode(frame: bytes, context: Context = _DEFAULT_CONTEXT) -> Message:
    """An IMEI login, a TCP AVL packet or a UDP datagram, told apart by shape."""
    n = len(frame)
    if n == 2 + _IMEI_DIGITS and frame[0] == 0 and frame[1] == _IMEI_DIGITS:
        return _decode_login(frame)
    if n >= 4 and frame[:4] == b"\x00\x00\x00\x00":
        return _decode_tcp(frame, context)
    return _decode_udp(frame, context)


def _decode_login(frame: bytes) -> Message:
    imei = _digits(frame, 2, len(frame) - 2, "IMEI")
    return Message(MessageKind.LOGIN, imei, (), encode_login_reply(True))


def _decode_tcp(frame: bytes, context: Context) -> Message:
    n = len(frame)
    r = Reader(frame, 4)
    r.need(8, "data field length, codec and record counts")
    length = r.u32()  # data field length: codec ID .. number of data 2
    if length + 12 != n:
        raise FrameError(4, f"data field length {n - 12} (the packet's size)", str(length))
    crc_field = int.from_bytes(frame[n - 4 :], "big")  # CRC-16 in the low two of four bytes
    crc = crc16_ibm(memoryview(frame)[8 : n - 4])
    if crc_field != crc:
        raise FrameError(n - 4, f"CRC 0x{crc:04x}", f"0x{crc_field:04x}")
    kind, records = _decode_data(Reader(frame, 8, n - 4), context.device_id, context)
    ack = encode_tcp_ack(len(records)) if kind is MessageKind.DATA else None
    return Message(kind, context.device_id, records, ack)


def _decode_udp(frame: bytes, context: Context) -> Message:
    n = len(frame)
    r = Reader(frame)
    r.need(8, "UDP header")
    length = r.u16()  # bytes after this field
    if length != n - 2:
        raise FrameError(0, f"UDP length {n - 2} (the datagram's size)", str(length))
    packet_id = r.u16()  # packet ID, echoed in the ACK
    r.u8()  # not usable byte (0x01)
    avl_packet_id = r.u8()  # AVL packet ID, echoed in the ACK
    imei_length = r.u16()  # IMEI length (15)
    imei_at = r.pos
    r.take(imei_length)
    imei = _digits(frame, imei_at, imei_length, "IMEI")
    kind, records = _decode_data(Reader(frame, r.pos, n), imei, context)
    ack = encode_udp_ack(packet_id, avl_packet_id, len(records))
    return Message(kind, imei, records, ack)


def _digits(frame: bytes, at: int, count: int, what: str) -> str:
    text = frame[at : at + count]
    if not text or not _DIGITS.issuperset(text):
        raise FrameError(at, f"{count} ASCII digits ({what})", text.hex() or "nothing")
    return text.decode("ascii")


def _decode_data(
    r: Reader, device_id: str | None, context: Context
) -> tuple[MessageKind, tuple[Position, ...]]:
    """Codec ID, number of data 1, the records, number of data 2 (must match), nothing after."""
    codec_at = r.pos
    codec = r.u8()  # codec ID
    if codec in _COMMAND_CODECS:
        return MessageKind.OTHER, ()
    if codec not in _AVL_CODECS:
        raise FrameError(codec_at, "codec 0x08, 0x8E or 0x10", f"0x{codec:02x}")
    count = r.u8()  # number of data 1
    received_at = context.now()
    fast = _fast_records(r.data, r.pos, r.end, codec, count, device_id, received_at)
    if fast is not None:
        records, r.pos = fast
    else:  # something to report precisely (or rare): the checked, field-by-field reader
        records = tuple(_record(r, codec, device_id, received_at) for _ in range(count))
    count_at = r.pos
    count2 = r.u8()  # number of data 2
    if count2 != count:
        raise FrameError(count_at, f"number of data {count} (as at the start)", str(count2))
    if r.remaining:
        raise FrameError(r.pos, "the end of the data field", f"{r.remaining} more bytes")
    return MessageKind.DATA, records


_RECORD_HEAD = struct.Struct(">QBiihHBH")  # timestamp … speed: 24 bytes
_HEAD_AT: Final = _RECORD_HEAD.unpack_from
_ID_TEXT: Final = tuple(str(i) for i in range(256))  # 1-byte IO IDs as attribute keys
_U32_AT: Final = struct.Struct(">I").unpack_from
_U64_AT: Final = struct.Struct(">Q").unpack_from
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EVENT_IO: Final = frozenset({"252", "249", "318", "236"})  # see _events
_MICROSECOND: Final = timedelta(microseconds=1)
_EARLIEST_US: Final = (EARLIEST_TIME - _EPOCH) // _MICROSECOND
# Below 2**32 s (the year 2106) a double holds ms / 1000 within a quarter of a microsecond, so
# datetime.fromtimestamp (which rounds to the nearest microsecond) gives the exact millisecond.
_FLOAT_EXACT_US: Final = 2**32 * 1_000_000 - 1


def _fast_records(
    data: bytes, pos: int, end: int, codec: int, count: int, device_id: str | None, now: datetime
) -> tuple[tuple[Position, ...], int] | None:
    """The records of a well-formed packet, read without a call per field; ``None`` when the
    packet has anything :func:`_record` would report (or is not plain Codec 8).

    The hot path of every Teltonika listener. It gives exactly what :func:`_record` gives (the
    tests compare them on every vector and on fuzzed packets); whatever it does not handle
    — truncation, impossible values, implausible ones, Codec 8E/16 — goes to :func:`_record`,
    which says precisely what is wrong and where.
    """
    if codec != 0x08:
        return None
    uniform = _uniform_records(data, pos, end, count, device_id, now)
    if uniform is not None:
        return uniform
    out = []
    # The plausible times as microseconds since 1970 (the record's time is a whole number of
    # them), so a record is checked before its datetime is made; never past _FLOAT_EXACT_US.
    earliest = _EARLIEST_US
    latest = min((now + FUTURE_SLACK - _EPOCH) // _MICROSECOND, _FLOAT_EXACT_US)
    from_timestamp = datetime.fromtimestamp
    ids = _ID_TEXT
    for _ in range(count):
        q = pos + 24  # the IO element
        if q + 3 > end:
            return None
        ms, priority, lon_e7, lat_e7, altitude, angle, satellites, speed = _HEAD_AT(data, pos)
        if not earliest <= ms * 1000 <= latest or speed > MAX_SPEED_KMH or angle > 360:
            return None
        latitude = lat_e7 / 10_000_000
        longitude = lon_e7 / 10_000_000
        if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
            return None
        # _EPOCH + timedelta(milliseconds=ms), in half the time: exact below _FLOAT_EXACT_US.
        time = from_timestamp(ms / 1000, UTC)
        event_io = data[q]  # then the total IO count, unused
        n = data[q + 2]  # 1-byte values
        q += 3
        stop = q + 2 * n
        if stop >= end:
            return None
        io: dict[str, int] = {}
        for k in range(q, stop, 2):
            io[ids[data[k]]] = data[k + 1]
        n = data[stop]  # 2-byte values
        q = stop + 1
        stop = q + 3 * n
        if stop >= end:
            return None
        for k in range(q, stop, 3):
            io[ids[data[k]]] = data[k + 1] << 8 | data[k + 2]
        n = data[stop]  # 4-byte values
        q = stop + 1
        stop = q + 5 * n
        if stop >= end:
            return None
        for k in range(q, stop, 5):
            io[ids[data[k]]] = _U32_AT(data, k + 1)[0]
        n = data[stop]  # 8-byte values
        q = stop + 1
        stop = q + 9 * n
        if stop > end:
            return None
        for k in range(q, stop, 9):
            io[ids[data[k]]] = _U64_AT(data, k + 1)[0]
        pos = stop
        attributes: dict[str, AttrValue] = {
            "codec": "8",
            "priority": priority,
            "event_io_id": event_io,
            "io": io,
        }
        # _normalise, written out: Codec 8 values are all integers.
        if (value := io.get("239")) is not None:
            attributes["ignition"] = value == 1
        if (value := io.get("66")) is not None:
            attributes["power_voltage"] = value / 1000
        if (value := io.get("67")) is not None:
            attributes["battery_voltage"] = value / 1000
        if (value := io.get("16")) is not None:
            attributes["odometer_m"] = value
        if (value := io.get("21")) is not None:
            attributes["rssi"] = value
        out.append(
            trusted_position(
                device_id,
                time,
                latitude,
                longitude,
                float(speed),
                float(angle),
                satellites,
                satellites > 0,
                float(altitude),
                () if _EVENT_IO.isdisjoint(io) else _events(io),
                attributes,
                (),  # implausible records went to _record
            )
        )
    return tuple(out), pos


class _Layout:
    """One Codec 8 record shape: how many IO elements of each size (not their IDs or values).

    ``unpack`` reads a whole record of this shape in one call: the 8 fields of the head, the
    event IO ID, the total count, then each group's count and its (ID, value) pairs.
    """

    __slots__ = ("counts", "ids", "size", "unpack", "values")

    def __init__(self, n1: int, n2: int, n4: int, n8: int) -> None:
        fmt = ">QBiihHBH" + "BBB" + "BB" * n1 + "B" + "BH" * n2 + "B" + "BI" * n4 + "B" + "BQ" * n8
        record = struct.Struct(fmt)
        self.size = record.size
        self.unpack = record.iter_unpack
        # Tuple positions of the counts and the IO IDs (what must be the same in every record
        # of the frame), and of the values. At least the four counts: always a tuple.
        counts: list[int] = [10]
        ids: list[int] = []
        values: list[int] = []
        at = 11
        for n, nxt in ((n1, n2), (n2, n4), (n4, n8), (n8, None)):
            ids += range(at, at + 2 * n, 2)
            values += range(at + 1, at + 2 * n, 2)
            at += 2 * n
            if nxt is not None:
                counts.append(at)
                at += 1
        self.counts = itemgetter(*(counts + ids))  # at least four: always a tuple
        self.ids = tuple(ids)
        self.values: Callable[[tuple[int, ...]], tuple[int, ...]]
        if len(values) >= 2:
            self.values = itemgetter(*values)
        elif values:
            (only,) = values
            self.values = lambda record: (record[only],)
        else:
            self.values = lambda record: ()


_LAYOUTS: dict[tuple[int, int, int, int], _Layout] = {}
_LAYOUTS_KEPT: Final = 256  # hostile packets can name any counts: the cache stays small


def _layout_at(data: bytes, pos: int, end: int) -> _Layout | None:
    """The shape of the record at ``pos``, or ``None`` if it does not fit before ``end``."""
    q = pos + 26  # the 1-byte count
    counts = []
    for step in (2, 3, 5, 9):
        if q >= end:
            return None
        n = data[q]
        counts.append(n)
        q += 1 + step * n
    if q > end:
        return None
    key = (counts[0], counts[1], counts[2], counts[3])
    layout = _LAYOUTS.get(key)
    if layout is None:
        if len(_LAYOUTS) >= _LAYOUTS_KEPT:
            _LAYOUTS.clear()
        layout = _LAYOUTS[key] = _Layout(*key)
    return layout


def _uniform_records(
    data: bytes, pos: int, end: int, count: int, device_id: str | None, now: datetime
) -> tuple[tuple[Position, ...], int] | None:
    """:func:`_fast_records` for a packet whose records all have the first one's shape and IO
    IDs (a device sends the same IO elements in every record): each record read in one
    ``struct`` call and its IO element made in one ``dict``, no Python loop over its fields.
    ``None`` for anything else, which :func:`_fast_records` then reads record by record."""
    if count == 0 or pos + 26 >= end:
        return None
    layout = _layout_at(data, pos, end)
    if layout is None:
        return None
    stop = pos + count * layout.size
    if stop > end:
        return None
    records = layout.unpack(memoryview(data)[pos:stop])
    first = next(records)
    expected = layout.counts(first)
    ids = _ID_TEXT
    keys = tuple([ids[first[i]] for i in layout.ids])
    values_of = layout.values
    shape_of = layout.counts
    earliest = _EARLIEST_US
    latest = min((now + FUTURE_SLACK - _EPOCH) // _MICROSECOND, _FLOAT_EXACT_US)
    from_timestamp = datetime.fromtimestamp
    out: list[Position] = []
    append = out.append
    for record in chain((first,), records):
        if shape_of(record) != expected:
            return None
        ms, priority, lon_e7, lat_e7, altitude, angle, satellites, speed = record[:8]
        if not earliest <= ms * 1000 <= latest or speed > MAX_SPEED_KMH or angle > 360:
            return None
        latitude = lat_e7 / 10_000_000
        longitude = lon_e7 / 10_000_000
        if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
            return None
        # Same order, and the same last-one-wins for a repeated ID, as the loop in
        # _fast_records. As many values as keys (the layout's): zip's strict check would
        # cost more than the rest of this line.
        io: dict[str, int] = dict(zip(keys, values_of(record)))  # noqa: B905
        attributes: dict[str, AttrValue] = {
            "codec": "8",
            "priority": priority,
            "event_io_id": record[8],
            "io": io,
        }
        if (value := io.get("239")) is not None:
            attributes["ignition"] = value == 1
        if (value := io.get("66")) is not None:
            attributes["power_voltage"] = value / 1000
        if (value := io.get("67")) is not None:
            attributes["battery_voltage"] = value / 1000
        if (value := io.get("16")) is not None:
            attributes["odometer_m"] = value
        if (value := io.get("21")) is not None:
            attributes["rssi"] = value
        append(
            trusted_position(
                device_id,
                from_timestamp(ms / 1000, UTC),  # exact: see _fast_records
                latitude,
                longitude,
                float(speed),
                float(angle),
                satellites,
                satellites > 0,
                float(altitude),
                () if _EVENT_IO.isdisjoint(io) else _events(io),
                attributes,
                (),
            )
        )
    return tuple(out), stop


def _record(r: Reader, codec: int, device_id: str | None, received_at: datetime) -> Position:
    start = r.pos
    r.need(24, "AVL record timestamp, priority and GPS element")
    (
        ms,  # timestamp, ms since 1970 UTC
        priority,  # 0 low, 1 high, 2 panic
        lon_e7,  # longitude, degrees ×10⁷
        lat_e7,  # latitude, degrees ×10⁷
        altitude,  # metres above sea level
        angle,  # degrees from north
        satellites,  # satellites in use
        speed,  # km/h
    ) = _RECORD_HEAD.unpack_from(r.data, start)
    r.pos = start + 24
    time = from_epoch_ms(ms, offset=start)
    latitude = lat_e7 / 10_000_000
    longitude = lon_e7 / 10_000_000
    check_coordinates(latitude, longitude, start + 9)
    event_io, io = _io_element(r, codec)
    attributes: dict[str, AttrValue] = {
        "codec": _AVL_CODECS[codec],
        "priority": priority,
        "event_io_id": event_io,
        "io": io,
    }
    _normalise(io, attributes)
    return Position(
        device_id=device_id,
        time=time,
        latitude=latitude,
        longitude=longitude,
        speed_kmh=float(speed),
        course=float(angle),
        satellites=satellites,
        valid=satellites > 0,  # no satellites means the coordinates are the last fix or zero
        altitude=float(altitude),
        events=_events(io),
        attributes=attributes,
        implausible=implausible(time, float(speed), float(angle), received_at),
    )


def _io_element(r: Reader, codec: int) -> tuple[int, dict[str, AttrValue]]:
    """The IO element: event IO ID, total count, then ID/value groups of 1, 2, 4 and 8 bytes.

    Codec 8 uses 1-byte IDs and counts; 8E 2-byte IDs and counts plus variable-length values;
    16 2-byte IDs with 1-byte counts and a generation-type byte.
    """
    io: dict[str, AttrValue] = {}
    wide = codec != 0x08  # 2-byte IO IDs
    extended = codec == 0x8E  # 2-byte counts
    event_io = r.u16() if wide else r.u8()  # event IO ID
    if codec == 0x10:
        io["generation_type"] = r.u8()  # codec 16: what triggered the record
    if extended:
        r.u16()  # total IO count
    else:
        r.u8()  # total IO count
    data = r.data
    for size in (1, 2, 4, 8):
        count = r.u16() if extended else r.u8()  # number of IO elements of this size
        step = (2 if wide else 1) + size
        r.need(count * step, f"{count} IO elements of {size} bytes")
        at = r.pos
        end = at + count * step
        # The group's bounds are checked once above; read it without a call per field.
        if wide:
            for q in range(at, end, step):
                io[str(data[q] << 8 | data[q + 1])] = int.from_bytes(data[q + 2 : q + step], "big")
        elif size == 1:
            for q in range(at, end, 2):
                io[_ID_TEXT[data[q]]] = data[q + 1]
        else:
            for q in range(at, end, step):
                io[_ID_TEXT[data[q]]] = int.from_bytes(data[q + 1 : q + step], "big")
        r.pos = end
    if extended:
        for _ in range(r.u16()):  # count of variable-length IO
            key = str(r.u16())  # IO ID
            io[key] = r.take(r.u16()).hex()  # value length, then the value
    return event_io, io


def _normalise(io: dict[str, AttrValue], attributes: dict[str, AttrValue]) -> None:
    """Copy the common IO elements under the shared attribute names (see records.py)."""
    if isinstance(ignition := io.get("239"), int):
        attributes["ignition"] = ignition == 1
    if isinstance(power := io.get("66"), int):
        attributes["power_voltage"] = power / 1000  # external voltage, mV
    if isinstance(battery := io.get("67"), int):
        attributes["battery_voltage"] = battery / 1000  # battery voltage, mV
    if isinstance(odometer := io.get("16"), int):
        attributes["odometer_m"] = odometer  # total odometer, m
    if isinstance(gsm := io.get("21"), int):
        attributes["rssi"] = gsm  # GSM signal, 0–5


def _events(io: Mapping[str, AttrValue]) -> tuple[SealEvent, ...]:
    found = []
    if io.get("252") == 1:  # unplug: external power disconnected
        found.append(SealEvent.POWER_CUT)
    if io.get("249") == 1:  # jamming detection: jamming started
        found.append(SealEvent.GPS_JAMMING)
    gnss_jamming = io.get("318")  # GNSS jamming: 1 warning, 2 critical
    if isinstance(gnss_jamming, int) and gnss_jamming >= 1:
        found.append(SealEvent.GPS_JAMMING)
    if io.get("236") == 1:  # alarm button
        found.append(SealEvent.SOS)
    return events(found) if found else ()
