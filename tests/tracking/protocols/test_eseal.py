from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols import eseal
from smartcustoms.tracking.protocols.base import Context, MessageKind
from smartcustoms.tracking.records import SealEvent

from ..vectorfiles import facts, load

VECTORS = load("eseal_text")
REPORTS = [v for v in VECTORS if "decoded_position" not in v.expected]
NO_POSITION = [v for v in VECTORS if "decoded_position" in v.expected]
NORMAL = next(v for v in REPORTS if v.expected["type"] == "Normal")
STARTUP = next(v for v in REPORTS if v.expected["type"] == "Startup")
CONFIG = "180,30,30,16,1"  # what the device echoes back in its "Startup OK" (eseal-2)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@pytest.mark.parametrize("vector", REPORTS, ids=lambda v: v.id)
def test_report_decodes_to_its_expected_values(vector) -> None:
    expected = vector.expected
    message = eseal.decode(vector.message, Context(options={eseal.STARTUP_CONFIG_OPTION: CONFIG}))
    assert message.kind is MessageKind.DATA
    assert message.device_id == expected["device_id"]
    (record,) = message.records
    assert record.time == _utc(expected["time_utc"])
    assert record.valid is expected["valid"]
    assert record.latitude == pytest.approx(expected["latitude"])
    assert record.longitude == pytest.approx(expected["longitude"])
    assert record.course == expected["course_deg"]
    assert record.speed_kmh == expected["speed_kmh"]
    attributes = record.attributes
    assert attributes["door_open"] is expected["door_open"]
    assert attributes["device_type"] == expected["device_type"]
    assert attributes["customer_id"] == expected["customer_id"]
    assert attributes["firmware"] == expected["firmware"]
    assert attributes["message"] == expected["type"]
    assert attributes["index"] == expected["index"]
    assert attributes["interval"] == expected["interval"]
    assert attributes["acceleration"] == expected["acceleration"]
    assert attributes["nfc"] == expected["nfc"]
    assert attributes["battery_voltage"] == expected["battery_v"]
    assert attributes["rssi"] == expected["rssi_dbm"]
    # The file's protocol facts end every reply with \r\n; its server_ack shows the sentence.
    assert r"E##\r\n" in facts("eseal_text")["ack"]
    reply = expected["server_ack"].replace("<config>", CONFIG) + "\r\n"
    assert message.ack == reply.encode()


def test_startup_reply_without_a_configured_config() -> None:
    message = eseal.decode(STARTUP.message)
    assert message.ack == b"##S,eSeal,1000821,256,3.0.6,Startup ACK,1,E##\r\n"


@pytest.mark.parametrize("vector", NO_POSITION, ids=lambda v: v.id)
def test_configuration_echo_has_no_position_and_no_reply(vector) -> None:
    message = eseal.decode(vector.message)
    assert message.kind is MessageKind.OTHER
    assert message.records == ()
    assert message.ack is None
    assert message.device_id == "1000821"


@pytest.mark.parametrize(
    ("report", "door", "event"),
    [
        ("Event-Door", "Open", SealEvent.OPENED),
        ("Event-Door", "Close", SealEvent.CLOSED),
        ("Event-Lock", "Close", SealEvent.LOCKED),
        ("Event-RC-Unlock", "Close", SealEvent.UNLOCKED),
        ("Event-Shock", "Close", SealEvent.VIBRATION),
        ("Event-Drop", "Close", SealEvent.TAMPER),
    ],
)
def test_event_reports(report: str, door: str, event: SealEvent) -> None:
    sentence = NORMAL.message.replace(b",Normal,", f",{report},".encode())
    sentence = sentence.replace(b",Close,", f",{door},".encode())
    message = eseal.decode(sentence)
    (record,) = message.records
    assert record.events == (event,)
    assert record.attributes["door_open"] is (door == "Open")
    assert message.ack == f"##S,eSeal,1000821,256,3.0.6,{report} ACK,34,E##\r\n".encode()


def test_errors_name_the_field() -> None:
    sentence = NORMAL.message.replace(b"25.708828N", b"25.708828Q")
    with pytest.raises(FrameError) as caught:
        eseal.decode(sentence)
    assert sentence[caught.value.offset :].startswith(b"25.708828Q")
    bad_date = NORMAL.message.replace(b"2017-08-31", b"2017-13-31")
    with pytest.raises(FrameError) as caught:
        eseal.decode(bad_date)
    assert bad_date[caught.value.offset :].startswith(b"2017-13-31")
    assert caught.value.expected == "a valid date and time"


def test_framer_with_line_breaks_and_garbage() -> None:
    stream = b"\r\n".join(v.message for v in VECTORS) + b"\r\n"
    framing = eseal.frame(b"noise" + stream)
    assert [f.data for f in framing.frames] == [v.message for v in VECTORS]
    assert framing.consumed == len(stream) + 5
    assert [e.offset for e in framing.errors] == [0]


def test_framer_keeps_a_partial_start() -> None:
    framing = eseal.frame(NORMAL.message + b"\r\n##")
    assert len(framing.frames) == 1
    assert framing.consumed == len(NORMAL.message) + 2
