"""The link: what a connection remembers between frames (identity, clock offset, unframed bytes),
and the refusal and HTTP replies each protocol declares for the listener."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smartcustoms.tracking.protocols import (
    PROTOCOLS,
    Bad,
    Decoded,
    Link,
    Protocol,
    get_protocol,
    gt06,
    osmand,
    teltonika,
)

from ..vectorfiles import load

GT06 = get_protocol("gt06")
LOCATION = next(v for v in load("gt06") if v.expected["protocol_number"] != "0x01")
LOCAL_TIME = datetime.fromisoformat(LOCATION.expected["time_utc"].replace("Z", "+00:00"))


def gt06_login(imei: str, zone_minutes: int | None = None, serial: int = 1) -> bytes:
    """A GT06 login; with a zone, the extended form announcing the clock's offset from UTC."""
    content = bytes.fromhex("0" + imei)
    if zone_minutes is not None:
        west = zone_minutes < 0
        hours, minutes = divmod(abs(zone_minutes), 60)
        zone = ((hours * 100 + minutes) << 4) | (0x08 if west else 0)
        content += b"\x36\x08" + zone.to_bytes(2, "big")  # type identifier, time zone
    return gt06.encode_reply(0x01, serial, content)


def times(link: Link, data: bytes) -> list[tuple[str | None, datetime]]:
    steps = list(link.receive(data))
    assert all(isinstance(s, Decoded) for s in steps), steps
    return [(r.device_id, r.time) for s in steps for r in s.message.records]  # type: ignore[union-attr]


def test_a_login_names_the_later_frames_and_sets_their_clock() -> None:
    link = Link(GT06)
    assert times(link, gt06_login("123456789012345", 180) + LOCATION.message) == [
        ("123456789012345", LOCAL_TIME - timedelta(hours=3))
    ]
    assert link.device_id == "123456789012345"
    assert link.context.utc_offset == timedelta(hours=3)


def test_a_login_without_a_zone_keeps_the_offset_the_link_had() -> None:
    link = Link(GT06)
    stream = gt06_login("123456789012345", -90) + gt06_login("123456789012345") + LOCATION.message
    assert times(link, stream) == [("123456789012345", LOCAL_TIME + timedelta(minutes=90))]


def test_a_login_announcing_utc_replaces_an_earlier_offset() -> None:
    link = Link(GT06)
    stream = gt06_login("123456789012345", 180) + gt06_login("123456789012345", 0)
    assert times(link, stream + LOCATION.message) == [("123456789012345", LOCAL_TIME)]


def test_a_refused_login_changes_nothing() -> None:
    link = Link(GT06, device_id="111", accepts=lambda device: device == "111")
    (step,) = link.receive(gt06_login("123456789012345", 180))
    assert isinstance(step, Decoded) and step.refused
    assert (link.device_id, link.context.device_id, link.context.utc_offset) == ("111", "111", None)


def test_options_survive_a_login() -> None:
    link = Link(GT06, options={"gt06.x": "1"})
    list(link.receive(gt06_login("123456789012345")))
    assert link.context.options == {"gt06.x": "1"}
    assert link.context.device_id == "123456789012345"


def test_a_frame_naming_its_device_claims_an_unnamed_link_only() -> None:
    link = Link(GT06)
    link.adopt("a")
    link.adopt("b")
    assert link.device_id == "a"


def test_offsets_count_from_the_start_of_the_stream_across_chunks() -> None:
    link = Link(GT06)
    login = gt06_login("123456789012345")
    assert list(link.receive(login[:5])) == []  # half a frame waits for the rest
    garbage, step = link.receive(login[5:] + b"\x01\x02")
    # The framer reports garbage before the frames of the same call.
    assert isinstance(garbage, Bad) and garbage.stage == "framing"
    assert garbage.error.offset == len(login)
    assert isinstance(step, Decoded) and step.offset == 0
    (located,) = link.receive(LOCATION.message)
    assert isinstance(located, Decoded) and located.offset == len(login) + 2
    broken = bytearray(LOCATION.message)
    broken[-4] ^= 0xFF  # the CRC
    (wrong,) = link.receive(bytes(broken))
    at = len(login) + 2 + len(LOCATION.message)
    assert isinstance(wrong, Bad) and wrong.stage == "decoding"
    assert wrong.error.offset == at + len(LOCATION.message) - 4
    assert link.consumed == at + len(LOCATION.message) and not link.buffer


def test_only_teltonika_refuses_with_a_reply_and_only_http_protocols_answer_statuses() -> None:
    assert PROTOCOLS["teltonika"].refusal == teltonika.encode_login_reply(False) == b"\x00"
    assert [p.name for p in PROTOCOLS.values() if p.refusal is not None] == ["teltonika"]
    assert PROTOCOLS["osmand"].reply is osmand.encode_response
    for protocol in PROTOCOLS.values():
        assert (protocol.reply is not None) == ("http" in protocol.transports)


def test_an_http_protocol_must_say_how_it_answers() -> None:
    with pytest.raises(TypeError, match="no reply"):
        Protocol("x", "X", gt06.frame, gt06.decode, 10, ("http",), 8080)


def test_decoding_uses_utc_when_nothing_was_announced() -> None:
    link = Link(GT06, device_id="d")
    assert times(link, LOCATION.message) == [("d", LOCAL_TIME.astimezone(UTC))]
