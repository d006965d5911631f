"""Long-format (e-lock) binary frames: every tail the firmware versions send after the fixed
e-lock fields, read to the frame's end instead of being mistaken for another position."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols import jt701

# traccar's Jt600ProtocolDecoderTest (traccar/traccar, Apache-2.0): protocol version 0x01 and
# 0x16, no tail; version 0x17 with the geofence block and lock-specific fields.
V01 = bytes.fromhex(
    "2475201509260111002313101503464722331560113555309F00000000002D0500CB206800F064109326381A03"
)
V16 = bytes.fromhex(
    "2475201509261611002313101503464722331560113555309F00000000002D0500CB206800F064109326381A03"
)
V17 = bytes.fromhex(
    "2475810297431713003401010000030100000000000000000e000000000001000000000020e0641aba1b6f1b0000"
    "0f0f0f0f0f0f0f0f0f0f000001942803"
)
SECOND_AT = 10 + 34  # after the header (to the length field) and the first position


def with_tail(frame: bytes, tail: bytes) -> bytes:
    """``frame`` with ``tail`` added before its index, and its length field to match."""
    body = frame[10:-1] + tail
    return frame[:8] + (len(body) + 1).to_bytes(2, "big") + body + frame[-1:]


@pytest.mark.parametrize("frame", [V01, V16], ids=["v01", "v16"])
def test_versions_without_a_tail_read_one_position(frame: bytes) -> None:
    (record,) = jt701.decode(frame).records
    assert record.time == datetime(2015, 10, 13, 3, 46, 47, tzinfo=UTC)
    assert "geofence_id" not in record.attributes and "extra" not in record.attributes
    assert record.attributes["battery_level"] == 100


def test_version_01_with_the_geofence_block() -> None:
    # The held-out shape: version 1, battery and cell after the position, then 4 bytes more,
    # which were read as the start of a second position ("found only 4 bytes left").
    (record,) = jt701.decode(with_tail(V01, bytes.fromhex("05000000"))).records
    assert record.attributes["geofence_id"] == 5
    assert "extra" not in record.attributes
    assert (record.attributes["cell_id"], record.attributes["lac"]) == (0x1093, 0x2638)
    assert record.attributes["battery_level"] == 100


def test_a_tail_with_lock_specific_fields_keeps_them_as_hex() -> None:
    (record,) = jt701.decode(with_tail(V16, bytes.fromhex("07000000aabbcc"))).records
    assert (record.attributes["geofence_id"], record.attributes["extra"]) == (7, "aabbcc")


def test_a_tail_shorter_than_the_geofence_block_is_kept_whole() -> None:
    (record,) = jt701.decode(with_tail(V01, b"\x01\x02")).records
    assert record.attributes["extra"] == "0102"
    assert "geofence_id" not in record.attributes


def test_version_17_keeps_reading_its_tail_as_before() -> None:
    (record,) = jt701.decode(V17).records
    assert record.attributes["protocol_version"] == 0x17
    assert record.attributes["geofence_id"] == 0
    assert record.attributes["extra"] == "0f0f0f0f0f0f0f0f0000019428"  # to the index byte


def test_whole_blocks_after_the_first_are_further_positions() -> None:
    # As traccar reads the versions it expects no tail from: 34 more bytes are a position.
    second = V01[10:-1]
    (first, again) = jt701.decode(with_tail(V01, second)).records
    assert first.time == again.time and first.attributes == again.attributes


def test_a_broken_second_position_is_still_an_error() -> None:
    second = bytearray(V01[10:-1])
    second[0] = 0xAB  # not a BCD day
    with pytest.raises(FrameError) as caught:
        jt701.decode(with_tail(V01, bytes(second)))
    assert caught.value.offset == SECOND_AT
