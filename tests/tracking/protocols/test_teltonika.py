from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols import teltonika
from smartcustoms.tracking.protocols.base import Context, MessageKind
from smartcustoms.tracking.protocols.checksums import crc16_ibm
from smartcustoms.tracking.records import SealEvent

from ..vectorfiles import load

VECTORS = load("teltonika_codec8")
LOGIN = next(v for v in VECTORS if v.id == "tel-imei-login")
AVL = [v for v in VECTORS if "records" in v.expected]
TCP = [v for v in AVL if v.raw["transport"] == "tcp"]
UDP = [v for v in AVL if v.raw["transport"] == "udp"]

# More frames from traccar's TeltonikaProtocolDecoderTest (traccar/traccar, Apache-2.0).
CODEC8_14_RECORDS = bytes.fromhex(
    "0000000000000401080e0000015d12cc211000fadaf627186742f5000d0048080006000a040100f001500515"
    "000342318a430fe344000003c700000000f1000068b61000001b05000000015d12c6683800fadaf72118673f"
    "82000000000000000007030100f00050040342318a430fe344000001f1000068b6000000015d12bd407800fa"
    "daf72118673f82000000000000000007030100f000500403423179430fe144000001f1000068b6000000015d"
    "12b414d000fadaf72118673f82000400900c0000fa120a0100f00050051502080007010552090e6f4bfa0005"
    "42316a430fe14400000600006202b203c700002328f1000068b61000001b05000000015d12b3074800fadaf2"
    "821867436a000400890d00170011090100f00150011502081007010553090e6f4d054231fb430fe144000006"
    "03ae6202a003c700002328f1000068b61000001b05000000015d12b2ff7800fadaee89186747c60005009a0d"
    "001d0011090100f00150011502081b07010553090e6f4d05423125430fe144000006050862029e03c7000023"
    "28f1000068b61000001b05000000015d12b2e42000fadae8cf18675e0a000300a60d00210011090101f00150"
    "011502082407030554090e6f4d0542310a430fe14400000606cf62029703c700002328f1000068b61000001b"
    "05000000015d12b2d48000fadae05818676a16000400930c00240011090100f00150011502082207010554090e"
    "6f4e05423738430fe144000006066a62029303c700002328f1000068b61000001b05000000015d12b2a1b800fa"
    "dac33e18678e48000600940d00150011090101f00150051500081907030553090e6f4e054239cc430fe1440000"
    "0607c662028603c700002328f1000000001000001b05000000015d12b29dd000fadac19d18678fc80007008"
    "20d00110011090100f00150051500081607030553090e6f4e054238c8430fe14400000606d962028503c70000"
    "2328f1000000001000001b05000000015d12b299e800fadabfa9186790e3000700670d00110011090101f001"
    "50051500081407030553090e6f4e054231e5430fe144000006060a62028403c700002328f1000000001000001b"
    "05000000015d12b2960000fadabd4018679104000600510d00120011090101f00150051500081207030553090e"
    "6f4e054231ce430fe144000006057062028303c700002328f1000000001000001b05000000015d12b27aa800fa"
    "daa96518678b7c000600470d00120011090101f00150051500081807030551090e6f4e05423a70430fe1440000"
    "06074462027c03c700002328f1000000001000001b05000000015d12b276c000fadaa73f18678ae60006003b0d"
    "000e0011090101f00150051500081607030551090e6f4e05423a5a430fe14400000606b762027b03c700002328"
    "f1000000001000001b05000e000007a4"
)
CODEC8E_WITH_VARIABLE_IO = bytes.fromhex(
    "00000000000000858e0200000174431aadc100061d888f21000e8a0032002e0c00000181000100000000000000"
    "0000010181001711210102030405060708090a0b0c0d0e0f10020b010ad000000174431a389100061d888f2100"
    "0e8a0033002e0d000001810001000000000000000000010181001711210102030405060708090a0b0c0d0e0f10"
    "020b010ad2020000492b"
)
CODEC16 = bytes.fromhex(
    "000000000000009F100100000164D855401800D5E3B744EC11C762023B011A060000000007200A01000001050001"
    "0600010D00010E00010F00011600011700011800011F001301010000010700000108000001090000010A000001"
    "0B0000010C000001100000011100000112000001130000011400000115000001190000011A0000011B0000011C"
    "0000011D0000011E000003010200000000010300000000010400000000000100000D3B"
)
CODEC12_REPLY = bytes.fromhex("00000000000000100C010600000008010300010015D5C5010000D988")
# traccar accepts these although their CRC (and, for the last, length) is wrong; we do not.
BAD_CRC_CODEC13 = bytes.fromhex(
    "000000000000001C0D01050000001056E924222347455420444154414F524445520D0A0100004990"
)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_login_names_the_device_and_is_accepted() -> None:
    message = teltonika.decode(LOGIN.message)
    assert message.kind is MessageKind.LOGIN
    assert message.device_id == LOGIN.expected["imei"]
    assert message.records == ()
    assert message.ack == bytes.fromhex(LOGIN.expected["server_reply_hex"])
    assert teltonika.encode_login_reply(False) == b"\x00"


