from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols import gt06
from smartcustoms.tracking.protocols.base import Context, MessageKind
from smartcustoms.tracking.protocols.checksums import crc16_x25
from smartcustoms.tracking.records import SealEvent

from ..vectorfiles import load

VECTORS = load("gt06")
LOGINS = [v for v in VECTORS if v.expected["protocol_number"] == "0x01"]
LOCATIONS = [v for v in VECTORS if v.expected["protocol_number"] != "0x01"]

# More packets from traccar's Gt06ProtocolDecoderTest (traccar/traccar, Apache-2.0).
ALARM_REMOVING = bytes.fromhex(
    "7878251613020C12141AC5027951430C2A16F60014000900000000001A00007C550300020002F1E70D0A"
)
ALARM_0X26 = bytes.fromhex(
    "7878252612030C063816C3026C10540C38C9700144030901CC002866000EEE0C06040302000DA2DB0D0A"
)
HEARTBEAT_GK310 = bytes.fromhex("78780B23C00122040001000818720D0A")
EMPTY_LOCATION = bytes.fromhex("787805120099abec0d0a")
EXTENDED_INFO = bytes.fromhex("79790008940000ed0289d6860d0a")


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.id)
def test_packet_layout_and_crc(vector) -> None:
    data, expected = vector.message, vector.expected
    assert data[:2].hex() == expected["start"]
    assert data[2] == expected["packet_length"]
    assert data[3] == int(expected["protocol_number"], 16)
    assert int.from_bytes(data[-6:-4], "big") == expected["serial"]
    assert int.from_bytes(data[-4:-2], "big") == int(expected["crc_field"], 16)
    assert crc16_x25(data[2:-4]) == int(expected["crc_field"], 16)
    assert data[-2:].hex() == expected["stop"]


@pytest.mark.parametrize("vector", LOGINS, ids=lambda v: v.id)
def test_login_names_the_device_and_gets_its_reply(vector) -> None:
    message = gt06.decode(vector.message)
    assert message.kind is MessageKind.LOGIN
    assert message.device_id == vector.expected["imei"]
    assert message.records == ()
    assert message.ack == bytes.fromhex(vector.expected["server_reply_hex"])
    assert message.ack == gt06.encode_reply(0x01, vector.expected["serial"])


def test_login_announces_its_time_zone() -> None:
    extended = next(v for v in LOGINS if v.id == "gt06-01-118")
    assert gt06.decode(extended.message).utc_offset == timedelta(0)  # zone field 0x0000
    assert gt06.decode(LOGINS[0].message).utc_offset is None  # no zone field


@pytest.mark.parametrize("vector", LOCATIONS, ids=lambda v: v.id)
def test_location_vector_decodes_to_its_expected_values(vector) -> None:
    expected = vector.expected
    message = gt06.decode(vector.message, Context(device_id="864717003283581"))
    assert message.kind is MessageKind.DATA
    assert message.ack is None  # locations need no answer
    (record,) = message.records
    assert record.device_id == "864717003283581"
    assert record.time == _utc(expected["time_utc"])
    assert record.latitude == pytest.approx(expected["latitude"], abs=1e-6)
    assert record.longitude == pytest.approx(expected["longitude"], abs=1e-6)
    assert record.speed_kmh == expected["speed_kmh"]
    assert record.course == expected["course_deg"]
    assert record.satellites == expected["satellites"]
    assert record.valid is expected["valid"]
    attributes = record.attributes
    assert attributes["gps_info_length"] == expected["gps_info_length"]
    assert attributes["gps_realtime"] is expected["gps_realtime"]
    assert attributes["index"] == expected["serial"]
    if "ignition" in expected:
        assert attributes["ignition"] is expected["ignition"]
    lbs = expected["lbs"]
    assert (attributes["mcc"], attributes["mnc"]) == (lbs["mcc"], lbs["mnc"])
    assert (attributes["lac"], attributes["cell_id"]) == (lbs["lac"], lbs["cell_id"])
    for key in ("acc", "upload_mode", "realtime_reupload"):
        if key in expected:
            assert attributes[key] == expected[key]
    if "traccar_assertion" in vector.raw and "position" in vector.raw["traccar_assertion"]:
        traccar = vector.raw["traccar_assertion"]["position"]
        assert record.latitude == pytest.approx(traccar["latitude"], abs=1e-5)
        assert record.longitude == pytest.approx(traccar["longitude"], abs=1e-5)


