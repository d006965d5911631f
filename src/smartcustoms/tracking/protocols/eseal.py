"""The ASCII e-seal protocol traccar calls ``eseal`` (door, shock, drop, lock, remote unlock).

One sentence per report::

    ##S,<device type>,<device id>,<customer id>,<firmware>,<type>,<index>,<yyyy-mm-dd>,
    <hh:mm:ss>,<interval>,<A|V>,<lat>N|S <lon>E|W,<course>,<speed km/h>,<Open|Close>,
    <acceleration>,<nfc>,<battery V>,<rssi dBm>,E##

Report types Startup, Normal, Button-Normal, Termination and Event-… are answered with the
sentence's prefix (up to the type), ``<type> ACK,<index>`` (plus the configuration for Startup)
and ``,E##\\r\\n``. Other sentences (the device's ``Startup OK`` configuration echo) carry no
position and get no answer.
"""

from __future__ import annotations

from typing import Final

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.plausibility import check_coordinates, implausible
from smartcustoms.tracking.protocols.base import Context, Frame, Framing, Message, MessageKind
from smartcustoms.tracking.protocols.datetimes import from_fields
from smartcustoms.tracking.protocols.framing import garbage
from smartcustoms.tracking.protocols.textfields import Fields
from smartcustoms.tracking.records import AttrValue, Position, SealEvent

__all__ = ["MAX_FRAME", "STARTUP_CONFIG_OPTION", "decode", "encode_ack", "frame"]

MAX_FRAME: Final = 512
STARTUP_CONFIG_OPTION: Final = "eseal.startup_config"  # Context.options key
_START: Final = b"##S,"
_END: Final = b"E##"
_DEFAULT_CONTEXT: Final = Context()
_EVENTS: Final = {
    "Event-Shock": SealEvent.VIBRATION,
    "Event-Drop": SealEvent.TAMPER,  # the seal fell from where it was fixed
    "Event-Lock": SealEvent.LOCKED,
    "Event-RC-Unlock": SealEvent.UNLOCKED,
}
_REPORTS: Final = frozenset(
    {"Startup", "Normal", "Button-Normal", "Termination", "Event-Door", *_EVENTS}
)


def encode_ack(prefix: str, report_type: str, index: int, config: str | None = None) -> bytes:
    """``<prefix><type> ACK,<index>[,<config>],E##\\r\\n``; the config goes with Startup only."""
    payload = f"{index},{config}" if config else str(index)
    return f"{prefix}{report_type} ACK,{payload},E##\r\n".encode("ascii")


# --- framing -----------------------------------------------------------------------------------


def frame(buffer: bytes | bytearray | memoryview) -> Framing:
    """Cut ``##S,…,E##`` sentences from a TCP byte stream; line breaks between them are fine."""
    buf = bytes(buffer)
    n = len(buf)
    pos = 0
    frames: list[Frame] = []
    errors: list[FrameError] = []
    while pos < n:
        start = buf.find(_START, pos)
        if start < 0:
            keep = _partial_start(buf, pos)
            if buf[pos:keep].strip():
                errors.append(_garbage(buf, pos, keep))
            pos = keep
            break
        if buf[pos:start].strip():
            errors.append(_garbage(buf, pos, start))
        pos = start
        end = buf.find(_END, start + len(_START), start + MAX_FRAME)
        if end < 0:
            if n - start >= MAX_FRAME:
                errors.append(
                    FrameError(start, "E## ending the sentence", f"{MAX_FRAME} bytes without")
                )
                pos = start + 1
                continue
            break
        frames.append(Frame(buf[start : end + len(_END)], start))
        pos = end + len(_END)
    return Framing(tuple(frames), pos, tuple(errors))


def _partial_start(buf: bytes, pos: int) -> int:
    """Where a sentence may be starting at the very end of the buffer (keep those bytes)."""
    for size in range(len(_START) - 1, 0, -1):
        if len(buf) - size >= pos and buf.endswith(_START[:size]):
            return len(buf) - size
    return len(buf)


def _garbage(buf: bytes, start: int, end: int) -> FrameError:
    return garbage(buf, start, end, "##S, opening an e-seal sentence")


# --- decoding ----------------------------------------------------------------------------------


