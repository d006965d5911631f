"""JT/T 808, the Chinese national vehicle terminal protocol many e-lock vendors speak.

Frames sit between 0x7E flags; inside, 0x7E is sent as 7D 02 and 0x7D as 7D 01. Header:
message ID, body attributes (length in bits 0–9, bit 13 sub-package, bit 14 the 2019 version),
[protocol version, 10-byte BCD phone] or a 6-byte BCD phone, serial number, [sub-package
counts]; then the body and an XOR check code over everything between the flags. The terminal
phone number is the device's identity in every frame.

The platform answers with the general response 0x8001 (the terminal's serial and message ID, a
result byte), or 0x8100 to a registration. Location bodies are decoded in ``jt808_location``.

A wrong check code or a 7D not followed by 01 or 02 is refused by default (``CHECK_POLICY``).
A listener may choose ``jt808.bad_check=flag`` (see ``integrity``): such a frame is then read
as traccar reads it — the lone 7D taken as the byte it is, the check code not enforced — and
its records are kept flagged, their seal state set aside.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols.base import Context, Frame, Framing, Message, MessageKind
from smartcustoms.tracking.protocols.checksums import xor8
from smartcustoms.tracking.protocols.framing import garbage
from smartcustoms.tracking.protocols.integrity import CheckPolicy, chosen_policy, set_aside
from smartcustoms.tracking.protocols.jt808_jointech import (
    JOINTECH_BLIND,
    JOINTECH_LOCATION,
    decode_jointech_location,
)
from smartcustoms.tracking.protocols.jt808_location import decode_location
from smartcustoms.tracking.protocols.reader import Reader
from smartcustoms.tracking.records import Position

__all__ = [
    "DEFAULT_UTC_OFFSET",
    "MAX_FRAME",
    "decode",
    "encode_frame",
    "encode_general_response",
    "encode_jointech_response",
    "encode_register_response",
    "escape",
    "frame",
    "unescape",
]

DEFAULT_UTC_OFFSET: Final = timedelta(hours=8)  # the standard's clock is Beijing time
_MAX_BODY: Final = 1023  # bits 0–9 of the body attributes
# Flag, 2019 header (17 bytes), sub-package info, body, check code, flag, each byte escaped.
MAX_FRAME: Final = 2 + 2 * (17 + 4 + _MAX_BODY + 1)
_MIN_FRAME: Final = 15  # flags, 12-byte header, check code
_DEFAULT_CONTEXT: Final = Context()

_TERMINAL_RESPONSE: Final = 0x0001
_HEARTBEAT: Final = 0x0002
_REGISTER: Final = 0x0100
_AUTHENTICATE: Final = 0x0102
_LOCATION: Final = 0x0200
_LOCATION_QUERY_RESPONSE: Final = 0x0201
_LOCATION_BATCH: Final = 0x0704
_LOCATION_MESSAGES: Final = frozenset({_LOCATION, _LOCATION_QUERY_RESPONSE, _LOCATION_BATCH})
_GENERAL_RESPONSE: Final = 0x8001
_JOINTECH_RESPONSE: Final = 0x4401
_REGISTER_RESPONSE: Final = 0x8100
# Messages that must not get a general response: the terminal's own responses (a reply would
# loop), replies to our queries, and registration (it gets 0x8100).
_NO_GENERAL_RESPONSE: Final = frozenset(
    {_TERMINAL_RESPONSE, _LOCATION_QUERY_RESPONSE, _REGISTER, JOINTECH_LOCATION, JOINTECH_BLIND}
)


def escape(content: bytes) -> bytes:
    """0x7D → 7D 01 and 0x7E → 7D 02 (in that order, so the new 7Ds are not escaped again)."""
    return content.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")


CHECK_POLICY: Final = CheckPolicy.REFUSE
BAD_CHECK_OPTION: Final = "jt808.bad_check"  # a listener's choice of policy, if it makes one


def unescape(raw: bytes, offset: int = 0) -> bytes:
    """Undo :func:`escape`; ``offset`` is where ``raw`` begins, for the error on a bad escape."""
    if b"\x7d" not in raw:
        return raw
    at = raw.find(b"\x7d")
    while at >= 0:
        if raw[at + 1 : at + 2] not in (b"\x01", b"\x02"):
            found = raw[at : at + 2].hex()
            raise FrameError(offset + at, "escape 7d01 or 7d02", found)
        at = raw.find(b"\x7d", at + 2)
    return raw.replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")


def _unescape_leniently(raw: bytes, offset: int) -> tuple[bytes, FrameError | None]:
    """Undo :func:`escape`, taking a 7D that starts no escape as the byte it is (a device that
    forgot to escape it); the first such place comes back as an error for the flag."""
    try:
        return unescape(raw, offset), None
    except FrameError as error:
        first = error
    out = bytearray()
    at = 0
    while (escape_at := raw.find(b"\x7d", at)) >= 0:
        out += raw[at:escape_at]
        code = raw[escape_at + 1 : escape_at + 2]
        out.append(0x7E if code == b"\x02" else 0x7D)
        at = escape_at + (2 if code in (b"\x01", b"\x02") else 1)
    out += raw[at:]
    return bytes(out), first


def encode_frame(
    message_id: int,
    phone: bytes,
    serial: int,
    body: bytes,
    *,
    version: int | None = None,
    serial_size: int = 2,
) -> bytes:
    """A complete frame: header, body, check code, escaped, between 0x7E flags."""
    attributes = len(body) | (0x4000 if version is not None else 0)
    header = message_id.to_bytes(2, "big") + attributes.to_bytes(2, "big")
    if version is not None:
        header += bytes((version,))
    content = header + phone + serial.to_bytes(serial_size, "big") + body
    return b"\x7e" + escape(content + bytes((xor8(content),))) + b"\x7e"


def encode_general_response(
    phone: bytes,
    reply_serial: int,
    reply_id: int,
    result: int = 0,
    *,
    serial: int = 0,
    version: int | None = None,
) -> bytes:
    """Platform general response 0x8001: the terminal's serial and message ID, result 0 = OK.

    ``phone`` is the terminal's identity field exactly as it sent it (6 or 10 BCD bytes);
    ``serial`` is the platform's own message counter (traccar always sends 0).
    """
    body = reply_serial.to_bytes(2, "big") + reply_id.to_bytes(2, "big") + bytes((result,))
    return encode_frame(_GENERAL_RESPONSE, phone, serial, body, version=version)


def encode_register_response(
    phone: bytes,
    reply_serial: int,
    auth_code: str,
    result: int = 0,
    *,
    serial: int = 0,
    version: int | None = None,
) -> bytes:
    """Registration response 0x8100: reply serial, result, and the authentication code to use."""
    body = reply_serial.to_bytes(2, "big") + bytes((result,)) + auth_code.encode("ascii")
    return encode_frame(_REGISTER_RESPONSE, phone, serial, body, version=version)


def encode_jointech_response(phone: bytes, reply_id: int, result: int = 0) -> bytes:
    """Jointech's short response 0x4401 to a 0x5501/0x5502 report that asked for one."""
    body = reply_id.to_bytes(2, "big") + bytes((result,))
    return encode_frame(_JOINTECH_RESPONSE, phone, 1, body, serial_size=1)


