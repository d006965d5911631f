"""Stored declarations as the risk engine's item table (one row per goods item).

The WCO-based declaration names things its own way; this is the one place that maps them onto
the risk engine's columns (:data:`~smartcustoms.risk.schema.ITEM_FIELDS`). Administration codes
the WCO model has no field for (the KCS import type, payment type …) come from
``national_fields``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment

from smartcustoms.risk.schema import ITEM_FIELDS, PreparedItems, prepare_rows

__all__ = ["ITEM_COLUMNS", "item_rows", "items_frame", "prepared_items"]

ITEM_COLUMNS = [f.name for f in ITEM_FIELDS]


def _day(document: Mapping[str, Any], received_at: datetime) -> str:
    issued = document.get("issue_datetime")
    when = datetime.fromisoformat(issued) if isinstance(issued, str) else received_at
    return when.astimezone(UTC).date().isoformat() if when.tzinfo else when.date().isoformat()


def _rows(
    declaration_id: int, document: Mapping[str, Any], received_at: datetime
) -> list[dict[str, Any]]:
    national = document.get("national_fields") or {}

    def party(name: str) -> str:
        return str((document.get(name) or {}).get("id", ""))

    header = {
        "declaration_id": str(declaration_id),
        "date": _day(document, received_at),
        "office": document.get("office_of_declaration", ""),
        "process_type": national.get("kcs_process_type", document.get("type_code", "")),
        "import_type": national.get("kcs_import_type", ""),
        "import_use": national.get("kcs_import_use", ""),
        "payment_type": national.get("kcs_payment_type", ""),
        "transport_mode": national.get(
            "kcs_transport_mode", document.get("border_transport_mode", "")
        ),
        "declarant_id": party("declarant"),
        "importer_id": party("importer"),
        "seller_id": party("seller") or party("exporter"),
        "courier_id": party("agent"),
        "departure": document.get("export_country", ""),
    }
    rows = []
    for item in document.get("items", []):
        duty = (item.get("duties") or [{}])[0]
        rows.append(
            {
                **header,
                "hs6": item["hs_code"],
                "origin": item["origin_country"],
                "tax_rate": float(duty["rate"]) if duty.get("rate") is not None else None,
                "tax_type": duty.get("type", ""),
                "origin_indicator": item.get("origin_type") or "",
                "net_mass": float(item["net_mass_kg"]),
                "item_price": float(item["customs_value"]["value"]),
            }
        )
    return rows


def item_rows(
    declarations: Iterable[tuple[int, Mapping[str, Any], datetime]],
) -> list[dict[str, Any]]:
    """One dict per goods item of (declaration id, stored document, received at) triples."""
    rows: list[dict[str, Any]] = []
    for declaration_id, document, received_at in declarations:
        rows.extend(_rows(declaration_id, document, received_at))
    return rows


def items_frame(declarations: Iterable[tuple[int, Mapping[str, Any], datetime]]) -> pd.DataFrame:
    """One row per goods item of (declaration id, stored document, received at) triples."""
    return pd.DataFrame(item_rows(declarations), columns=ITEM_COLUMNS)


def prepared_items(
    declarations: Iterable[tuple[int, Mapping[str, Any], datetime]],
) -> PreparedItems:
    """``prepare_items(items_frame(declarations))``, without pandas for a lodging's few items
    (:func:`~smartcustoms.risk.schema.prepare_rows`): the same table, the same errors."""
    return prepare_rows(item_rows(declarations))
