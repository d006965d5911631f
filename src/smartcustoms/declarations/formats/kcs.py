"""The KCS profile: the columns of the Korea Customs Service synthetic import declarations
(one item per declaration, with the inspection outcome in ``Fraud`` / ``Critical Fraud``).

KCS codes that the WCO model does not name are kept in ``national_fields``. The dates fall under
HS 2017, which is not packaged: HS codes are checked for shape and chapter only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import closing
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.declarations.formats.base import SourceRecord, text_lines

__all__ = ["KCS_COLUMNS", "kcs_row", "read_kcs"]

KCS_COLUMNS = (
    "Declaration ID",
    "Date",
    "Office ID",
    "Process Type",
    "Import Type",
    "Import Use",
    "Payment Type",
    "Mode of Transport",
    "Declarant ID",
    "Importer ID",
    "Seller ID",
    "Courier ID",
    "HS6 Code",
    "Country of Departure",
    "Country of Origin",
    "Tax Rate",
    "Tax Type",
    "Country of Origin Indicator",
    "Net Mass",
    "Item Price",
)
# KCS transport codes are two digits whose first digit is the UN/ECE Rec 19 mode
# (10 sea, 20 rail, 30 road, 40 air, 50 post, 90 other).
KCS_TIMEZONE = "+09:00"


def _decimal(text: str, places: str) -> str:
    """A KCS number rounded to ``places``: the synthetic file has float noise such as
    86125.20000000001, which no customs system would hold. Unparseable text passes through
    unchanged for the model's validation to report."""
    try:
        return str(Decimal(text).quantize(Decimal(places), rounding=ROUND_HALF_EVEN))
    except (InvalidOperation, ValueError):
        return text


def kcs_row(row: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The declaration (as plain data) and the inspection outcome of one KCS row."""
    national = {
        "kcs_process_type": row["Process Type"],
        "kcs_import_type": row["Import Type"],
        "kcs_import_use": row["Import Use"],
        "kcs_payment_type": row["Payment Type"],
        "kcs_transport_mode": row["Mode of Transport"],
    }
    data: dict[str, Any] = {
        "lrn": row["Declaration ID"],
        "type_code": "IM",
        "issue_datetime": f"{row['Date']}T00:00:00{KCS_TIMEZONE}",
        "office_of_declaration": row["Office ID"],
        "declarant": {"id": row["Declarant ID"]},
        "importer": {"id": row["Importer ID"]},
        "border_transport_mode": (row["Mode of Transport"] or "9")[0],
        "national_fields": {k: v for k, v in national.items() if v},
        "items": [
            {
                "sequence": 1,
                "hs_code": row["HS6 Code"].zfill(6),
                "origin_country": row["Country of Origin"],
                "origin_type": row["Country of Origin Indicator"] or None,
                "customs_value": {"value": _decimal(row["Item Price"], "0.01"), "currency": "KRW"},
                "net_mass_kg": _decimal(row["Net Mass"], "0.001"),
                "duties": [{"type": row["Tax Type"], "rate": row["Tax Rate"]}]
                if row["Tax Type"]
                else [],
            }
        ],
    }
    if row["Seller ID"]:
        data["seller"] = {"id": row["Seller ID"]}
    if row["Courier ID"]:
        data["agent"] = {"id": row["Courier ID"]}
    if row["Country of Departure"]:
        data["export_country"] = row["Country of Departure"]
    outcome = None
    if row.get("Fraud") not in (None, ""):
        outcome = {"fraud": row["Fraud"] == "1", "critical": row.get("Critical Fraud") == "1"}
    return data, outcome


def read_kcs(path: Path) -> Iterator[SourceRecord]:
    """One record per row, read a block at a time (never the whole file in memory)."""
    # Closed on every way out (a refused header raises while the file is open): left to the
    # garbage collector, the file may be finalised before the generator that would close it.
    with closing(text_lines(path)) as lines:
        yield from _read_kcs(path, lines)


def _read_kcs(path: Path, lines: Iterator[str]) -> Iterator[SourceRecord]:
    reader = csv.DictReader(lines, strict=True)
    try:
        fieldnames = reader.fieldnames or []
    except csv.Error as exc:
        raise ValidationFailed(
            f"{path.name}: malformed CSV at line {reader.line_num}: {exc}",
            details=[{"line": reader.line_num, "problem": str(exc)}],
        ) from None
    missing = [c for c in KCS_COLUMNS if c not in fieldnames]
    if missing:
        raise ValidationFailed(
            f"{path.name}: not a KCS file, missing columns: {', '.join(missing)}",
            details=[{"column": c, "problem": "missing column"} for c in missing],
        )
    try:
        for row in reader:
            where = f"row {reader.line_num}"
            if None in row:
                yield SourceRecord(
                    where, problems=[{"field": "", "problem": "more cells than columns"}]
                )
                continue
            data, outcome = kcs_row(row)
            yield SourceRecord(where, data=data, outcome=outcome)
    except csv.Error as exc:
        raise ValidationFailed(
            f"{path.name}: malformed CSV at line {reader.line_num}: {exc}",
            details=[{"line": reader.line_num, "problem": str(exc)}],
        ) from None