# --- framing -----------------------------------------------------------------------------------


def frame(buffer: bytes | bytearray | memoryview) -> Framing:
    """Cut 0x7E-delimited frames from a TCP byte stream."""
    buf = bytes(buffer)
    n = len(buf)
    pos = 0
    frames: list[Frame] = []
    errors: list[FrameError] = []
    while pos < n:
        start = buf.find(b"\x7e", pos)
        if start < 0:
            errors.append(_garbage(buf, pos, n))
            pos = n
            break
        if start > pos:
            errors.append(_garbage(buf, pos, start))
            pos = start
        end = buf.find(b"\x7e", start + 1)
        if end < 0:
            if n - start > MAX_FRAME:
                errors.append(
                    FrameError(start, "a closing 7e flag", f"{n - start} bytes without one")
                )
                pos = start + 1
                continue
            break  # wait for the closing flag
        if end == start + 1:
            pos = end  # two flags in a row: the first closed something we never saw
            continue
        if end - start + 1 < _MIN_FRAME:
            # Too short to be a frame: likely we started on a closing flag. Resume at ``end``.
            errors.append(FrameError(start, "a frame of at least 15 bytes", f"{end - start + 1}"))
            pos = end
            continue
        frames.append(Frame(buf[start : end + 1], start))
        pos = end + 1
    return Framing(tuple(frames), pos, tuple(errors))


def _garbage(buf: bytes, start: int, end: int) -> FrameError:
    return garbage(buf, start, end, "a 7e flag opening a JT/T 808 frame")


# --- decoding ----------------------------------------------------------------------------------


def decode(frame: bytes, context: Context = _DEFAULT_CONTEXT) -> Message:
    """One frame; location reports (0x0200, 0x0201, batch 0x0704) become records."""
    n = len(frame)
    if n < _MIN_FRAME or frame[0] != 0x7E or frame[-1] != 0x7E:
        raise FrameError(0, "a frame between 7e flags, at least 15 bytes", frame[:4].hex() + "…")
    flag = chosen_policy(context, BAD_CHECK_OPTION, CHECK_POLICY) is CheckPolicy.FLAG
    problems: list[FrameError] = []
    if flag:
        content, escape_error = _unescape_leniently(frame[1:-1], 1)
        if escape_error is not None:
            problems.append(escape_error)
    else:
        content = unescape(frame[1:-1], 1)
    try:
        check = xor8(content[:-1])
        if content[-1] != check:
            wrong = FrameError(
                len(content) - 1, f"check code 0x{check:02x}", f"0x{content[-1]:02x}"
            )
            if not flag:
                raise wrong
            problems.append(_in_frame(frame, wrong))
        message = _decode_content(content, context)
    except FrameError as error:
        raise _in_frame(frame, error) from None
    if not problems or not message.records:
        return message
    records = tuple(set_aside(record, problems) for record in message.records)
    return Message(message.kind, message.device_id, records, message.ack, message.utc_offset)


