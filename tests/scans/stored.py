"""Stored declarations that match simulated scans, and the scans' files, for the tests of the
scan workflow (storage, API, pages, CLI, browser)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smartcustoms.core.context import AppContext
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.intake import import_records
from smartcustoms.sandbox.scan_simulator import CargoKind, ConcealmentKind, SimulatedScan
from smartcustoms.scans import write_dicos, write_tiff
from tests.scans.helpers import simulated

# Scenarios whose machine decision is known (the analyses are deterministic for a seed).
FLAGGED = (CargoKind.TEXTILE_CARTONS, ConcealmentKind.DENSE_BLOCK, 2)  # ALARM, CONCEALMENT
CLEAN = (CargoKind.TEXTILE_BALES, ConcealmentKind.NONE, 1)  # CLEAR
MASS = (CargoKind.BULK_BAGS, ConcealmentKind.NONE, 2)  # CLEAR, or ALARM if under-declared


@dataclass(frozen=True)
class Case:
    sim: SimulatedScan
    goods_gross_kg: float  # what the declaration says the goods weigh

    @property
    def container(self) -> str:
        number = self.sim.scan.metadata.container_number
        assert number is not None
        return number

    @property
    def reference(self) -> str:
        ref = self.sim.scan.metadata.declaration_ref
        assert ref is not None
        return ref

    @property
    def hs_code(self) -> str:
        code = self.sim.truth.hs_code
        assert code is not None
        return code.replace(".", "")


def case(scenario: tuple[CargoKind, ConcealmentKind, int], *, under_kg: float = 0.0) -> Case:
    """A simulated scan and the mass its declaration gives (``under_kg`` less than true)."""
    cargo, concealment, seed = scenario
    sim = simulated(cargo, concealment, seed=seed)
    declared = float(sim.scan.metadata.extra["declared_gross_kg"])  # the goods' own
    return Case(sim, round(declared - under_kg))


def declaration_for(item: Case, *, lrn: str | None = None, **changes: Any) -> dict[str, Any]:
    goods = item.goods_gross_kg
    data: dict[str, Any] = {
        "lrn": lrn or item.reference,
        "issue_datetime": "2026-11-20T08:30:00+03:00",
        "office_of_declaration": "KEMBA",
        "declarant": {"id": "BRK001", "name": "Coast Clearing Ltd"},
        "importer": {"id": "IMP042"},
        "export_country": "CN",
        "border_transport_mode": "1",
        "transport_equipment": [{"container_id": item.container}],
        "items": [
            {
                "sequence": 1,
                "hs_code": item.hs_code,
                "description": item.sim.truth.cargo_description[:100],
                "origin_country": "CN",
                "customs_value": {"value": "48000", "currency": "USD"},
                "net_mass_kg": str(round(goods * 0.96)),
                "gross_mass_kg": str(goods),
            }
        ],
    }
    data.update(changes)
    return data


def lodge(ctx: AppContext, *documents: dict[str, Any]) -> list[int]:
    """Store declarations as the API would (no risk assessment: not needed for scans)."""
    with ctx.unit() as unit:
        records = [SourceRecord(f"d{i}", data=d) for i, d in enumerate(documents)]
        report = import_records(unit.session, records, source="api", submitted_by="test")
        return [s.id for s in report.stored]


def write(item: Case, folder: Path, name: str, fmt: str = "tiff", *, embed: bool = True) -> Path:
    """The scan's file as a scanner writes it (.tif with its .json, or .dcm)."""
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "dicos":
        return write_dicos(item.sim.scan, folder / f"{name}.dcm")
    return write_tiff(item.sim.scan, folder / f"{name}.tif", embed=embed)
