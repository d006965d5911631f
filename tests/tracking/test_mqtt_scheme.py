"""The MQTT topic scheme v1: topics, JSON records, raw frames; bad payloads are FrameErrors."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.mqtt_scheme import (
    decode_message,
    frames_topic,
    positions_topic,
    subscription,
)
from smartcustoms.tracking.records import SealEvent

from .vectorfiles import load

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def decode(topic: str, payload: bytes) -> object:
    return decode_message(topic, payload, prefix="sc", received_at=NOW)


def test_topics() -> None:
    assert positions_topic("sc", "D1") == "sc/v1/devices/D1/positions"
    assert frames_topic("sc", "D1", "jt808") == "sc/v1/devices/D1/frames/jt808"
    assert subscription("sc", "ingest") == "$share/ingest/sc/v1/devices/#"
    assert subscription("sc", None) == "sc/v1/devices/#"


def test_a_full_record() -> None:
    payload = {
        "time": "2026-03-01T08:15:00+03:00",
        "latitude": -1.2833,
        "longitude": 36.8167,
        "speed_kmh": 62.5,
        "course": 270,
        "satellites": 9,
        "altitude_m": 1650,
        "events": ["opened", "low_battery"],
        "attributes": {"battery_level": 81, "locked": False},
    }
    parsed = decode("sc/v1/devices/D1/positions", json.dumps(payload).encode())
    assert parsed is not None
    (p,) = parsed.records  # type: ignore[attr-defined]
    assert p.device_id == "D1"
    assert p.time == datetime(2026, 3, 1, 5, 15, tzinfo=UTC)
    assert (p.latitude, p.longitude, p.speed_kmh, p.course, p.satellites) == (
        -1.2833,
        36.8167,
        62.5,
        270.0,
        9,
    )
    assert p.valid and p.altitude == 1650.0
    assert p.events == (SealEvent.OPENED, SealEvent.LOW_BATTERY)
    assert p.attributes == {"battery_level": 81, "locked": False}


def test_epoch_milliseconds_and_no_position() -> None:
    parsed = decode("sc/v1/devices/D1/positions", b'{"time": 1772352900000}')
    (p,) = parsed.records  # type: ignore[attr-defined]
    assert p.latitude is None and not p.valid
    assert p.time == datetime(2026, 3, 1, 8, 15, tzinfo=UTC)


def test_raw_frames_take_the_topic_device() -> None:
    frame = next(v.message for v in load("jt808_elock") if v.id == "jt808-53")
    parsed = decode("sc/v1/devices/GW7/frames/jt808", frame + frame)
    assert parsed is not None
    assert parsed.device_id == "GW7" and len(parsed.records) == 2  # type: ignore[attr-defined]


def test_other_topics_are_ignored() -> None:
    assert decode("other/v1/devices/D1/positions", b"{}") is None
    assert decode("sc/v2/devices/D1/positions", b"{}") is None


@pytest.mark.parametrize(
    ("topic", "payload", "expected"),
    [
        ("sc/v1/devices/D1/positions", b"{bad", "JSON"),
        ("sc/v1/devices/D1/positions", b'{"latitude": 1}', "time"),
        ("sc/v1/devices/D1/positions", b'{"time": "2026-03-01T08:00:00"}', "zone"),
        ("sc/v1/devices/D1/positions", b'{"time": 0, "latitude": 91, "longitude": 0}', "latitude"),
        ("sc/v1/devices/D1/positions", b'{"time": 0, "latitude": 1}', "both"),
        ("sc/v1/devices/D1/positions", b'{"time": 0, "events": ["exploded"]}', "seal events"),
        ("sc/v1/devices/D1/positions", b"[]", "1 to 1000"),
        ("sc/v1/devices/D1/speed", b"{}", "topic"),
        ("sc/v1/devices/D1/frames/osmand", b"x", "stream protocol"),
        ("sc/v1/devices/D1/frames/jt808", b"\x7e\x01\x02", "complete frame"),
    ],
)
def test_bad_messages_say_what_was_expected(topic: str, payload: bytes, expected: str) -> None:
    with pytest.raises(FrameError, match=expected):
        decode(topic, payload)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_any_payload_decodes_or_raises_frame_error(payload: bytes) -> None:
    for topic in ("sc/v1/devices/D1/positions", "sc/v1/devices/D1/frames/gt06"):
        with contextlib.suppress(FrameError):
            decode(topic, payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["time", "latitude", "longitude", "speed_kmh", "course", "satellites",
                         "valid", "events", "attributes", "altitude_m"]),
        json_values,
    )
)  # fmt: skip
def test_any_json_record_decodes_or_raises_frame_error(record: dict[str, object]) -> None:
    with contextlib.suppress(FrameError):
        decode("sc/v1/devices/D1/positions", json.dumps(record).encode())