def decode(frame: bytes, context: Context = _DEFAULT_CONTEXT) -> Message:
    """One sentence; reports become a record and an acknowledgement."""
    try:
        text = frame.decode("ascii").rstrip("\r\n")
    except UnicodeDecodeError as error:
        raise FrameError(
            error.start, "ASCII text", frame[error.start : error.start + 1].hex()
        ) from None
    if not text.startswith("##S,"):
        raise FrameError(0, "##S,", repr(text[:4]))
    if not text.endswith(",E##"):
        raise FrameError(max(len(text) - 4, 0), ",E## ending the sentence", repr(text[-4:]))
    fields = Fields(text[4:-4], base=4)
    fields.require(6, "device type, device id, customer id, firmware, type, index")
    device_id = fields.text(1)
    report = fields.text(4)
    if report not in _REPORTS:
        return Message(MessageKind.OTHER, device_id or context.device_id)
    fields.require(18, f"{report} report")
    index = fields.integer(5, "index")
    year, month, day = _date(fields, 6)
    hour, minute, second = _clock(fields, 7)
    time = from_fields(year, month, day, hour, minute, second, offset=fields.offsets[6])
    latitude, longitude = _coordinates(fields, 10)
    course = float(fields.integer(11, "course"))
    speed = float(fields.integer(12, "speed, km/h"))
    door = fields.choice(13, ("Open", "Close"), "door")
    found = []
    if report == "Event-Door":
        found.append(SealEvent.OPENED if door == "Open" else SealEvent.CLOSED)
    elif event := _EVENTS.get(report):
        found.append(event)
    attributes: dict[str, AttrValue] = {
        "device_type": fields.text(0),
        "customer_id": fields.text(2),
        "firmware": fields.text(3),
        "message": report,
        "index": index,
        "interval": fields.integer(8, "report interval"),
        "door_open": door == "Open",
        "acceleration": fields.decimal(14, "acceleration"),
        "nfc": fields.text(15),
        "battery_voltage": fields.decimal(16, "battery, V"),
        "rssi": fields.integer(17, "RSSI, dBm"),
    }
    record = Position(
        device_id=device_id,
        time=time,
        latitude=latitude,
        longitude=longitude,
        speed_kmh=speed,
        course=course,
        valid=fields.choice(9, ("A", "V"), "validity") == "A",
        events=tuple(found),
        attributes=attributes,
        implausible=implausible(time, speed, course, context.now()),
    )
    prefix = text[: fields.offsets[4]]
    config = context.options.get(STARTUP_CONFIG_OPTION) if report == "Startup" else None
    return Message(
        MessageKind.DATA, device_id, (record,), encode_ack(prefix, report, index, config)
    )


def _date(fields: Fields, i: int) -> tuple[int, int, int]:
    parts = fields.text(i).split("-")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        raise fields.error(i, "a date yyyy-mm-dd")
    return int(parts[0]), int(parts[1]), int(parts[2])


def _clock(fields: Fields, i: int) -> tuple[int, int, int]:
    parts = fields.text(i).split(":")
    if len(parts) != 3 or not all(len(p) == 2 and p.isascii() and p.isdigit() for p in parts):
        raise fields.error(i, "a time hh:mm:ss")
    return int(parts[0]), int(parts[1]), int(parts[2])


def _coordinates(fields: Fields, i: int) -> tuple[float, float]:
    """``25.708828N 100.372870W``: decimal degrees, each followed by its hemisphere."""
    parts = fields.text(i).split(" ")
    if len(parts) != 2 or len(parts[0]) < 2 or len(parts[1]) < 2:
        raise fields.error(i, "latitude and longitude like 25.708828N 100.372870W")
    lat_text, lon_text = parts
    inner = Fields(f"{lat_text[:-1]},{lon_text[:-1]}", fields.offsets[i])
    latitude = inner.decimal(0, "latitude")
    longitude = inner.decimal(1, "longitude")
    if lat_text[-1] not in "NS" or lon_text[-1] not in "EW":
        raise fields.error(i, "hemisphere letters N or S, then E or W")
    latitude = -latitude if lat_text[-1] == "S" else latitude
    longitude = -longitude if lon_text[-1] == "W" else longitude
    check_coordinates(latitude, longitude, fields.offsets[i])
    return latitude, longitude