@pytest.mark.parametrize("vector", AVL, ids=lambda v: v.id)
def test_avl_vector_decodes_to_its_expected_records(vector) -> None:
    message = teltonika.decode(vector.message, Context(device_id="dev"))
    expected = vector.expected
    assert message.kind is MessageKind.DATA
    assert len(message.records) == expected["number_of_data_1"] == expected["number_of_data_2"]
    codec = {8: "8", 142: "8E"}[expected["codec_id"]]
    for record, want in zip(message.records, expected["records"], strict=True):
        assert record.time == _utc(want["timestamp_utc"])
        assert record.time == datetime.fromtimestamp(want["timestamp_ms"] / 1000, UTC)
        assert record.latitude == pytest.approx(want["latitude"], abs=1e-9)
        assert record.longitude == pytest.approx(want["longitude"], abs=1e-9)
        assert record.altitude == want["altitude_m"]
        assert record.course == want["angle_deg"]
        assert record.satellites == want["satellites"]
        assert record.speed_kmh == want["speed_kmh"]
        assert record.valid is (want["satellites"] > 0)
        assert record.attributes["priority"] == want["priority"]
        assert record.attributes["event_io_id"] == want["event_io_id"]
        assert record.attributes["codec"] == codec
        assert record.attributes["io"] == want["io"]
        assert len(want["io"]) == want["n_total_io"]
        assert record.implausible == ()


@pytest.mark.parametrize("vector", TCP, ids=lambda v: v.id)
def test_tcp_packet_crc_and_ack(vector) -> None:
    data = vector.message
    assert crc16_ibm(data[8:-4]) == vector.expected["crc_calc"] == vector.expected["crc_field"]
    message = teltonika.decode(data)
    assert message.device_id is None  # a TCP packet names no device: the login did
    assert message.ack == vector.expected["number_of_data_1"].to_bytes(4, "big")
    assert teltonika.decode(data, Context(device_id="352093086403655")).records[0].device_id == (
        "352093086403655"
    )


@pytest.mark.parametrize("vector", UDP, ids=lambda v: v.id)
def test_udp_datagram_names_its_device_and_echoes_its_ids(vector) -> None:
    message = teltonika.decode(vector.message)
    assert message.device_id == vector.expected["imei"]
    assert all(r.device_id == vector.expected["imei"] for r in message.records)
    assert message.ack == bytes.fromhex(vector.expected["ack_hex"])
    assert message.ack == teltonika.encode_udp_ack(
        vector.expected["packet_id"], vector.expected["avl_packet_id"], 1
    )
    assert int.from_bytes(vector.message[:2], "big") == vector.expected["udp_length"]


def test_crc_mismatch_names_the_crc_offset() -> None:
    data = bytearray(TCP[0].message)
    data[-1] ^= 0xFF
    with pytest.raises(FrameError) as caught:
        teltonika.decode(bytes(data))
    assert caught.value.offset == len(data) - 4
    assert caught.value.expected == f"CRC 0x{crc16_ibm(bytes(data[8:-4])):04x}"
    assert caught.value.details == [
        {"offset": len(data) - 4, "expected": caught.value.expected, "found": caught.value.found}
    ]


def test_record_counts_must_agree() -> None:
    data = bytearray(TCP[0].message)
    data[-5] = 2  # number of data 2
    crc = crc16_ibm(bytes(data[8:-4]))
    data[-4:] = crc.to_bytes(4, "big")
    with pytest.raises(FrameError) as caught:
        teltonika.decode(bytes(data))
    assert caught.value.offset == len(data) - 5
    assert "number of data 1" in caught.value.expected


