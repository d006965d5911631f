"""Scan readers, chosen by the file's first bytes.

Built in: 16-bit TIFF (:mod:`.tiff`) and NEMA DICOS (:mod:`.dicos`). Other formats plug in with
:func:`register_reader` – the WCO Unified File Format reader will, once its specification (for WCO
members) is in hand: a function that recognises the format from the first bytes and one that
reads it into a :class:`~smartcustoms.scans.model.Scan`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from smartcustoms.scans.errors import ScanReadError
from smartcustoms.scans.model import Scan
from smartcustoms.scans.readers.dicos import looks_like_dicom, read_dicos
from smartcustoms.scans.readers.tiff import looks_like_tiff, read_tiff

__all__ = ["Reader", "read_scan", "readers", "register_reader"]

_HEAD_BYTES = 132  # enough for TIFF's byte-order mark and DICOM's preamble + "DICM"


@dataclass(frozen=True)
class Reader:
    name: str
    sniff: Callable[[bytes], bool]
    read: Callable[[Path], Scan]


_READERS: list[Reader] = [
    Reader("tiff", looks_like_tiff, read_tiff),
    Reader("dicos", looks_like_dicom, read_dicos),
]


def register_reader(
    name: str, sniff: Callable[[bytes], bool], read: Callable[[Path], Scan]
) -> None:
    """Add a reader for another format (tried after the built-in ones)."""
    if any(r.name == name for r in _READERS):
        raise ValueError(f"a reader called {name!r} is already registered")
    _READERS.append(Reader(name, sniff, read))


def readers() -> tuple[str, ...]:
    return tuple(r.name for r in _READERS)


def read_scan(path: str | Path) -> Scan:
    """Read a scan file in any registered format.

    Raises :class:`ScanReadError` naming the file and what is wrong with it."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except FileNotFoundError:
        raise ScanReadError(p, "file not found") from None
    except IsADirectoryError:
        raise ScanReadError(p, "is a directory, not a scan file") from None
    except OSError as exc:
        raise ScanReadError(p, f"cannot be opened ({exc.strerror})") from None
    if not head:
        raise ScanReadError(p, "file is empty")
    for reader in _READERS:
        if reader.sniff(head):
            return reader.read(p)
    raise ScanReadError(p, f"unrecognised format: not {', '.join(readers())}", field="header")
