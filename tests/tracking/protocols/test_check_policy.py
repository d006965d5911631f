"""Frames whose check code fails: each protocol's declared policy, refuse and count or keep
flagged, and a flagged record never carrying seal state a rule could act on."""

from __future__ import annotations

import pytest

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols import PROTOCOLS, CheckPolicy, Context, get_protocol, jt808
from smartcustoms.tracking.protocols.integrity import CHECK_CODE, UNVERIFIED
from smartcustoms.tracking.replay import replay

from ..vectorfiles import load

FLAG = {"jt808.bad_check": "flag"}
# The attributes and events the seal rules read (records.py names them).
SEAL_STATE = {"locked", "door_open", "cable_inserted", "battery_level"}
JT808 = {v.id: v.message for v in load("jt808_elock")}


def broken_jt808(vector_id: str) -> bytes:
    """A report with a 7D that starts no escape and a check code that does not match: the
    held-out shape other servers decode."""
    data = bytearray(JT808[vector_id])
    data[20:22] = b"\x7d\x05"
    data[-2] ^= 0x01
    return bytes(data)


def test_every_protocol_declares_its_policy() -> None:
    assert {name: p.bad_check for name, p in PROTOCOLS.items()} == {
        "teltonika": CheckPolicy.REFUSE,
        "jt808": CheckPolicy.REFUSE,
        "jt701": CheckPolicy.NONE,
        "gt06": CheckPolicy.REFUSE,
        "osmand": CheckPolicy.NONE,
        "eseal": CheckPolicy.NONE,
    }


@pytest.mark.parametrize(
    ("protocol", "file", "vector_id", "at", "expected"),
    [
        ("teltonika", "teltonika_codec8", "tel-traccar-c8-a", -1, "CRC"),
        ("gt06", "gt06", "gt06-01-118", -3, "CRC"),
        ("jt808", "jt808_elock", "jt808-62", -2, "check code"),
    ],
)
def test_refusing_protocols_refuse_a_bad_check_code(
    protocol: str, file: str, vector_id: str, at: int, expected: str
) -> None:
    data = bytearray(next(v.message for v in load(file) if v.id == vector_id))
    data[at] ^= 0x01
    with pytest.raises(FrameError) as caught:
        replay(get_protocol(protocol), bytes(data))
    assert caught.value.expected.startswith(expected)


def test_jt808_refuses_a_malformed_escape_by_default() -> None:
    with pytest.raises(FrameError) as caught:
        jt808.decode(broken_jt808("jt808-62"))
    assert (caught.value.offset, caught.value.found) == (20, "7d05")


def test_jt808_flagged_keeps_the_position_and_sets_the_seal_state_aside() -> None:
    sound = jt808.decode(JT808["jt808-62"])
    (message,) = replay(get_protocol("jt808"), broken_jt808("jt808-62"), options=FLAG)
    (record,) = message.records
    (before,) = sound.records
    assert before.events and SEAL_STATE & set(before.attributes)  # a tamper alarm, a battery
    assert CHECK_CODE in record.implausible
    assert record.events == ()
    assert set(record.attributes) == {UNVERIFIED, "integrity"}
    unverified = record.attributes[UNVERIFIED]
    assert isinstance(unverified, dict)
    assert unverified["events"] == [e.value for e in before.events]
    assert unverified["battery_level"] == before.attributes["battery_level"]
    escape, check = record.attributes["integrity"]  # type: ignore[misc]
    assert escape == "byte 20: expected escape 7d01 or 7d02, found 7d05"
    assert check.startswith(f"byte {len(JT808['jt808-62']) - 2}: expected check code 0x")
    # Where and when stay: the map may show it; the device is answered and will not resend.
    assert (record.device_id, record.time) == (before.device_id, before.time)
    assert message.ack is not None


def test_jt808_flag_changes_nothing_for_a_sound_frame() -> None:
    (message,) = replay(get_protocol("jt808"), JT808["jt808-62"], options=FLAG)
    assert message == jt808.decode(JT808["jt808-62"])


def test_jt808_flag_still_refuses_what_does_not_decode() -> None:
    data = bytearray(broken_jt808("jt808-62"))
    del data[25:40]  # the location body too short for its fields
    with pytest.raises(FrameError):
        jt808.decode(bytes(data), Context(options=FLAG))


def test_an_unknown_policy_value_chooses_nothing() -> None:
    with pytest.raises(FrameError):
        jt808.decode(broken_jt808("jt808-62"), Context(options={"jt808.bad_check": "maybe"}))
