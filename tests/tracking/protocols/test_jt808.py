from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import xor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols import jt808
from smartcustoms.tracking.protocols.base import Context, MessageKind
from smartcustoms.tracking.records import SealEvent

from ..vectorfiles import load

VECTORS = load("jt808_elock")
BY_ID = {v.id: v for v in VECTORS}

# More frames from traccar's Jt808ProtocolDecoderTest (traccar/traccar, Apache-2.0).
BATCH_SIX = bytes.fromhex(
    "7e070401654eb6fb4afd9e485b000601003900000000000c000301f5a58700ca24c5000d00000049251112154545"
    "01040000000025040000000030011731010aeb095554432b30383a3030003900000000000c000301f5a58e00ca24"
    "cd000d0000002825111215454701040000000025040000000030011731010aeb095554432b30383a303000390000"
    "0000000c000301f5a5ad00ca24de000e0000011025111215455901040000000025040000000030011931010aeb09"
    "5554432b30383a3030003900000000000c000301f5a5b100ca24ed000e0000004625111215461401040000000025"
    "040000000030011931010aeb095554432b30383a3030003900000000000c000301f5a5a900ca24f5000e000000a1"
    "25111215461701040000000025040000000030011931010aeb095554432b30383a3030003900000000000c000301"
    "f5a5af00ca24fb000e000000dd25111215463201040000000025040000000030011731010beb095554432b30383a"
    "3030537e"
)
BATCH_2019 = bytes.fromhex(
    "7e0704402d0100000866496077582164881d0001000028000000000000000701a00192091f2a470016000000022605"
    "0916422701040000258230010031010e507e"
)
REGISTER_2019 = bytes.fromhex(
    "7e0100405c010000086649607758216452180000000000000000000000000000004d4433303000000000000000"
    "000000000000000000000000000000000000003836363439363037373538323136340000000000000000000000"
    "0000000004000000000000000000000000000000007a7e"
)
AUTHENTICATE = bytes.fromhex(
    "7e010200204f07788ef67601824f4459344f544d314d4459774d4441314d444977626d5633553235536457786cba7e"
)
JOINTECH_UNLOCK = bytes.fromhex(
    "7e55018c418560090010174701022106242122348476113550490700001c06000000074e00000000000003081000"
    "00100102020200000a030000000b0803363839363037650c0600000001000afa7e"
)
JOINTECH_TILT = bytes.fromhex(
    "7e55019c3b8571110003399a07032310302029538631031015370500001a0c000000265700440001233703080000"
    "001001020202000a0a04028f000af401040c06ff98ffa8007e707e"
)
VIBRATION = bytes.fromhex(
    "7e020000530095900689830016000000000000000b00a2394803a925f800000000000025112411514701040000"
    "003e300115310113eb29000c00b28988228066613427450900060089ffffffff000600c5ffffffaf0004002d0fa5"
    "000300a85c257e"
)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _content(frame: bytes) -> bytes:
    return frame[1:-1].replace(b"\x7d\x02", b"\x7e").replace(b"\x7d\x01", b"\x7d")


def _general_response(phone: str, serial: int, message_id: int) -> bytes:
    """0x8001 built by hand from the standard, independently of the module's encoder."""
    body = serial.to_bytes(2, "big") + message_id.to_bytes(2, "big") + b"\x00"
    content = b"\x80\x01" + len(body).to_bytes(2, "big") + bytes.fromhex(phone) + b"\x00\x00"
    content += body
    content += bytes((reduce(xor, content),))
    escaped = content.replace(b"\x7d", b"\x7d\x01").replace(b"\x7e", b"\x7d\x02")
    return b"\x7e" + escaped + b"\x7e"


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.id)
def test_header_and_check_code(vector) -> None:
    content = _content(vector.message)
    expected = vector.expected
    assert content[:2] == bytes.fromhex(expected["msg_id"][2:])
    attributes = int.from_bytes(content[2:4], "big")
    assert attributes & 0x3FF == expected["body_length"]
    assert bool(attributes & 0x2000) is expected["subpackage"]
    assert bool(attributes & 0x4000) is expected["version_2019"]
    assert content[4:10].hex() == expected["terminal_phone"]
    assert int.from_bytes(content[10:12], "big") == expected["serial"]
    assert reduce(xor, content[:-1]) == content[-1] == int(expected["bcc_field"], 16)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.id)
