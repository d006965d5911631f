"""Scan readers, chosen by the file's first bytes.

Built in: 16-bit TIFF (:mod:`.tiff`) and NEMA DICOS (:mod:`.dicos`). Other formats plug in with
:func:`register_reader` – the WCO Unified File Format reader will, once its specification (for WCO
members) is in hand: a function that recognises the format from the first bytes and one that
reads it into a :class:`~smartcustoms.scans.model.Scan`.

Every reader gets the :class:`~smartcustoms.scans.limits.ScanLimits` and checks the file's
declared pages, sizes and decoded bytes against them before decoding anything; whatever a reader
returns is checked against them once more, so no scan over the limits reaches the analyses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from smartcustoms.scans.errors import ScanReadError
from smartcustoms.scans.limits import ScanLimits
from smartcustoms.scans.model import Scan
from smartcustoms.scans.readers.dicos import looks_like_dicom, read_dicos
from smartcustoms.scans.readers.tiff import looks_like_tiff, read_tiff

__all__ = ["Reader", "read_scan", "readers", "register_reader"]

_HEAD_BYTES = 132  # enough for TIFF's byte-order mark and DICOM's preamble + "DICM"


@dataclass(frozen=True)
class Reader:
    name: str
    sniff: Callable[[bytes], bool]
    read: Callable[[Path, ScanLimits], Scan]


_READERS: list[Reader] = [
    Reader("tiff", looks_like_tiff, read_tiff),
    Reader("dicos", looks_like_dicom, read_dicos),
]


def register_reader(
    name: str, sniff: Callable[[bytes], bool], read: Callable[[Path, ScanLimits], Scan]
) -> None:
    """Add a reader for another format (tried after the built-in ones). ``read(path, limits)``
    must refuse a file over ``limits`` (:class:`~smartcustoms.scans.errors.ScanTooLarge`) from
    its header, before decoding its pixels."""
    if any(r.name == name for r in _READERS):
        raise ValueError(f"a reader called {name!r} is already registered")
    _READERS.append(Reader(name, sniff, read))


def readers() -> tuple[str, ...]:
    return tuple(r.name for r in _READERS)


def read_scan(path: str | Path, *, limits: ScanLimits | None = None) -> Scan:
    """Read a scan file in any registered format, no larger than ``limits`` (default: the
    settings' defaults).

    Raises :class:`ScanReadError` naming the file and what is wrong with it, or
    :class:`~smartcustoms.scans.errors.ScanTooLarge` naming the page, size or count over the
    limits (before any pixel is decoded)."""
    p = Path(path)
    limits = limits or ScanLimits()
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
            scan = reader.read(p, limits)
            rows, columns = scan.shape
            limits.check_plane(p, rows, columns, fields=("rows", "columns"), where="image")
            limits.check_decoded(p, rows * columns * 2 * len(scan.channels), field="channels")
            return scan
    raise ScanReadError(p, f"unrecognised format: not {', '.join(readers())}", field="header")
