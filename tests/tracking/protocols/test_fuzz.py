"""Random and mutated input into every framer and decoder.

What must hold whatever arrives: a decoder returns a Message or raises FrameError, nothing else;
a framer never raises, always makes progress or asks for more bytes, and never holds back more
than the protocol's largest frame; a valid stream cut anywhere comes out whole.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols import PROTOCOLS, Context, Framing, Message, Protocol
from smartcustoms.tracking.records import Position

from ..vectorfiles import ALL_FILES, PROTOCOL_OF_FILE, load
from . import test_gt06, test_jt701, test_jt808, test_teltonika

# FUZZ_EXAMPLES=5000 for a longer hunt; the default keeps the suite quick.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _corpus() -> dict[str, list[bytes]]:
    corpus: dict[str, list[bytes]] = {name: [] for name in PROTOCOLS}
    for file in ALL_FILES:
        corpus[PROTOCOL_OF_FILE[file]].extend(v.message for v in load(file))
    corpus["teltonika"] += [
        test_teltonika.CODEC8_14_RECORDS,
        test_teltonika.CODEC8E_WITH_VARIABLE_IO,
        test_teltonika.CODEC16,
    ]
    corpus["gt06"] += [test_gt06.ALARM_REMOVING, test_gt06.ALARM_0X26, test_gt06.HEARTBEAT_GK310]
    corpus["jt808"] += [test_jt808.BATCH_SIX, test_jt808.JOINTECH_UNLOCK, test_jt808.REGISTER_2019]
    corpus["jt701"] += [
        test_jt701.SHORT_V2_SIX,
        test_jt701.SHORT_V3,
        test_jt701.U01,
        test_jt701.W01,
    ]
    return corpus


CORPUS = _corpus()
# Streams for the framers: what a TCP connection carries. OsmAnd's is HTTP requests.
STREAM_FRAMES = {name: frames for name, frames in CORPUS.items() if name != "osmand"}
# Teltonika's UDP datagrams have their own header and are not TCP stream frames.
STREAM_FRAMES["teltonika"] = [
    m for m in CORPUS["teltonika"] if m[:4] == bytes(4) or m[:2] == b"\x00\x0f"
]
STREAM_FRAMES["osmand"] = [
    m.replace(b"GET /?", b"GET /?", 1) + b" HTTP/1.1\r\nHost: t\r\n\r\n" for m in CORPUS["osmand"]
]
# Bytes that cannot start a frame, so garbage made of them cannot swallow the next frame.
FRAME_STARTS = {
    "teltonika": b"\x00",
    "gt06": b"\x78\x79",
    "jt808": b"\x7e",
    "jt701": b"$(",
    "eseal": b"#",
}
NAMES = sorted(PROTOCOLS)


def _decode(protocol: Protocol, data: bytes) -> Message | None:
    """Decode, allowing FrameError only; check what comes back is well formed."""
    try:
        message = protocol.decode(data, Context(device_id="fuzz", received_at=NOW))
    except FrameError as error:
        caught = error
    else:
        caught = None
    if caught is not None:
        assert 0 <= caught.offset <= len(data)
        assert caught.message.startswith(f"byte {caught.offset}: expected ")
        return None
    assert isinstance(message, Message)
    assert message.ack is None or isinstance(message.ack, bytes)
    for record in message.records:
        assert isinstance(record, Position)
        assert record.time.tzinfo is not None
        if record.latitude is not None:
            assert -90 <= record.latitude <= 90
        if record.longitude is not None:
            assert -180 <= record.longitude <= 180
    return message


def _check_framing(protocol: Protocol, buf: bytes, framing: Framing) -> None:
    assert 0 <= framing.consumed <= len(buf)
    end = 0
    for frame in framing.frames:
        assert frame.offset >= end
        assert buf[frame.offset : frame.offset + len(frame.data)] == frame.data
        assert frame.data
        end = frame.offset + len(frame.data)
    assert end <= framing.consumed
    if framing.consumed == 0:
        assert framing.frames == () and framing.errors == ()
    assert len(buf) - framing.consumed <= protocol.max_frame
    for error in framing.errors:
        assert isinstance(error, FrameError)
        assert 0 <= error.offset <= len(buf)


def _listen(protocol: Protocol, chunks: list[bytes]) -> tuple[list[bytes], int]:
    """Feed chunks as a listener would; return the frames cut and the number of errors."""
    buffer = b""
    frames: list[bytes] = []
    errors = 0
    for chunk in chunks:
        buffer += chunk
        while buffer:
            framing = protocol.frame(buffer)
            _check_framing(protocol, buffer, framing)
            frames += [f.data for f in framing.frames]
            errors += len(framing.errors)
            buffer = buffer[framing.consumed :]
            if framing.consumed == 0:
                break
    return frames, errors


def _split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for point in points:
        pieces.append(data[last:point])
        last = point
    pieces.append(data[last:])
    return pieces


@st.composite
def mutated(draw: st.DrawFn, frames: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(frames)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "set"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif kind == "set" and data:
            data[at] = draw(st.sampled_from([0x00, 0xFF, 0x7E, 0x7D, 0x2C, 0x28, 0x29, 0x78]))
    return bytes(data)


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(data=st.binary(max_size=600))
def test_random_bytes_into_decoder_and_framer(name: str, data: bytes) -> None:
    protocol = PROTOCOLS[name]
    _decode(protocol, data)
    _check_framing(protocol, data, protocol.frame(data))


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(data=st.data())
def test_mutated_frames_into_decoder_and_framer(name: str, data: st.DataObject) -> None:
    protocol = PROTOCOLS[name]
    frame = data.draw(mutated(CORPUS[name]))
    _decode(protocol, frame)
    _check_framing(protocol, frame, protocol.frame(frame))
    stream = data.draw(mutated(STREAM_FRAMES[name]))
    _listen(protocol, [stream])


@pytest.mark.parametrize("name", NAMES)
def test_every_corpus_frame_decodes(name: str) -> None:
    protocol = PROTOCOLS[name]
    for frame in CORPUS[name]:
        if name == "osmand" and b"id=" not in frame:
            continue  # the vector that must be refused
        assert _decode(protocol, frame) is not None, frame


@pytest.mark.parametrize("name", NAMES)
@FUZZ
@given(data=st.data())
def test_a_valid_stream_cut_anywhere_comes_out_whole(name: str, data: st.DataObject) -> None:
    protocol = PROTOCOLS[name]
    frames = data.draw(st.lists(st.sampled_from(STREAM_FRAMES[name]), min_size=1, max_size=6))
    cuts = data.draw(st.lists(st.integers(0, 10_000), max_size=8))
    got, errors = _listen(protocol, _split(b"".join(frames), cuts))
    assert got == frames
    assert errors == 0


@pytest.mark.parametrize("name", sorted(FRAME_STARTS))
@FUZZ
@given(data=st.data())
def test_garbage_between_frames_is_skipped_and_reported(name: str, data: st.DataObject) -> None:
    protocol = PROTOCOLS[name]
    starts = FRAME_STARTS[name]
    garbage = data.draw(
        st.binary(min_size=1, max_size=40).filter(
            lambda g: not any(b in starts for b in g) and g.strip()
        )
    )
    frames = data.draw(st.lists(st.sampled_from(STREAM_FRAMES[name]), min_size=1, max_size=3))
    got, errors = _listen(protocol, [garbage + b"".join(frames)])
    assert got == frames
    assert errors == 1


@pytest.mark.parametrize("name", NAMES)
def test_a_framer_holding_a_partial_frame_asks_for_more(name: str) -> None:
    protocol = PROTOCOLS[name]
    for frame in STREAM_FRAMES[name]:
        for cut in range(len(frame)):
            framing = protocol.frame(frame[:cut])
            _check_framing(protocol, frame[:cut], framing)
            assert framing.frames == ()