def test_location_vector_decodes_to_its_expected_values(vector) -> None:
    expected = vector.expected
    message = jt808.decode(vector.message)
    assert message.kind is MessageKind.DATA
    assert message.device_id == expected["terminal_phone"]
    (record,) = message.records
    assert record.device_id == expected["terminal_phone"]
    assert record.time == _utc(expected["time_utc_assuming_gmt8"])
    assert record.latitude == pytest.approx(expected["latitude"], abs=1e-9)
    assert record.longitude == pytest.approx(expected["longitude"], abs=1e-9)
    assert record.altitude == expected["altitude_m"]
    assert record.speed_kmh == pytest.approx(expected["speed_kmh"])
    assert record.course == expected["course_deg"]
    assert record.valid is expected["positioned"]
    assert record.attributes["ignition"] is expected["acc_on"]
    assert record.attributes["alarm"] == int(expected["alarm_flags"], 16)
    assert record.attributes["status"] == int(expected["status_flags"], 16)
    assert message.ack == _general_response(expected["terminal_phone"], expected["serial"], 0x0200)


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.id)
def test_additional_items_are_all_accounted_for(vector) -> None:
    (record,) = jt808.decode(vector.message).records
    attributes = record.attributes
    for item in vector.expected["additional_items"]:
        item_id, value = int(item["id"], 16), bytes.fromhex(item["value_hex"])
        if item["len"] > len(value) - 1 and vector.id == "jt808-64" and item["len"] == 120:
            # Overruns the body; the file's value includes the check code (see the README).
            assert attributes["truncated_item"] == {
                "id": item_id,
                "length": 120,
                "value": value[:-1].hex(),
            }
        elif item_id == 0x01:
            assert attributes["odometer_m"] == int.from_bytes(value, "big") * 100
        elif item_id == 0x30:
            assert attributes["rssi"] == value[0]
        elif item_id == 0x31:
            assert record.satellites == value[0]
        elif item_id in (0x33, 0x63, 0xD5, 0xEB, 0xFE):
            pass  # decoded into named attributes, checked below
        else:
            assert attributes[f"item_{item_id:02x}"] == value.hex()


def test_traccar_assertions_hold() -> None:
    (lock,) = jt808.decode(BY_ID["jt808-53"].message).records
    assert lock.attributes["lock1_locked"] is False  # traccar: lock1Locked false
    assert lock.attributes["locked"] is False
    assert lock.attributes["lock1_id"] == "0002604323"
    (locks,) = jt808.decode(BY_ID["jt808-36"].message).records
    assert locks.attributes["lock2_battery_voltage"] == 4.038  # traccar: lock2Battery 4.038
    assert locks.attributes["lock1_sealed"] is True
    (tamper,) = jt808.decode(BY_ID["jt808-62"].message).records
    assert SealEvent.TAMPER in tamper.events  # traccar: ALARM_TAMPERING (alarm bit 17)
    (removing,) = jt808.decode(BY_ID["jt808-9"].message).records
    assert SealEvent.TAMPER in removing.events  # traccar: ALARM_REMOVING (0xEB/0x0089 bit 12)
    assert removing.attributes["battery_voltage"] == 4.005
    assert removing.attributes["iccid"] == "89882280666134274509"
    (sos,) = jt808.decode(BY_ID["jt808-90"].message).records
    assert sos.events == (SealEvent.SOS,)  # alarm bit 0
    (lock_report,) = jt808.decode(BY_ID["jt808-80"].message).records
    assert lock_report.attributes["battery_voltage"] == 3.69  # *M00 sentence in item 0x33


def test_vibration_sub_item() -> None:
    (record,) = jt808.decode(VIBRATION).records
    assert record.events == (SealEvent.VIBRATION,)  # 0xEB/0x00C5 bit 6 clear


def test_utc_offset_can_be_configured() -> None:
    vector = BY_ID["jt808-90"]
    (record,) = jt808.decode(vector.message, Context(utc_offset=timedelta(0))).records
    assert record.time == datetime(2013, 4, 12, 16, 49, 52, tzinfo=UTC)  # the BCD as UTC


def test_batch_of_six() -> None:
    message = jt808.decode(BATCH_SIX)
    assert len(message.records) == 6
    # A binary IMEI in the phone field, read back with its Luhn digit as traccar does.
    assert message.device_id == "865478070102068"
    assert all(r.attributes["timezone"] == "UTC+08:00" for r in message.records)
    assert message.ack is not None
    assert _content(message.ack)[14:17] == b"\x07\x04\x00"  # reply ID 0x0704, result 0


def test_batch_2019_version() -> None:
    message = jt808.decode(BATCH_2019)
    (record,) = message.records
    assert record.satellites == 14  # traccar: satellites 14
    assert message.device_id == "00000866496077582164"
    assert message.ack == jt808.encode_general_response(
        bytes.fromhex("00000866496077582164"), 0x881D, 0x0704, version=1
    )


def test_registration_is_a_login_answered_with_0x8100() -> None:
    # Its body is one byte longer than its header says; the check code is right, so it is kept.
    message = jt808.decode(REGISTER_2019)
    assert message.kind is MessageKind.LOGIN
    assert message.device_id == "00000866496077582164"
    content = _content(message.ack or b"")
    assert content[:2] == b"\x81\x00"
    body = content[-1 - (3 + len(message.device_id)) : -1]
    assert body == b"\x52\x18\x00" + message.device_id.encode()