def _in_frame(frame: bytes, error: FrameError) -> FrameError:
    # Offsets so far count unescaped content; report them in the frame as received.
    return FrameError(_raw_offset(frame, error.offset), error.expected, error.found)


def _decode_content(content: bytes, context: Context) -> Message:
    r = Reader(content, 0, len(content) - 1)
    message_id = r.u16()  # message ID
    attributes = r.u16()  # body attributes
    version = r.u8() if attributes & 0x4000 else None  # protocol version (2019 frames)
    phone = r.take(10 if version is not None else 6)  # terminal phone number, BCD
    jointech = message_id in (JOINTECH_LOCATION, JOINTECH_BLIND)
    serial = r.u8() if jointech else r.u16()  # message serial number (1 byte in Jointech's)
    if attributes & 0x2000:
        total = r.u16()  # total sub-packages
        number = r.u16()  # this sub-package's number
        if total > 1 and message_id in _LOCATION_MESSAGES:
            # Locations come whole in practice (sub-packages carry photos); we do not reassemble.
            raise FrameError(2, "a location report in one packet", f"sub-package {number}/{total}")
    # The body runs to the check code. Its declared length (bits 0–9) is not checked: the
    # flags already delimit the frame, the check code vouches for it, and some devices
    # miscount (traccar ignores the field too).
    device_id = _device_id(phone)
    ack = None
    if message_id == _REGISTER:
        ack = encode_register_response(phone, serial, device_id, version=version)
    elif jointech and attributes & 0x8000:
        ack = encode_jointech_response(phone, message_id)
    elif message_id < 0x8000 and message_id not in _NO_GENERAL_RESPONSE:
        ack = encode_general_response(phone, serial, message_id, version=version)
    utc_offset = DEFAULT_UTC_OFFSET if context.utc_offset is None else context.utc_offset
    records: tuple[Position, ...] = ()
    if message_id == _LOCATION:
        records = (decode_location(r, device_id, utc_offset, context.now()),)
    elif message_id == _LOCATION_QUERY_RESPONSE:
        r.u16()  # serial of the query answered
        records = (decode_location(r, device_id, utc_offset, context.now()),)
    elif message_id == _LOCATION_BATCH:
        records = _batch(r, device_id, utc_offset, context)
    elif jointech:
        records = (decode_jointech_location(r, device_id, message_id, context.now()),)
    if records:
        return Message(MessageKind.DATA, device_id, records, ack)
    if message_id in (_REGISTER, _AUTHENTICATE):
        return Message(MessageKind.LOGIN, device_id, (), ack)
    if message_id == _HEARTBEAT:
        return Message(MessageKind.HEARTBEAT, device_id, (), ack)
    return Message(MessageKind.OTHER, device_id, (), ack)


def _batch(
    r: Reader, device_id: str, utc_offset: timedelta, context: Context
) -> tuple[Position, ...]:
    count = r.u16()  # number of location items
    r.u8()  # 0 normal batch, 1 blind-area re-upload
    received_at = context.now()
    records = []
    for _ in range(count):
        length = r.u16()  # length of this location report body
        end = r.pos + length
        if end > r.end:
            raise FrameError(r.pos - 2, f"a location item of at most {r.remaining}", str(length))
        records.append(
            decode_location(Reader(r.data, r.pos, end), device_id, utc_offset, received_at)
        )
        r.pos = end
    return tuple(records)


def _device_id(phone: bytes) -> str:
    """The terminal phone number's BCD digits; an IMEI when the field is not BCD.

    Some trackers put their IMEI there as a binary number (2 + 4 bytes) without its check
    digit; traccar reads it back so and appends the Luhn digit, and so do we.
    """
    digits = phone.hex()
    if digits.isdigit():
        return digits
    imei = int.from_bytes(phone[:6], "big")
    return f"{imei}{_luhn(imei)}"


def _luhn(number: int) -> int:
    """The Luhn check digit to append to ``number``."""
    total = 0
    for i, char in enumerate(reversed(str(number))):
        digit = int(char)
        if i % 2 == 0:
            digit *= 2
            if digit >= 10:
                digit = 1 + digit % 10
        total += digit
    return (10 - total % 10) % 10


def _raw_offset(frame: bytes, content_offset: int) -> int:
    """Where unescaped content byte ``content_offset`` sits in the escaped frame."""
    raw = 1
    for _ in range(content_offset):
        # A 7D that starts no escape stands for itself (read so under the flag policy only).
        raw += 2 if frame[raw] == 0x7D and frame[raw + 1] in (0x01, 0x02) else 1
        if raw >= len(frame):
            return len(frame) - 1
    return raw
