from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols import jt701
from smartcustoms.tracking.protocols.base import MessageKind
from smartcustoms.tracking.records import SealEvent

from ..vectorfiles import load

VECTORS = load("jointech_jt701_elock")
BINARY = [v for v in VECTORS if not v.is_text]
TEXT = [v for v in VECTORS if v.is_text]

# JT701D field list bits (as the vector files name them) and how each surfaces in a record.
STATE_BITS = {
    "located_by_lbs": "lbs_fix",
    "needs_confirmation": "ack_required",
    "steel_string_inserted": "cable_inserted",
    "motor_locked": "locked",
    "back_cap_closed": "back_cap_closed",
}
ALARM_BITS = {
    "geofence_enter_alarm": SealEvent.GEOFENCE_ENTER,
    "geofence_exit_alarm": SealEvent.GEOFENCE_EXIT,
    "steel_string_cut_alarm": SealEvent.CABLE_CUT,
    "vibration_alarm": SealEvent.VIBRATION,
    "unlock_alarm": SealEvent.UNLOCKED,
    "wrong_password_alarm": SealEvent.WRONG_PASSWORD,
    "unauthorized_rfid_alarm": SealEvent.UNAUTHORIZED_CARD,
    "low_battery_alarm": SealEvent.LOW_BATTERY,
    "back_cap_open_alarm": SealEvent.TAMPER,
    "motor_fault_alarm": SealEvent.FAULT,
}

# More frames from traccar's Jt600ProtocolDecoderTest (traccar/traccar, Apache-2.0).
SHORT_V1 = bytes.fromhex(
    "24311021600111001B16021105591022329862114046227B0598095080012327951435161F"
)
SHORT_V2_SIX = bytes.fromhex(
    "2440811188882400A209060908045322564025113242329F0598000001003F0000002D0009060908050322564025"
    "113242329F0598000001003F0000002D0009060908051322564025113242329F0598000001003F0000002D000906"
    "0908052322564025113242329F0598000001003F0000002D0009060908053322564025113242329F059800000100"
    "3F0000002D0009060908054322564025113242329F0598000001003F0000002D001F"
)
SHORT_V3 = bytes.fromhex(
    "24657060730131001b13111710361906538525079524797f000000000000000003f300036c"
)
U01 = (
    b"(3301210003,U01,040812,185302,T,22.564025,N,113.242329,E,5.21,152,9,32%,00000000000011,"
    b"10133,5173,22,100,1)"
)
U06 = (
    b"(3301210003,U06,1,040812,185302,T,22.564025,N,113.242329,E,5,152,9,32%,0000000000011,"
    b"10133,5173,22,100,1,300,100,10)"
)
W01 = b"(3110312099,W01,11404.6204,E,2232.9961,N,A,040511,063736,4,7,100,4,17,1,1,company)"
U04 = b"(3301210003,U04)"
AT_JT = b"(3460311327,@JT)"


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.mark.parametrize("vector", BINARY, ids=lambda v: v.id)
def test_binary_vector_decodes_to_its_expected_values(vector) -> None:
    expected = vector.expected
    data = vector.message
    assert data[:1].decode() == expected["header"]
    assert int.from_bytes(data[8:10], "big") == expected["length"] == len(data) - 10
    message = jt701.decode(data)
    assert message.kind is MessageKind.DATA
    assert message.device_id == expected["device_id"]
    (record,) = message.records
    (want,) = expected["records"]
    assert record.device_id == expected["device_id"]
    assert record.time == _utc(want["time_utc"])
    assert record.valid is want["valid"]
    assert record.latitude == pytest.approx(want["latitude"], abs=1e-6)
    assert record.longitude == pytest.approx(want["longitude"], abs=1e-6)
    assert record.speed_kmh == pytest.approx(want["speed_raw_bcd"] * 1.852)  # knots, as traccar
    assert record.course == want["course_deg"]
    assert record.satellites == want["satellites"]
    attributes = record.attributes
    assert attributes["odometer_m"] == want["odometer_km"] * 1000
    assert attributes["status"] == int(want["status_word"], 16)
    assert attributes["protocol_version"] == int(expected["protocol_version"], 16)
    assert attributes["index"] == expected["index"]
    bits = want["status_bits_jt701d_doc"]
    for name, attribute in STATE_BITS.items():
        assert attributes[attribute] is bits[name], name
    assert set(record.events) == {event for name, event in ALARM_BITS.items() if bits[name]}
    if want["battery_level_pct"] is None:
        assert attributes["charging"] is want["charging"]
        assert "battery_level" not in attributes
    else:
        assert attributes["battery_level"] == want["battery_level_pct"]
    cell = want["cell"]
    assert (attributes["cell_id"], attributes["lac"]) == (cell["cid"], cell["lac"])
    assert attributes["rssi"] == cell["gsm_signal"]
    if "geofence_id" in want:
        assert attributes["geofence_id"] == want["geofence_id"]


@pytest.mark.parametrize("vector", BINARY, ids=lambda v: v.id)
def test_binary_confirmation_follows_status_bit_5(vector) -> None:
    message = jt701.decode(vector.message)
    if not vector.expected["records"][0]["status_bits_jt701d_doc"]["needs_confirmation"]:
        assert message.ack is None
    elif vector.expected["protocol_version"] == "0x19":
        assert message.ack == f"(P69,0,{vector.expected['index']})".encode()
    else:
        assert message.ack == b"(P35)"