def test_fourteen_record_packet() -> None:
    message = teltonika.decode(CODEC8_14_RECORDS, Context(device_id="x"))
    assert len(message.records) == 14
    assert message.ack == (14).to_bytes(4, "big")
    first = message.records[0]
    assert first.time == datetime(2017, 7, 5, 12, 49, 14, tzinfo=UTC)
    assert first.latitude == pytest.approx(40.9420533)
    assert first.longitude == pytest.approx(-8.6313433)


def test_codec_8e_variable_length_io_is_kept_as_hex() -> None:
    message = teltonika.decode(CODEC8E_WITH_VARIABLE_IO)
    assert len(message.records) == 2
    io = message.records[0].attributes["io"]
    # NX group: one element, ID 0x0181 (385, BLE beacons), 0x0017 = 23 bytes of value.
    assert io["385"] == "11210102030405060708090a0b0c0d0e0f10020b010ad0"
    assert message.records[0].attributes["codec"] == "8E"


def test_codec_16() -> None:
    (record,) = teltonika.decode(CODEC16).records
    assert record.attributes["codec"] == "16"
    assert record.time == datetime(2018, 7, 26, 20, 43, 43, tzinfo=UTC)
    assert record.latitude == pytest.approx(-33.4379166)
    assert record.longitude == pytest.approx(-70.64967)
    assert record.attributes["io"]["generation_type"] == 7


def test_command_reply_has_nothing_to_store_or_acknowledge() -> None:
    message = teltonika.decode(CODEC12_REPLY)
    assert message.kind is MessageKind.OTHER
    assert message.records == ()
    assert message.ack is None


def test_traccar_sample_with_wrong_crc_is_refused() -> None:
    with pytest.raises(FrameError, match="expected CRC"):
        teltonika.decode(BAD_CRC_CODEC13)


def _with_io(frame: bytes, io_id: int, value: int) -> bytes:
    """A copy of a one-record codec 8 packet with its first 1-byte IO element replaced."""
    data = bytearray(frame)
    first_one_byte_io = 8 + 2 + 24 + 3  # preamble+length, codec+count, record head, event/N/N1
    data[first_one_byte_io] = io_id
    data[first_one_byte_io + 1] = value
    data[-4:] = crc16_ibm(bytes(data[8:-4])).to_bytes(4, "big")
    return bytes(data)


@pytest.mark.parametrize(
    ("io_id", "value", "event"),
    [
        (252, 1, SealEvent.POWER_CUT),
        (249, 1, SealEvent.GPS_JAMMING),
        (236, 1, SealEvent.SOS),
    ],
)
def test_io_elements_raise_seal_events(io_id: int, value: int, event: SealEvent) -> None:
    base = next(v for v in TCP if v.id == "tel-wiki-c8-1").message
    (record,) = teltonika.decode(_with_io(base, io_id, value)).records
    assert record.events == (event,)
    (quiet,) = teltonika.decode(_with_io(base, io_id, 0)).records
    assert quiet.events == ()


def test_normalised_attributes() -> None:
    (record,) = teltonika.decode(next(v for v in TCP if v.id == "tel-traccar-c8-d").message).records
    assert record.attributes["ignition"] is True  # IO 239 = 1
    assert record.attributes["power_voltage"] == 14.375  # IO 66, mV
    assert record.attributes["battery_voltage"] == 3.927  # IO 67, mV
    assert record.attributes["rssi"] == 3  # IO 21


# --- framing -----------------------------------------------------------------------------------

STREAM = LOGIN.message + b"".join(v.message for v in TCP)


def test_framer_cuts_a_login_and_packets() -> None:
    framing = teltonika.frame(STREAM)
    assert [f.data for f in framing.frames] == [LOGIN.message] + [v.message for v in TCP]
    assert framing.consumed == len(STREAM)
    assert framing.errors == ()
    assert framing.frames[1].offset == len(LOGIN.message)


@pytest.mark.parametrize("cut", range(1, 40))
def test_framer_waits_for_the_rest_of_a_frame(cut: int) -> None:
    framing = teltonika.frame(STREAM[: len(LOGIN.message) + cut])
    assert [f.data for f in framing.frames] == [LOGIN.message]
    assert framing.consumed == len(LOGIN.message)
    assert framing.errors == ()


