from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols import osmand
from smartcustoms.tracking.protocols.base import Context, MessageKind

from ..vectorfiles import load

VECTORS = load("osmand_http")
ACCEPTED = [v for v in VECTORS if not v.expected.get("rejected")]
REJECTED = [v for v in VECTORS if v.expected.get("rejected")]
KNOTS = 1.852
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.mark.parametrize("vector", ACCEPTED, ids=lambda v: v.id)
def test_request_decodes_to_its_expected_values(vector) -> None:
    expected = vector.expected
    message = osmand.decode(vector.message)
    assert message.kind is MessageKind.DATA
    assert message.device_id == expected["device_id"]
    assert message.ack == b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    (record,) = message.records
    assert record.device_id == expected["device_id"]
    assert record.time == _utc(expected["time_utc"])
    assert record.latitude == expected.get("latitude")
    assert record.longitude == expected.get("longitude")
    assert record.valid is ("latitude" in expected)
    if "speed_knots" in expected:
        assert record.speed_kmh == pytest.approx(expected["speed_knots"] * KNOTS)
    if "course_deg" in expected:
        assert record.course == expected["course_deg"]
    if "altitude_m" in expected:
        assert record.altitude == expected["altitude_m"]
    if "hdop" in expected:
        assert record.attributes["hdop"] == expected["hdop"]
    if "cells" in expected:
        assert record.attributes["cell"] == expected["cells"]
        assert record.attributes["wifi"] == expected["wifi"]


@pytest.mark.parametrize("vector", REJECTED, ids=lambda v: v.id)
def test_request_without_an_id_is_refused(vector) -> None:
    with pytest.raises(FrameError) as caught:
        osmand.decode(vector.message)
    assert caught.value.expected == "an id or deviceid parameter"
    assert caught.value.offset == vector.message.index(b"?") + 1


def test_whole_http_request_with_form_body() -> None:
    body = b"id=77&lat=-1.2921&lon=36.8219&speed=10&bearing=90&batt=55&charge=true&odd=x"
    request = (
        b"POST / HTTP/1.1\r\nHost: tracker\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    (record,) = osmand.decode(request, Context(received_at=NOW)).records
    assert record.device_id == "77"
    assert record.time == NOW  # no timestamp: the time it arrived
    assert (record.latitude, record.longitude) == (-1.2921, 36.8219)
    assert record.speed_kmh == pytest.approx(18.52)
    assert record.course == 90.0
    assert record.attributes == {"battery_level": 55.0, "charging": True, "odd": "x"}


def test_location_parameter_and_valid_flag() -> None:
    (record,) = osmand.decode(b"id=9&location=10.5,-20.25&valid=false&timestamp=0").records
    assert (record.latitude, record.longitude) == (10.5, -20.25)
    assert record.valid is False
    assert record.implausible == ("time",)  # 1970


def test_json_body() -> None:
    body = (
        b'{"device_id": "seal-1", "location": {"timestamp": "2024-03-01T10:00:00.000Z",'
        b' "coords": {"latitude": -4.05, "longitude": 39.66, "speed": 10, "heading": 45,'
        b' "altitude": 12, "accuracy": 5}, "battery": {"level": 0.5, "is_charging": false},'
        b' "is_moving": true, "odometer": 1234}}'
    )
    message = osmand.decode_request("", body)
    (record,) = message.records
    assert record.device_id == "seal-1"
    assert record.time == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert record.speed_kmh == 36.0  # m/s in this format
    assert record.course == 45.0
    assert record.altitude == 12.0
    assert record.attributes["battery_level"] == 50.0
    assert record.attributes["charging"] is False
    assert record.attributes["odometer_m"] == 1234


def test_json_errors_name_the_offset() -> None:
    with pytest.raises(FrameError) as caught:
        osmand.decode(b'{"device_id": "x", "location": }')
    assert caught.value.offset == 31


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (b"id=1&lat=north&lon=1", b"north"),
        (b"id=1&lat=1&lon=nan", b"nan"),
        (b"id=1&timestamp=yesterday", b"yesterday"),
        (b"id=1&lat=91&lon=0", None),
    ],
)
def test_bad_values_are_named(query: bytes, field: bytes | None) -> None:
    with pytest.raises(FrameError) as caught:
        osmand.decode(query)
    if field is not None:
        assert query[caught.value.offset :].startswith(field)


def test_encode_response() -> None:
    assert osmand.encode_response(400) == b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"


def test_framer_cuts_pipelined_requests() -> None:
    first = b"GET /?id=1&lat=1&lon=2 HTTP/1.1\r\nHost: a\r\n\r\n"
    second = b"POST / HTTP/1.1\r\nContent-Length: 16\r\n\r\nid=2&lat=3&lon=4"
    framing = osmand.frame(first + second)
    assert [f.data for f in framing.frames] == [first, second]
    assert framing.consumed == len(first + second)
    framing = osmand.frame(first + second[:-1])  # the body is one byte short: wait for it
    assert [f.data for f in framing.frames] == [first]
    assert framing.consumed == len(first)
    framing = osmand.frame(b"BAD STUFF\r\n\r\n" + first)
    assert [f.data for f in framing.frames] == [first]
    assert [e.offset for e in framing.errors] == [0]


def test_framer_refuses_chunked_bodies() -> None:
    framing = osmand.frame(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert framing.errors and "Content-Length" in framing.errors[0].expected
