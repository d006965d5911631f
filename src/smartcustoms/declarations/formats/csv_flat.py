"""Flat CSV import: one row per goods item; rows with the same declarant and LRN form one
declaration. The columns are listed in :data:`COLUMNS` (and in the README)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.declarations.formats.base import SourceRecord

__all__ = ["COLUMNS", "REQUIRED", "read_csv"]

#: column -> where it goes in the declaration ("item." for the row's goods item)
COLUMNS: dict[str, str] = {
    "lrn": "lrn",
    "function_code": "function_code",
    "type_code": "type_code",
    "mrn": "mrn",
    "issue_datetime": "issue_datetime",
    "office_of_declaration": "office_of_declaration",
    "declarant_id": "declarant.id",
    "declarant_name": "declarant.name",
    "importer_id": "importer.id",
    "importer_name": "importer.name",
    "exporter_id": "exporter.id",
    "seller_id": "seller.id",
    "agent_id": "agent.id",
    "export_country": "export_country",
    "destination_country": "destination_country",
    "incoterm": "incoterm",
    "border_transport_mode": "border_transport_mode",
    "border_transport_id": "border_transport_id",
    "container_ids": "transport_equipment",
    "item_sequence": "item.sequence",
    "item_hs_code": "item.hs_code",
    "item_description": "item.description",
    "item_origin_country": "item.origin_country",
    "item_customs_value": "item.customs_value.value",
    "item_currency": "item.customs_value.currency",
    "item_net_mass_kg": "item.net_mass_kg",
    "item_gross_mass_kg": "item.gross_mass_kg",
    "item_quantity": "item.supplementary_quantity",
    "item_procedure": "item.procedure.current",
    "item_tax_type": "item.duties.type",
    "item_tax_rate": "item.duties.rate",
}
REQUIRED = (
    "lrn",
    "office_of_declaration",
    "declarant_id",
    "importer_id",
    "border_transport_mode",
    "item_hs_code",
    "item_origin_country",
    "item_customs_value",
    "item_currency",
    "item_net_mass_kg",
)


def _put(target: dict[str, Any], dotted: str, value: str) -> None:
    parts = dotted.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def _item(row: dict[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for column, dotted in COLUMNS.items():
        value = (row.get(column) or "").strip()
        if not value or not dotted.startswith("item."):
            continue
        path = dotted.removeprefix("item.")
        if path.startswith("duties."):
            duty = item.setdefault("duties", [{}])[0]
            duty[path.removeprefix("duties.")] = value
        else:
            _put(item, path, value)
    return item


def _header(row: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for column, dotted in COLUMNS.items():
        value = (row.get(column) or "").strip()
        if not value or dotted.startswith("item."):
            continue
        if column == "container_ids":
            data["transport_equipment"] = [{"container_id": c} for c in value.split()]
        else:
            _put(data, dotted, value)
    data["items"] = []
    return data


def read_csv(path: Path) -> Iterator[SourceRecord]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            f"{path.name}: not UTF-8 at byte {exc.start}",
            details=[{"offset": exc.start, "problem": "not UTF-8"}],
        ) from None
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing:
        details = [{"column": c, "problem": "unknown column"} for c in unknown]
        details += [{"column": c, "problem": "missing column"} for c in missing]
        raise ValidationFailed(
            f"{path.name}: " + "; ".join(f"{d['problem']} {d['column']!r}" for d in details),
            details=details,
        )
    groups: dict[tuple[str, str], SourceRecord] = {}
    try:
        for row in reader:
            number = reader.line_num
            if None in row:  # more cells than header columns
                yield SourceRecord(
                    f"row {number}", problems=[{"field": "", "problem": "more cells than columns"}]
                )
                continue
            key = ((row.get("declarant_id") or "").strip(), (row.get("lrn") or "").strip())
            record = groups.get(key)
            if record is None:
                record = SourceRecord(f"row {number}", data=_header(row))
                groups[key] = record
            assert record.data is not None
            record.data["items"].append(_item(row))
    except csv.Error as exc:
        raise ValidationFailed(
            f"{path.name}: malformed CSV at line {reader.line_num}: {exc}",
            details=[{"line": reader.line_num, "problem": str(exc)}],
        ) from None
    yield from groups.values()