def test_framer_skips_garbage_and_says_where() -> None:
    garbage = b"\xff\xfe GARBAGE \x01"
    framing = teltonika.frame(garbage + STREAM)
    assert len(framing.frames) == 1 + len(TCP)
    assert [e.offset for e in framing.errors] == [0]
    assert framing.frames[0].offset == len(garbage)


def test_framer_refuses_an_absurd_data_length() -> None:
    framing = teltonika.frame(b"\x00\x00\x00\x00\x7f\xff\xff\xff" + STREAM)
    assert framing.errors and framing.errors[0].offset == 0
    assert framing.frames[0].data == LOGIN.message


def test_only_a_fifteen_digit_imei_is_a_login() -> None:
    # "00 05 12345" in a stream is garbage, not a device renaming itself.
    framing = teltonika.frame(b"\x00\x0512345" + LOGIN.message)
    assert [f.data for f in framing.frames] == [LOGIN.message]
    assert [e.offset for e in framing.errors] == [0]


# --- the fast reader gives what the checked one gives -------------------------------------------


def _packet(data: bytes) -> bytes:
    return (
        b"\x00\x00\x00\x00"
        + len(data).to_bytes(4, "big")
        + data
        + crc16_ibm(data).to_bytes(4, "big")
    )


def _both(frame: bytes) -> tuple[object, object]:
    """What decode gives (or raises) with the fast reader, and with the checked one only."""

    def outcome() -> object:
        try:
            message = teltonika.decode(frame, Context(device_id="dev", received_at=NOW))
        except FrameError as error:
            return ("error", error.offset, error.expected, error.found)
        return message

    fast = outcome()
    with pytest.MonkeyPatch.context() as patch:  # hypothesis examples share no fixture
        patch.setattr(teltonika, "_fast_records", lambda *args: None)
        checked = outcome()
    return fast, checked


NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


@pytest.mark.parametrize("vector", TCP, ids=lambda v: v.id)
def test_fast_reader_matches_the_checked_one_on_vectors(vector) -> None:
    fast, checked = _both(vector.message)
    assert fast == checked


def test_fast_reader_matches_the_checked_one_on_traccar_packets() -> None:
    for frame in (CODEC8_14_RECORDS, CODEC8E_WITH_VARIABLE_IO, CODEC16):
        fast, checked = _both(frame)
        assert fast == checked


NOW_MS = int(NOW.timestamp() * 1000)
_IO_GROUP = st.lists(st.tuples(st.integers(0, 255), st.integers(0, 2**64 - 1)), max_size=4)


@st.composite
def _codec8_records(draw: st.DrawFn) -> bytes:
    count = draw(st.integers(1, 4))
    body = bytearray((0x08, count))
    for _ in range(count):
        wild = draw(st.integers(0, 7)) == 0  # most records plausible, some anything at all

        def field(low: int, high: int, anything: st.SearchStrategy[int], wild: bool = wild) -> int:
            return draw(anything if wild and draw(st.booleans()) else st.integers(low, high))

        edges = st.sampled_from([0, 1_262_303_999_999, NOW_MS + 86_400_001, 2**63])
        body += struct.pack(
            ">QBiihHBH",
            field(1_262_304_000_000, NOW_MS, edges | st.integers(0, 2**64 - 1)),  # time, ms
            draw(st.integers(0, 255)),  # priority
            field(-1_800_000_000, 1_800_000_000, st.integers(-(2**31), 2**31 - 1)),  # longitude
            field(-900_000_000, 900_000_000, st.integers(-(2**31), 2**31 - 1)),  # latitude
            draw(st.integers(-(2**15), 2**15 - 1)),  # altitude
            field(0, 360, st.integers(0, 2**16 - 1)),  # angle
            draw(st.integers(0, 255)),  # satellites
            field(0, 350, st.integers(0, 2**16 - 1)),  # speed
        )
        groups = [draw(_IO_GROUP) for _ in range(4)]
        body += bytes((draw(st.integers(0, 255)), sum(len(g) for g in groups)))
        for size, group in zip((1, 2, 4, 8), groups, strict=True):
            body.append(len(group))
            for io_id, value in group:
                body.append(io_id)
                body += (value % (1 << (8 * size))).to_bytes(size, "big")
    body.append(count)
    return bytes(body)


