"""The adapter interface: what a declaration format brings, so that an administration's own
message (ASYCUDA World's XML SAD export, a single-window message) is one module and one test.

An adapter is a :class:`MessageFormat` registered in
:data:`smartcustoms.declarations.formats.ADAPTERS`. It names itself (the ``--format`` of
``smartcustoms declarations import``), the media types ``POST /api/declarations`` takes it in,
and two readers that yield one :class:`~smartcustoms.declarations.formats.base.SourceRecord`
per declaration: ``read`` for a file (may stream), ``parse`` for a request body already in
memory (bounded by ``max_upload_bytes``). A reader maps its message onto our model's plain data
(the field names of :mod:`smartcustoms.declarations.model`), never imports ``risk`` or the
database, and reports problems in its own terms: a malformed message raises
:class:`~smartcustoms.core.errors.ValidationFailed` naming the place (line, segment, XPath); a
declaration that maps but does not validate comes back as a record with ``problems``.

:class:`Places` is how a reader keeps that promise for model errors: while mapping, it notes
where in the message each field of the declaration came from; :func:`checked` validates the
mapped data (shape and reference data, as intake will) and names that place in every problem,
so ``items[0].hs_code`` is reported as, say, segment CST at position 23, line 23, element
C246/7361 — or an XPath and line for XML. Lodging itself — storing, assessing, the ledger —
stays in :func:`smartcustoms.risk.lodging.lodge` / ``lodge_stream``: an adapter only reads.

A new format, step by step: write ``formats/<name>.py`` with ``read_<name>(path)`` and
``parse_<name>(data, name)``; map with :class:`Places` and return :func:`checked` records; add
a :class:`MessageFormat` to ``ADAPTERS``; package an example under ``declarations/data/examples``
and test it (``tests/declarations/formats/``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.validate import parse_declaration

__all__ = ["MessageFormat", "Places", "checked"]


@dataclass(frozen=True)
class MessageFormat:
    """One declaration format: its name, the media types the API takes it in, its readers."""

    name: str
    media_types: tuple[str, ...]
    read: Callable[[Path], Iterator[SourceRecord]]
    parse: Callable[[bytes, str], Iterator[SourceRecord]]
    description: str = ""


@dataclass
class Places:
    """Where each field path of the mapped declaration came from in the message.

    ``at(path, **place)`` notes a place (``segment``/``position``/``element``/``line`` for
    EDIFACT, ``xpath``/``line`` for XML); ``locate`` finds the nearest noted place of a field
    path (``items[0].customs_value.currency`` falls back to ``items[0].customs_value``, then
    ``items[0]``, then the message itself)."""

    message: dict[str, Any] = field(default_factory=dict)
    known: dict[str, dict[str, Any]] = field(default_factory=dict)

    def at(self, path: str, **place: Any) -> None:
        self.known.setdefault(path, place)

    def locate(self, path: str) -> dict[str, Any]:
        probe = path
        while probe:
            if probe in self.known:
                return self.known[probe]
            cut = max(probe.rfind("."), probe.rfind("["))
            probe = probe[:cut] if cut > 0 else ""
        return self.message

    def describe(self, place: dict[str, Any]) -> str:
        if "segment" in place:
            text = f"segment {place['segment']} at position {place['position']}"
            if place.get("element"):
                text += f", element {place['element']}"
            return f"{text}, line {place['line']}"
        if "xpath" in place:
            return f"{place['xpath']}, line {place['line']}"
        return ", ".join(f"{k} {v}" for k, v in place.items())


def checked(where: str, data: dict[str, Any], places: Places) -> SourceRecord:
    """The record for ``data``: as data when it is a valid declaration, else with every
    problem naming the place in the message it came from."""
    try:
        parse_declaration(data)
    except ValidationFailed as exc:
        problems = []
        for detail in exc.details:
            place = places.locate(str(detail.get("field", "")))
            problem = str(detail.get("problem", ""))
            if place:
                problem = f"{problem} ({places.describe(place)})"
            problems.append({**detail, **place, "problem": problem})
        return SourceRecord(where, problems=problems)
    return SourceRecord(where, data=data)