def test_authentication_is_a_login() -> None:
    message = jt808.decode(AUTHENTICATE)
    assert message.kind is MessageKind.LOGIN
    assert message.device_id == "868935060005020"
    content = _content(message.ack or b"")
    assert content[:2] == b"\x80\x01"
    assert content[12:17] == b"\x01\x82\x01\x02\x00"  # reply serial 0x0182, ID 0x0102, OK


def test_jointech_lock_report() -> None:
    message = jt808.decode(JOINTECH_UNLOCK)
    (record,) = message.records
    assert record.attributes["unlock_result"] == 0x65  # traccar: unlockResult 0x65
    assert record.time == datetime(2021, 2, 1, 6, 24, 21, tzinfo=UTC)
    assert record.latitude == pytest.approx(22 + 34.8476 / 60)
    # Attribute bit 15 asked for Jointech's short response 0x4401, 1-byte serial.
    content = b"\x44\x01\x00\x03" + bytes.fromhex("856009001017") + b"\x01" + b"\x55\x01\x00"
    assert message.ack == b"\x7e" + content + bytes((reduce(xor, content),)) + b"\x7e"


def test_jointech_tilt() -> None:
    (record,) = jt808.decode(JOINTECH_TILT).records
    assert record.attributes["tilt"] == [-104, -88, 126]  # traccar: tilt [-104,-88,126]


def test_bad_escape_is_reported_where_it_is() -> None:
    data = bytearray(BY_ID["jt808-90"].message)
    data[20] = 0x7D
    data[21] = 0x05
    with pytest.raises(FrameError) as caught:
        jt808.decode(bytes(data))
    assert caught.value.offset == 20
    assert "7d01 or 7d02" in caught.value.expected


def test_offsets_count_escaped_bytes() -> None:
    # A frame whose body contains 0x7E and 0x7D must report offsets in the escaped bytes.
    phone = bytes.fromhex("013800138000")
    body = bytes(28) + b"\x7e\x7d"  # basics of zeros (an impossible date), then two bytes
    frame = jt808.encode_frame(0x0200, phone, 1, body)
    assert frame.count(b"\x7d") == 2
    with pytest.raises(FrameError) as caught:
        jt808.decode(frame)
    assert caught.value.expected == "a valid date and time"
    assert frame[caught.value.offset : caught.value.offset + 6] == bytes(6)


def test_check_code_error() -> None:
    data = bytearray(BY_ID["jt808-62"].message)
    data[-2] ^= 0x01
    with pytest.raises(FrameError) as caught:
        jt808.decode(bytes(data))
    assert caught.value.offset == len(data) - 2
    assert caught.value.expected == "check code 0x7a"


@given(st.binary(max_size=64))
def test_escape_round_trips(content: bytes) -> None:
    escaped = jt808.escape(content)
    assert b"\x7e" not in escaped
    assert jt808.unescape(escaped) == content


@given(st.binary(max_size=40), st.integers(0, 0xFFFF))
def test_encoded_frames_decode(body: bytes, serial: int) -> None:
    frame = jt808.encode_frame(0x0002, bytes.fromhex("013800138000"), serial, body)
    message = jt808.decode(frame)
    assert message.kind is MessageKind.HEARTBEAT
    assert message.ack == _general_response("013800138000", serial, 0x0002)


# --- framing -----------------------------------------------------------------------------------

STREAM = b"".join(v.message for v in VECTORS)


def test_framer_cuts_every_frame() -> None:
    framing = jt808.frame(STREAM)
    assert [f.data for f in framing.frames] == [v.message for v in VECTORS]
    assert framing.consumed == len(STREAM)
    assert framing.errors == ()


def test_framer_skips_garbage_and_lone_flags() -> None:
    framing = jt808.frame(b"junk" + VECTORS[0].message + b"\x7e\x7e" + VECTORS[1].message)
    assert [f.data for f in framing.frames] == [VECTORS[0].message, VECTORS[1].message]
    assert [e.offset for e in framing.errors] == [0]


def test_framer_resynchronises_after_starting_on_a_closing_flag() -> None:
    framing = jt808.frame(b"\x00\x01\x7e" + VECTORS[0].message)
    assert [f.data for f in framing.frames] == [VECTORS[0].message]


def test_framer_gives_up_on_a_frame_that_never_closes() -> None:
    framing = jt808.frame(b"\x7e" + bytes(jt808.MAX_FRAME + 5))
    assert framing.consumed > 0
    assert framing.errors[0].offset == 0


def test_sub_packaged_location_is_refused_visibly() -> None:
    content = bytearray(_content(BY_ID["jt808-90"].message)[:-1])
    content[2] |= 0x20  # body attributes bit 13: sub-packaged
    content[12:12] = b"\x00\x02\x00\x01"  # packet 1 of 2
    content.append(reduce(xor, content))
    frame = b"\x7e" + jt808.escape(bytes(content)) + b"\x7e"
    with pytest.raises(FrameError, match="sub-package 1/2"):
        jt808.decode(frame)