@given(_codec8_records(), st.data())
def test_fast_reader_matches_the_checked_one_on_generated_packets(body: bytes, data) -> None:
    cut = data.draw(st.sampled_from([None, 0, 1, 2]))
    if cut is not None:  # truncate, or lengthen, the data field (still a valid CRC)
        body = body[: data.draw(st.integers(1, len(body)))] if cut == 1 else body + b"\x00" * cut
    fast, checked = _both(_packet(body))
    assert fast == checked


# --- packets whose records all have one shape: read a record per struct call --------------------


@st.composite
def _uniform_codec8_records(draw: st.DrawFn) -> bytes:
    """Records with the same IO groups (counts and IDs, repeated IDs included), their values
    and the head drawn per record; sometimes one record breaks the shape (an ID or a count)."""
    count = draw(st.integers(1, 6))
    groups = [draw(st.lists(st.integers(0, 255), max_size=3)) for _ in range(4)]
    breaker = draw(st.sampled_from([None, "id", "count"]))
    broken = draw(st.integers(0, count - 1))
    body = bytearray((0x08, count))
    for n in range(count):
        wild = draw(st.integers(0, 9)) == 0
        body += struct.pack(
            ">QBiihHBH",
            NOW_MS - draw(st.integers(0, 10**9)) if not wild else draw(st.integers(0, 2**64 - 1)),
            draw(st.integers(0, 255)),
            draw(st.integers(-1_800_000_000, 1_800_000_000)),
            draw(st.integers(-900_000_000, 900_000_000)),
            draw(st.integers(-(2**15), 2**15 - 1)),
            draw(st.integers(0, 360)),
            draw(st.integers(0, 255)),
            draw(st.integers(0, 350)) if not wild else draw(st.integers(0, 2**16 - 1)),
        )
        body += bytes((draw(st.integers(0, 255)), sum(len(g) for g in groups)))
        for size, group in zip((1, 2, 4, 8), groups, strict=True):
            ids = list(group)
            if n == broken and breaker == "id" and ids:
                ids[0] = (ids[0] + 1) % 256
            if n == broken and breaker == "count" and size == 8:
                ids.append(239)
            body.append(len(ids))
            for io_id in ids:
                body.append(io_id)
                body += draw(st.integers(0, (1 << (8 * size)) - 1)).to_bytes(size, "big")
    body.append(count)
    return bytes(body)


@given(_uniform_codec8_records(), st.data())
def test_fast_reader_matches_the_checked_one_on_uniform_packets(body: bytes, data) -> None:
    cut = data.draw(st.sampled_from([None, None, 0, 1, 2]))
    if cut is not None:
        body = body[: data.draw(st.integers(1, len(body)))] if cut == 1 else body + b"\x00" * cut
    fast, checked = _both(_packet(body))
    assert fast == checked
    again, _ = _both(_packet(body))  # a retransmission decodes to the same records
    assert again == fast


def test_a_packet_of_one_shape_is_read_a_record_per_call() -> None:
    # The shape the simulator and most configured devices send: the one-call path takes it.
    record = struct.pack(">QBiihHBH", NOW_MS, 0, 385_560_000, -33_960_000, 1200, 300, 9, 62)
    io = bytes((0, 4, 2, 239, 1, 21, 4, 2, 66, 0x31, 0x38, 67, 0x0F, 0xA0, 0, 0))
    body = bytes((0x08, 3)) + (record + io) * 3 + b"\x03"
    taken = teltonika._uniform_records(body, 2, len(body), 3, "dev", NOW)
    assert taken is not None and len(taken[0]) == 3 and taken[1] == len(body) - 1
    fast, checked = _both(_packet(body))
    assert fast == checked
    assert fast.records[0].attributes["io"] == {"239": 1, "21": 4, "66": 12600, "67": 4000}


def test_the_record_time_from_a_float_is_the_exact_millisecond() -> None:
    # _fast_records makes the time with datetime.fromtimestamp(ms / 1000): exact up to the
    # bound it checks, which these edges and a sweep of milliseconds hold it to.
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    high = teltonika._FLOAT_EXACT_US // 1000
    low = teltonika._EARLIEST_US // 1000
    edges = [low, low + 1, high - 1, high, NOW_MS, *range(NOW_MS, NOW_MS + 2_000)]
    edges += [high - k * 999_983 for k in range(2_000)]
    for ms in edges:
        assert datetime.fromtimestamp(ms / 1000, UTC) == epoch + timedelta(milliseconds=ms), ms
