"""A bounds-checked cursor over a frame: every short read becomes a FrameError at its offset."""

from __future__ import annotations

import struct

from smartcustoms.tracking.errors import FrameError

__all__ = ["Reader", "bcd_digits"]

_U16 = struct.Struct(">H").unpack_from
_I16 = struct.Struct(">h").unpack_from
_U32 = struct.Struct(">I").unpack_from
_I32 = struct.Struct(">i").unpack_from
_U64 = struct.Struct(">Q").unpack_from


def bcd_digits(data: bytes, offset: int, what: str) -> str:
    """The decimal digits packed two to a byte in ``data``; FrameError at ``offset`` otherwise."""
    digits = data.hex()
    if not digits.isdigit():
        raise FrameError(offset, f"BCD digits ({what})", digits)
    return digits


class Reader:
    """Big-endian reads from ``data[pos:end]``; ``pos`` is the offset errors report."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def need(self, n: int, what: str) -> None:
        """Raise unless ``n`` more bytes remain, naming the field group that needs them."""
        if self.pos + n > self.end:
            left = self.end - self.pos
            raise FrameError(self.pos, f"{n} bytes ({what})", _left(left))

    def _short(self, n: int) -> FrameError:
        return FrameError(self.pos, f"{n} more byte{'s' if n > 1 else ''}", _left(self.remaining))

    def u8(self) -> int:
        p = self.pos
        if p >= self.end:
            raise self._short(1)
        self.pos = p + 1
        return self.data[p]

    def u16(self) -> int:
        p = self.pos
        if p + 2 > self.end:
            raise self._short(2)
        self.pos = p + 2
        return int(_U16(self.data, p)[0])

    def i16(self) -> int:
        p = self.pos
        if p + 2 > self.end:
            raise self._short(2)
        self.pos = p + 2
        return int(_I16(self.data, p)[0])

    def u24(self) -> int:
        p = self.pos
        if p + 3 > self.end:
            raise self._short(3)
        self.pos = p + 3
        return int.from_bytes(self.data[p : p + 3], "big")

    def u32(self) -> int:
        p = self.pos
        if p + 4 > self.end:
            raise self._short(4)
        self.pos = p + 4
        return int(_U32(self.data, p)[0])

    def i32(self) -> int:
        p = self.pos
        if p + 4 > self.end:
            raise self._short(4)
        self.pos = p + 4
        return int(_I32(self.data, p)[0])

    def u64(self) -> int:
        p = self.pos
        if p + 8 > self.end:
            raise self._short(8)
        self.pos = p + 8
        return int(_U64(self.data, p)[0])

    def uint(self, size: int) -> int:
        """An unsigned integer of 1, 2, 4 or 8 bytes (Teltonika IO values come in all four)."""
        p = self.pos
        if p + size > self.end:
            raise self._short(size)
        self.pos = p + size
        return int.from_bytes(self.data[p : p + size], "big")

    def take(self, n: int) -> bytes:
        p = self.pos
        if n < 0 or p + n > self.end:
            raise self._short(max(n, 1))
        self.pos = p + n
        return self.data[p : p + n]

    def bcd(self, n: int, what: str) -> str:
        """``n`` bytes of packed decimal digits, as a string of ``2n`` digits."""
        start = self.pos
        return bcd_digits(self.take(n), start, what)


def _left(n: int) -> str:
    if n <= 0:
        return "end of frame"
    return f"only {n} byte{'s' if n > 1 else ''} left"
