"""What every import format produces."""

from __future__ import annotations

import codecs
import io
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smartcustoms.core.errors import ValidationFailed

__all__ = ["SourceRecord", "text_lines"]


@dataclass
class SourceRecord:
    """One declaration as read from a file, or the reason it could not be read.

    ``where`` names the place in the file ("row 17", "line 3", "declarations[4]");
    ``outcome`` carries a past inspection result when the format has one (KCS labels).
    """

    where: str
    data: dict[str, Any] | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    outcome: dict[str, Any] | None = None


def _bad_utf8_offset(path: Path) -> int:
    """The byte offset of the first byte that is not UTF-8 (a BOM counts: it is in the file)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    read = 0
    with path.open("rb") as fh:
        head = fh.read(3)
        start = 3 if head == codecs.BOM_UTF8 else 0
        fh.seek(start)
        read = start
        while block := fh.read(1 << 20):
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                return read - pending + exc.start
            read += len(block)
    return read


def text_lines(path: Path) -> Generator[str, None, None]:
    """The file's lines (``newline=""``, as :mod:`csv` wants them), decoded as UTF-8 (a BOM is
    skipped) a block at a time: never the whole file in memory. Text that is not UTF-8 raises
    ValidationFailed naming the byte offset."""
    with path.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as text:
        try:
            yield from text
        except UnicodeDecodeError:
            offset = _bad_utf8_offset(path)
            raise ValidationFailed(
                f"{path.name}: not UTF-8 at byte {offset}",
                details=[{"offset": offset, "problem": "not UTF-8"}],
            ) from None