def test_device_clock_offset_shifts_the_time() -> None:
    vector = LOCATIONS[0]
    local = gt06.decode(vector.message, Context(utc_offset=timedelta(hours=3))).records[0]
    assert local.time == _utc(vector.expected["time_utc"]) - timedelta(hours=3)


def test_alarm_packet_carries_tamper_and_is_answered() -> None:
    message = gt06.decode(ALARM_REMOVING)
    (record,) = message.records
    # Terminal information 0x7C: alarm bits 3–5 = 7, which traccar reads as "removing".
    assert record.attributes["status"] == 0x7C
    assert record.events == (SealEvent.TAMPER,)
    assert record.attributes["battery_level"] == 100  # voltage level 0x55, capped at 6
    assert message.ack == gt06.encode_reply(0x16, 2)


def test_alarm_0x26_vibration() -> None:
    message = gt06.decode(ALARM_0X26)
    (record,) = message.records
    assert record.time == datetime(2018, 3, 12, 6, 56, 22, tzinfo=UTC)
    assert record.attributes["alarm"] == 0x03
    assert record.events == (SealEvent.VIBRATION,)
    assert record.attributes["battery_level"] == 100  # voltage level 6
    assert record.attributes["rssi"] == 4
    assert message.ack == gt06.encode_reply(0x26, 0x000D)


def test_gk310_heartbeat_has_no_position_but_a_status() -> None:
    message = gt06.decode(HEARTBEAT_GK310)
    assert message.kind is MessageKind.HEARTBEAT
    (record,) = message.records
    assert record.latitude is None and record.longitude is None
    assert record.valid is False
    assert message.ack == gt06.encode_reply(0x23, 0x0008)


def test_empty_location_packet_is_nothing_to_store() -> None:
    message = gt06.decode(EMPTY_LOCATION)
    assert message.kind is MessageKind.OTHER
    assert message.records == ()


def test_extended_packets_are_understood_but_not_stored() -> None:
    message = gt06.decode(EXTENDED_INFO)
    assert message.kind is MessageKind.OTHER
    assert message.ack is None


def test_crc_error_offset() -> None:
    data = bytearray(LOCATIONS[0].message)
    data[10] ^= 0x01
    with pytest.raises(FrameError) as caught:
        gt06.decode(bytes(data))
    assert caught.value.offset == len(data) - 4
    assert caught.value.found == f"0x{int(LOCATIONS[0].expected['crc_field'], 16):04x}"


def test_length_mismatch() -> None:
    data = LOCATIONS[0].message[:-3] + b"\r\n"
    with pytest.raises(FrameError) as caught:
        gt06.decode(data)
    assert caught.value.offset == 2


def test_reply_encoder_matches_every_login_vector() -> None:
    for vector in LOGINS:
        assert (
            gt06.encode_reply(0x01, vector.expected["serial"]).hex()
            == (vector.expected["server_reply_hex"])
        )


# --- framing -----------------------------------------------------------------------------------

STREAM = b"".join(v.message for v in VECTORS)


def test_framer_cuts_every_packet() -> None:
    framing = gt06.frame(STREAM)
    assert [f.data for f in framing.frames] == [v.message for v in VECTORS]
    assert framing.consumed == len(STREAM)
    assert framing.errors == ()


def test_framer_resynchronises_on_start_bits() -> None:
    garbage = b"\x00\x01\x78\x02hello"
    framing = gt06.frame(garbage + STREAM)
    assert [f.data for f in framing.frames] == [v.message for v in VECTORS]
    assert [e.offset for e in framing.errors] == [0]
    assert framing.errors[0].found.startswith(f"{len(garbage)} bytes of garbage")


def test_framer_rejects_a_packet_without_stop_bits() -> None:
    broken = VECTORS[0].message[:-2] + b"\x00\x00"
    framing = gt06.frame(broken + VECTORS[1].message)
    assert [f.data for f in framing.frames] == [VECTORS[1].message]
    assert [e.offset for e in framing.errors] == [0]


def test_framer_waits_for_a_partial_packet() -> None:
    for cut in range(1, len(VECTORS[0].message)):
        framing = gt06.frame(VECTORS[0].message[:cut])
        assert framing.frames == () and framing.consumed == 0 and framing.errors == ()
