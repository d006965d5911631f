"""JSON import: one declaration, a list, ``{"declarations": [...]}``, or JSON Lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.declarations.formats.base import SourceRecord

__all__ = ["read_json"]


def _decode_error(exc: json.JSONDecodeError, where: str) -> ValidationFailed:
    return ValidationFailed(
        f"{where}: malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
        details=[{"line": exc.lineno, "column": exc.colno, "offset": exc.pos, "problem": exc.msg}],
    )


def read_json(path: Path) -> Iterator[SourceRecord]:
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        yield from _read_lines(path)
        return
    try:
        document: Any = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise _decode_error(exc, path.name) from None
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"{path.name}: not UTF-8 at byte {exc.start}",
            details=[{"offset": exc.start, "problem": "not UTF-8"}],
        ) from None
    if isinstance(document, dict) and "declarations" in document:
        document = document["declarations"]
        prefix = "declarations"
    elif isinstance(document, dict):
        document = [document]
        prefix = "declaration"
    else:
        prefix = "declarations"
    if not isinstance(document, list):
        raise ValidationFailed(
            f"{path.name}: expected a declaration, a list of them or {{'declarations': [...]}}"
        )
    for index, entry in enumerate(document):
        where = prefix if prefix == "declaration" else f"{prefix}[{index}]"
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
                entry = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                problem = exc.msg if isinstance(exc, json.JSONDecodeError) else "not UTF-8"
                yield SourceRecord(where, problems=[{"field": "", "problem": problem}])
                continue
            if isinstance(entry, dict):
                yield SourceRecord(where, data=entry)
            else:
                yield SourceRecord(where, problems=[{"field": "", "problem": "not a JSON object"}])
