"""JSON import: one declaration, a list, ``{"declarations": [...]}``, or JSON Lines."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.jsontext import loads
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.formats.json_stream import stream_declarations

__all__ = ["read_json"]


def read_json(path: Path) -> Iterator[SourceRecord]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        yield from _read_lines(path)
        return
    # Streamed, one declaration at a time (json_stream). Malformed, too deeply nested, a number
    # too long, not UTF-8: a ValidationFailed naming the line, column and byte offset.
    for where, entry in stream_declarations(path):
        if isinstance(entry, dict):
            yield SourceRecord(where, data=entry)
        else:
            yield SourceRecord(where, problems=[{"field": "", "problem": "not a JSON object"}])


def _read_lines(path: Path) -> Iterator[SourceRecord]:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            where = f"line {number}"
            try:
                entry = loads(raw, where)
            except ValidationFailed as exc:
                place = exc.details[0] if exc.details else {}
                problem = str(place.get("problem", exc.message))
                if "column" in place:
                    problem += f" (column {place['column']})"
                yield SourceRecord(where, problems=[{"field": "", "problem": problem}])
                continue
            if isinstance(entry, dict):
                yield SourceRecord(where, data=entry)
            else:
                yield SourceRecord(where, problems=[{"field": "", "problem": "not a JSON object"}])
