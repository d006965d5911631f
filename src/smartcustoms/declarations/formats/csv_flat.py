"""Flat CSV import: one row per goods item; rows with the same declarant and LRN form one
declaration. The columns are listed in :data:`COLUMNS` (and in the README).

The file is read a block at a time and its rows are grouped on disk (:class:`RowGroups`), so a
file of any size is read in bounded memory, wherever a declaration's rows are in it; the
declarations come out in the order each first appears, named by its first row.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.declarations.formats.base import SourceRecord, text_lines
from smartcustoms.declarations.spill import RowGroups

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


def _put(target: dict[str, Any], parts: tuple[str, ...], value: str) -> None:
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


Plan = tuple[list[tuple[int, str, tuple[str, ...]]], list[tuple[int, tuple[str, ...]]]]


def _plan(header: list[str]) -> Plan:
    """Where each known column is in this file: (index, column, path) for the declaration's
    columns and (index, path in the item) for the item's, in the order of :data:`COLUMNS`."""
    at = {name: i for i, name in enumerate(header)}  # the last of a repeated name, as DictReader
    head: list[tuple[int, str, tuple[str, ...]]] = []
    items: list[tuple[int, tuple[str, ...]]] = []
    for column, dotted in COLUMNS.items():
        if column not in at:
            continue
        if dotted.startswith("item."):
            items.append((at[column], tuple(dotted.removeprefix("item.").split("."))))
        else:
            head.append((at[column], column, tuple(dotted.split("."))))
    return head, items


def _item(cells: list[str], plan: Plan) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for index, path in plan[1]:
        value = cells[index].strip() if index < len(cells) else ""
        if not value:
            continue
        if path[0] == "duties":
            duty = item.setdefault("duties", [{}])[0]
            duty[path[1]] = value
        else:
            _put(item, path, value)
    return item


def _header(cells: list[str], plan: Plan) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for index, column, dotted in plan[0]:
        value = cells[index].strip() if index < len(cells) else ""
        if not value:
            continue
        if column == "container_ids":
            data["transport_equipment"] = [{"container_id": c} for c in value.split()]
        else:
            _put(data, dotted, value)
    data["items"] = []
    return data


def read_csv(path: Path) -> Iterator[SourceRecord]:
    # Closed on every way out (a refused header raises while the file is open): left to the
    # garbage collector, the file may be finalised before the generator that would close it.
    with closing(text_lines(path)) as lines:
        yield from _read_csv(path, lines)


def _read_csv(path: Path, lines: Iterator[str]) -> Iterator[SourceRecord]:
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        raise _malformed(path, reader.line_num, exc) from None
    unknown = [c for c in header if c not in COLUMNS]
    missing = [c for c in REQUIRED if c not in header]
    if unknown or missing:
        details = [{"column": c, "problem": "unknown column"} for c in unknown]
        details += [{"column": c, "problem": "missing column"} for c in missing]
        raise ValidationFailed(
            f"{path.name}: " + "; ".join(f"{d['problem']} {d['column']!r}" for d in details),
            details=details,
        )
    width = len(header)
    plan = _plan(header)
    declarant = max(i for i, name in enumerate(header) if name == "declarant_id")
    lrn = max(i for i, name in enumerate(header) if name == "lrn")
    with RowGroups() as groups:
        try:
            for cells in reader:
                number = reader.line_num
                if not cells:  # a blank line, as csv.DictReader skips it
                    continue
                if len(cells) > width:
                    yield SourceRecord(
                        f"row {number}",
                        problems=[{"field": "", "problem": "more cells than columns"}],
                    )
                    continue
                key = (
                    cells[declarant].strip() if declarant < len(cells) else "",
                    cells[lrn].strip() if lrn < len(cells) else "",
                )
                groups.add(key, number, cells)
        except csv.Error as exc:
            raise _malformed(path, reader.line_num, exc) from None
        for number, rows in groups.groups():
            data = _header(rows[0], plan)
            data["items"] = [_item(cells, plan) for cells in rows]
            yield SourceRecord(f"row {number}", data=data)


def _malformed(path: Path, line: int, exc: csv.Error) -> ValidationFailed:
    return ValidationFailed(
        f"{path.name}: malformed CSV at line {line}: {exc}",
        details=[{"line": line, "problem": str(exc)}],
    )
