"""A valid declaration to start tests from."""

from __future__ import annotations

import copy
from typing import Any

GOOD: dict[str, Any] = {
    "lrn": "LRN-0001",
    "issue_datetime": "2026-11-20T08:30:00+03:00",
    "office_of_declaration": "KEMBA",
    "declarant": {"id": "BRK001", "name": "Coast Clearing Ltd"},
    "importer": {"id": "IMP042"},
    "seller": {"id": "SEL7"},
    "export_country": "CN",
    "border_transport_mode": "1",
    "transport_equipment": [{"container_id": "CSQU3054383", "seals": ["KE123456"]}],
    "items": [
        {
            "sequence": 1,
            "hs_code": "850440",
            "description": "Solar inverters",
            "origin_country": "CN",
            "customs_value": {"value": "12500.00", "currency": "USD"},
            "net_mass_kg": "840.5",
            "gross_mass_kg": "900",
            "duties": [{"type": "A00", "rate": "10"}],
        },
        {
            "sequence": 2,
            "hs_code": "610910",
            "origin_country": "BD",
            "customs_value": {"value": "3100", "currency": "USD"},
            "net_mass_kg": "410",
        },
    ],
}


def declaration(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    data.update(changes)
    return data


def item(index: int = 0, **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    data["items"][index].update(changes)
    return data
