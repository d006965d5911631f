"""File formats declarations are imported from: each yields one :class:`SourceRecord` per
declaration (or per unreadable row), numbered as the user sees the file.

:data:`FORMATS` names every file reader (``smartcustoms declarations import --format``);
:data:`ADAPTERS` the message formats that also come in as a request body, by media type
(``POST /api/declarations``): UN/EDIFACT CUSDEC and WCO Data Model XML. A new message format is
one adapter (:mod:`.adapter` says how) added here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from smartcustoms.declarations.formats.adapter import MessageFormat
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.formats.csv_flat import read_csv
from smartcustoms.declarations.formats.cusdec import parse_cusdec, read_cusdec
from smartcustoms.declarations.formats.json_file import read_json
from smartcustoms.declarations.formats.kcs import read_kcs
from smartcustoms.declarations.formats.wco_xml import parse_wco_xml, read_wco_xml

__all__ = ["ADAPTERS", "FORMATS", "MessageFormat", "SourceRecord", "adapter_for"]

ADAPTERS: tuple[MessageFormat, ...] = (
    MessageFormat(
        "cusdec",
        ("application/edifact", "application/x-edifact"),
        read_cusdec,
        parse_cusdec,
        "UN/EDIFACT CUSDEC (D.96B or later), one declaration per message",
    ),
    MessageFormat(
        "wcoxml",
        ("application/xml", "text/xml"),
        read_wco_xml,
        parse_wco_xml,
        "WCO Data Model 3.6 declaration XML (smartcustoms_wco_dec.xsd)",
    ),
)

FORMATS: dict[str, Callable[[Path], Iterator[SourceRecord]]] = {
    "json": read_json,
    "csv": read_csv,
    "kcs": read_kcs,
    **{adapter.name: adapter.read for adapter in ADAPTERS},
}


def adapter_for(content_type: str) -> MessageFormat | None:
    """The adapter taking ``content_type`` (parameters and case ignored), or None."""
    media = content_type.split(";", 1)[0].strip().lower()
    return next((a for a in ADAPTERS if media in a.media_types), None)
