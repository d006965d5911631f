"""File formats declarations are imported from: each yields one :class:`SourceRecord` per
declaration (or per unreadable row), numbered as the user sees the file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.formats.csv_flat import read_csv
from smartcustoms.declarations.formats.json_file import read_json
from smartcustoms.declarations.formats.kcs import read_kcs

__all__ = ["FORMATS", "SourceRecord"]

FORMATS: dict[str, Callable[[Path], Iterator[SourceRecord]]] = {
    "json": read_json,
    "csv": read_csv,
    "kcs": read_kcs,
}
