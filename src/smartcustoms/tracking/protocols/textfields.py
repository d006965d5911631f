"""Comma-separated text sentences, read field by field with each field's offset for errors."""

from __future__ import annotations

import re
from typing import Final

from smartcustoms.tracking.errors import FrameError

__all__ = ["Fields"]

_INT: Final = re.compile(r"-?[0-9]+")
_DECIMAL: Final = re.compile(r"-?[0-9]+(?:\.[0-9]*)?")


class Fields:
    """The fields of ``text`` split on ``sep``; ``base`` is where ``text`` begins in the frame."""

    __slots__ = ("_end", "offsets", "values")

    def __init__(self, text: str, base: int = 0, sep: str = ",") -> None:
        self.values = text.split(sep)
        self.offsets: list[int] = []
        at = base
        for value in self.values:
            self.offsets.append(at)
            at += len(value) + len(sep)
        self._end = base + len(text)

    def __len__(self) -> int:
        return len(self.values)

    def require(self, count: int, what: str) -> None:
        if len(self.values) < count:
            raise FrameError(self._end, f"{count} fields ({what})", f"{len(self.values)} fields")

    def error(self, i: int, expected: str) -> FrameError:
        return FrameError(self.offsets[i], expected, repr(self.values[i]))

    def text(self, i: int) -> str:
        return self.values[i]

    def integer(self, i: int, what: str) -> int:
        value = self.values[i]
        if not _INT.fullmatch(value):
            raise self.error(i, f"an integer ({what})")
        return int(value)

    def decimal(self, i: int, what: str) -> float:
        """A plain decimal number: no exponents, no NaN or infinity."""
        value = self.values[i]
        if not _DECIMAL.fullmatch(value):
            raise self.error(i, f"a decimal number ({what})")
        return float(value)

    def choice(self, i: int, options: tuple[str, ...], what: str) -> str:
        value = self.values[i]
        if value not in options:
            raise self.error(i, f"{' or '.join(options)} ({what})")
        return value

    def digits(self, i: int, count: int, what: str) -> tuple[int, ...]:
        """A field of exactly ``count`` digits, as two-digit numbers (dates: ddmmyy, hhmmss)."""
        value = self.values[i]
        if len(value) != count or not value.isascii() or not value.isdigit():
            raise self.error(i, f"{count} digits ({what})")
        return tuple(int(value[k : k + 2]) for k in range(0, count, 2))
