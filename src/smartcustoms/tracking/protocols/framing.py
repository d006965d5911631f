"""What the framers share: the loop for frames that announce their size, and garbage reports.

A framer never raises (see ``base.py``): bytes that cannot start a frame are skipped up to the
next place one can, and reported once per run as a :class:`FrameError` saying how many bytes were
dropped and what they began with, so the listener's log shows the garbage without flooding.
"""

from __future__ import annotations

from collections.abc import Callable

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.protocols.base import Frame, Framing

__all__ = ["cut_sized", "garbage"]

_SHOWN: int = 8  # bytes of the garbage quoted in the report: enough to recognise, never a flood


def garbage(buf: bytes, start: int, end: int, expected: str) -> FrameError:
    """The report for ``buf[start:end]``, skipped because no frame could start there."""
    shown = buf[start : min(end, start + _SHOWN)].hex()
    return FrameError(start, expected, f"{end - start} bytes of garbage ({shown}…)")


def cut_sized(
    buffer: bytes | bytearray | memoryview,
    size_at: Callable[[bytes, int], int],
    resume_at: Callable[[bytes, int], int],
    expected: str,
) -> Framing:
    """Cut frames whose first bytes tell their size (Teltonika, GT06) from a stream buffer.

    ``size_at(buf, pos)`` is the size of the frame starting at ``pos``, 0 when more bytes must
    come to tell, or -1 when no frame starts there. ``resume_at(buf, at)`` is the first place at
    or after ``at`` where a frame may start (``len(buf)`` if none; bytes it keeps at the end are
    looked at again when more arrive). Each run of garbage becomes one error naming
    ``expected``; an unfinished frame at the end stays in the buffer (``consumed`` stops before
    it), so the caller keeps it and calls again when more bytes come.
    """
    buf = bytes(buffer)
    n = len(buf)
    pos = 0
    frames: list[Frame] = []
    errors: list[FrameError] = []
    garbage_at = -1
    while pos < n:
        size = size_at(buf, pos)
        if size < 0:
            if garbage_at < 0:
                garbage_at = pos
            pos = resume_at(buf, pos + 1)
            continue
        if garbage_at >= 0:
            errors.append(garbage(buf, garbage_at, pos, expected))
            garbage_at = -1
        if size == 0 or pos + size > n:
            break  # a frame starts here; wait for the rest of it
        frames.append(Frame(buf[pos : pos + size], pos))
        pos += size
    if garbage_at >= 0:
        errors.append(garbage(buf, garbage_at, pos, expected))
    return Framing(tuple(frames), pos, tuple(errors))