def test_clockless_record_is_kept_but_flagged() -> None:
    (record,) = jt701.decode(next(v for v in BINARY if v.id == "jt600-13").message).records
    assert record.time == datetime(2000, 1, 1, 0, 2, 2, tzinfo=UTC)
    assert record.implausible == ("time",)


@pytest.mark.parametrize("vector", TEXT, ids=lambda v: v.id)
def test_p45_vector_decodes_to_its_expected_values(vector) -> None:
    expected = vector.expected
    message = jt701.decode(vector.message)
    assert message.device_id == expected["device_id"]
    assert message.ack == expected["server_ack"].encode()
    (record,) = message.records
    assert record.time == _utc(expected["time_utc"])
    assert record.latitude == pytest.approx(expected["latitude"])
    assert record.longitude == pytest.approx(expected["longitude"])
    assert record.valid is expected["valid"]
    assert record.speed_kmh == pytest.approx(expected["speed_raw"] * 1.609344)  # mph, as traccar
    assert record.course == expected["course_deg"]
    attributes = record.attributes
    for key in (
        "event_source",
        "unlock_verification",
        "rfid_card",
        "password_verification",
        "incorrect_password_count",
        "index",
    ):
        assert attributes[key] == expected[key], key


def test_short_format_v1_position_as_traccar_asserts() -> None:
    (record,) = jt701.decode(SHORT_V1).records
    assert record.time == datetime(2011, 2, 16, 5, 59, 10, tzinfo=UTC)
    assert record.valid is True
    assert record.latitude == pytest.approx(22.54977, abs=1e-5)
    assert record.longitude == pytest.approx(-114.07705, abs=1e-5)
    assert record.satellites == 9
    assert record.attributes["altitude_m"] == 0x0123


def test_short_format_v2_six_records() -> None:
    message = jt701.decode(SHORT_V2_SIX)
    assert len(message.records) == 6
    assert message.device_id == "4081118888"
    assert [r.time.second for r in message.records] == [53, 3, 13, 23, 33, 43]


def test_short_format_v3() -> None:
    (record,) = jt701.decode(SHORT_V3).records
    assert record.time == datetime(2017, 11, 13, 10, 36, 19, tzinfo=UTC)


def test_u01_position() -> None:
    message = jt701.decode(U01)
    (record,) = message.records
    assert message.ack == b"(S39)"
    assert record.time == datetime(2012, 8, 4, 18, 53, 2, tzinfo=UTC)
    assert record.latitude == pytest.approx(22.564025)
    assert record.speed_kmh == pytest.approx(5.21 * 1.609344)
    assert record.attributes["battery_level"] == 32
    assert record.attributes["status"] == 0b11


def test_u06_with_alarm_field() -> None:
    message = jt701.decode(U06)
    assert message.ack == b"(S20)"
    assert message.records[0].attributes["alarm"] == 1


def test_w01_position_as_traccar_asserts() -> None:
    (record,) = jt701.decode(W01).records
    assert record.time == datetime(2011, 5, 4, 6, 37, 36, tzinfo=UTC)
    assert record.latitude == pytest.approx(22.54994, abs=1e-5)
    assert record.longitude == pytest.approx(114.07701, abs=1e-5)


@pytest.mark.parametrize("sentence", [U04, AT_JT])
def test_other_sentences_carry_no_record(sentence: bytes) -> None:
    message = jt701.decode(sentence)
    assert message.kind is MessageKind.OTHER
    assert message.records == ()
    assert message.ack is None


def test_escaped_text_is_unescaped() -> None:
    # ``=\x11`` stands for a comma inside a field; here in the RFID card field.
    sentence = TEXT[0].message.replace(b"0012260888", b"00122=\x1160888")
    (record,) = jt701.decode(sentence).records
    assert record.attributes["rfid_card"] == "00122,60888"


def test_text_errors_name_the_field_offset() -> None:
    sentence = TEXT[0].message.replace(b",N,", b",X,")
    with pytest.raises(FrameError) as caught:
        jt701.decode(sentence)
    assert sentence[caught.value.offset : caught.value.offset + 1] == b"X"
    assert "latitude hemisphere" in caught.value.expected


def test_binary_length_mismatch() -> None:
    with pytest.raises(FrameError) as caught:
        jt701.decode(BINARY[0].message[:-1])
    assert caught.value.offset == 8


# --- framing -----------------------------------------------------------------------------------

STREAM = b"".join(v.message for v in VECTORS) + SHORT_V2_SIX + U01


def test_framer_cuts_binary_and_text_frames() -> None:
    framing = jt701.frame(STREAM)
    assert [f.data for f in framing.frames] == [v.message for v in VECTORS] + [SHORT_V2_SIX, U01]
    assert framing.consumed == len(STREAM)
    assert framing.errors == ()


def test_framer_skips_garbage() -> None:
    framing = jt701.frame(b"\r\nxyz" + U01)
    assert [f.data for f in framing.frames] == [U01]
    assert [e.offset for e in framing.errors] == [0]


def test_framer_waits_for_the_closing_parenthesis() -> None:
    framing = jt701.frame(U01[:-1])
    assert framing.frames == () and framing.consumed == 0
