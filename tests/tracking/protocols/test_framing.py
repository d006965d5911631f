"""The framing helper: frames that announce their size cut from a stream, garbage skipped and
reported once per run, an unfinished frame kept for the next call."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.tracking.protocols import gt06, teltonika
from smartcustoms.tracking.protocols.base import Frame, Framing
from smartcustoms.tracking.protocols.framing import cut_sized, garbage

EXPECTED = "a toy frame (AA, size, payload)"


# A toy protocol: AA, a size byte counting the whole frame (at least 3), the payload.
def _size_at(buf: bytes, pos: int) -> int:
    if buf[pos] != 0xAA:
        return -1
    if len(buf) - pos < 2:
        return 0
    size = buf[pos + 1]
    return size if size >= 3 else -1


def _resume_at(buf: bytes, at: int) -> int:
    nxt = buf.find(b"\xaa", at)
    return len(buf) if nxt < 0 else nxt


def cut(buffer: bytes) -> Framing:
    return cut_sized(buffer, _size_at, _resume_at, EXPECTED)


FRAME_A = bytes.fromhex("aa0301")
FRAME_B = bytes.fromhex("aa040203")


def test_back_to_back_frames_keep_their_offsets() -> None:
    framing = cut(FRAME_A + FRAME_B)
    assert framing == Framing((Frame(FRAME_A, 0), Frame(FRAME_B, 3)), 7, ())


def test_leading_garbage_is_one_error_naming_its_length_and_first_bytes() -> None:
    framing = cut(b"\x01\x02\x03" + FRAME_A)
    assert framing.frames == (Frame(FRAME_A, 3),)
    assert framing.consumed == 6
    (error,) = framing.errors
    assert error.offset == 0
    assert error.expected == EXPECTED
    assert error.found == "3 bytes of garbage (010203…)"


def test_garbage_between_frames_is_reported_where_it_starts() -> None:
    framing = cut(FRAME_A + b"\x55" * 20 + FRAME_B)
    assert [f.offset for f in framing.frames] == [0, 23]
    (error,) = framing.errors
    assert error.offset == 3
    # At most eight bytes are quoted: the log shows the garbage without flooding.
    assert error.found == f"20 bytes of garbage ({'55' * 8}…)"


def test_a_false_start_is_part_of_the_garbage_run() -> None:
    # AA followed by a size below 3 cannot start a frame: skipped with the bytes around it.
    framing = cut(b"\x01\xaa\x01\x02" + FRAME_B)
    assert framing.frames == (Frame(FRAME_B, 4),)
    (error,) = framing.errors
    assert (error.offset, error.found) == (0, "4 bytes of garbage (01aa0102…)")


def test_trailing_garbage_is_consumed_and_reported() -> None:
    framing = cut(FRAME_A + b"\x09\x08")
    assert framing.consumed == 5
    (error,) = framing.errors
    assert (error.offset, error.found) == (3, "2 bytes of garbage (0908…)")


def test_an_unfinished_frame_is_kept_for_the_next_call() -> None:
    framing = cut(FRAME_A + FRAME_B[:2])
    assert framing == Framing((Frame(FRAME_A, 0),), 3, ())
    assert cut(FRAME_A + FRAME_B[:1]).consumed == 3  # not even the size yet


def test_garbage_before_an_unfinished_frame_is_dropped_and_the_frame_kept() -> None:
    framing = cut(b"\x07\x07" + FRAME_B[:3])
    assert framing.frames == ()
    assert framing.consumed == 2
    assert [e.offset for e in framing.errors] == [0]


def test_nothing_in_nothing_out() -> None:
    assert cut(b"") == Framing()


def test_garbage_report_stays_inside_the_run() -> None:
    error = garbage(b"\x01\x02\xaa", 0, 2, EXPECTED)
    assert error.found == "2 bytes of garbage (0102…)"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_any_input_makes_progress_or_waits_and_never_raises(data: bytes) -> None:
    framing = cut(data)
    assert 0 <= framing.consumed <= len(data)
    # What is consumed is exactly the frames and the reported garbage, in order.
    covered = 0
    pieces = sorted(
        [(f.offset, len(f.data)) for f in framing.frames]
        + [(e.offset, int(e.found.split()[0])) for e in framing.errors]
    )
    for offset, size in pieces:
        assert offset == covered
        covered += size
    assert covered == framing.consumed
    rest = data[framing.consumed :]
    # What is kept is the start of a frame waiting for its end, never garbage.
    assert not rest or (rest[0] == 0xAA and _size_at(rest, 0) >= 0)


@pytest.mark.parametrize(
    ("protocol", "frame", "expected"),
    [
        (teltonika, bytes.fromhex("000f") + b"123456789012345", "a Teltonika frame"),
        (gt06, gt06.encode_reply(0x13, 1), "a GT06 packet"),
    ],
)
def test_the_size_framed_protocols_report_garbage_through_the_helper(
    protocol: object, frame: bytes, expected: str
) -> None:
    framing = protocol.frame(b"\x99\x98\x97" + frame + b"\x96")  # type: ignore[attr-defined]
    assert framing.frames == (Frame(frame, 3),)
    assert [e.offset for e in framing.errors] == [0, 3 + len(frame)]
    assert all(e.expected.startswith(expected) for e in framing.errors)
    assert framing.errors[0].found == "3 bytes of garbage (999897…)"
