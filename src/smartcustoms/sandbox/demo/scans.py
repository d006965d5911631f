"""Demo data for the review station: simulated scans, some hiding something, in the queue.

Each scan comes with the declaration it belongs to (lodged first, as the customs management
system would) and arrives through :func:`~smartcustoms.scans.intake.receive_scan`, as a
scanner's upload does. A few are received at start-up, at half the scanner's resolution so that
it takes seconds; then a feeder thread receives a full-resolution scan every
:data:`FEED_EVERY_S` seconds until the context closes.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smartcustoms.core.context import AppContext
from smartcustoms.declarations.formats.base import SourceRecord
from smartcustoms.declarations.intake import import_records
from smartcustoms.sandbox.scan_simulator import (
    CargoKind,
    ConcealmentKind,
    SimulatedScan,
    SimulationSpec,
    simulate_scan,
)
from smartcustoms.scans.container_types import ContainerType
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.storage import store_for
from smartcustoms.scans.writers import write_dicos, write_tiff

__all__ = ["SCENARIOS", "seed_scans_demo"]

log = logging.getLogger("smartcustoms.demo")

ACTOR = "scanner-demo"
DECLARANT = "BRK-DEMO"
INITIAL = 5
FEED_EVERY_S = 20.0
SEED_BASE = 7000


@dataclass(frozen=True)
class Scenario:
    container: ContainerType
    cargo: CargoKind
    concealment: ConcealmentKind = ConcealmentKind.NONE
    under_declared_kg: float = 0.0  # the declaration says the goods weigh this much less
    dicos: bool = False


_20, _40, _HC = ContainerType.DRY_20, ContainerType.DRY_40, ContainerType.HIGH_CUBE_40
SCENARIOS: tuple[Scenario, ...] = (
    Scenario(_20, CargoKind.TEXTILE_CARTONS, ConcealmentKind.DENSE_BLOCK),
    Scenario(_20, CargoKind.TEXTILE_BALES),
    Scenario(_20, CargoKind.PALLETS, ConcealmentKind.METAL_IN_ORGANICS, dicos=True),
    Scenario(_20, CargoKind.EMPTY, ConcealmentKind.SMALL_STEEL),
    Scenario(_20, CargoKind.BULK_BAGS, under_declared_kg=3000),
    Scenario(_40, CargoKind.TEXTILE_CARTONS, ConcealmentKind.CIGARETTES_IN_TEXTILES),
    Scenario(_40, CargoKind.PALLETS),
    Scenario(_40, CargoKind.TEXTILE_CARTONS, ConcealmentKind.FALSE_WALL),
    Scenario(_HC, CargoKind.DRUMS, dicos=True),
    Scenario(_40, CargoKind.MACHINERY),
)


def _declaration(sim: SimulatedScan, scenario: Scenario) -> dict[str, Any]:
    truth, meta = sim.truth, sim.scan.metadata
    empty = scenario.cargo is CargoKind.EMPTY
    goods = 1.0 if empty else max(truth.cargo_kg - scenario.under_declared_kg, 10.0)
    hs = "860900" if empty else (truth.hs_code or "999999").replace(".", "")[:6]
    return {
        "lrn": meta.declaration_ref,
        "office_of_declaration": "KEMBA",
        "declarant": {"id": DECLARANT, "name": "Demo Clearing Agents"},
        "importer": {"id": f"IMP{sim.truth.cargo.value[:3].upper()}1"},
        "export_country": "CN",
        "border_transport_mode": "1",
        "transport_equipment": [{"container_id": meta.container_number}],
        "items": [
            {
                "sequence": 1,
                "hs_code": hs,
                "description": "Empty container" if empty else truth.cargo_description[:200],
                "origin_country": "CN",
                "customs_value": {"value": f"{max(goods, 1) * 4:.2f}", "currency": "USD"},
                "net_mass_kg": f"{goods * 0.95:.1f}",
                "gross_mass_kg": f"{goods:.1f}",
            }
        ],
    }


def receive_simulated(ctx: AppContext, number: int, *, full_resolution: bool) -> int:
    """Simulate scenario ``number`` (cycling), lodge its declaration, receive its scan."""
    scenario = SCENARIOS[number % len(SCENARIOS)]
    coarse: dict[str, Any] = {} if full_resolution else {
        "pitch_x_mm": 11.0, "pitch_y_mm": 12.0, "rows": 260,
    }  # fmt: skip
    sim = simulate_scan(
        SimulationSpec(
            container=scenario.container,
            cargo=scenario.cargo,
            concealment=scenario.concealment,
            seed=SEED_BASE + number,
            **coarse,
        )
    )
    with tempfile.TemporaryDirectory() as tmp:
        name = f"KE-MSA-{SEED_BASE + number:05d}" + (".dcm" if scenario.dicos else ".tif")
        path = Path(tmp) / name
        (write_dicos if scenario.dicos else write_tiff)(sim.scan, path)
        data = path.read_bytes()
    with ctx.unit() as unit:
        report = import_records(
            unit.session,
            [SourceRecord("demo", data=_declaration(sim, scenario))],
            source="api",
            submitted_by="declarant",
        )
        received = receive_scan(
            unit,
            store_for(ctx.settings),
            Upload(
                data=data,
                file_name=name,
                declaration_id=report.stored[0].id,
                declared_empty=True if scenario.cargo is CargoKind.EMPTY else None,
            ),
            actor=ACTOR,
            source="demo",
        )
        return received.scan.id


def seed_scans_demo(ctx: AppContext) -> None:
    """A few scans in the review queue now, and a new one every FEED_EVERY_S seconds."""
    for number in range(INITIAL):
        receive_simulated(ctx, number, full_resolution=False)
    stop = threading.Event()
    feeder = threading.Thread(target=_feed, args=(ctx, stop), name="demo-scans", daemon=True)

    def stop_feeding() -> None:
        stop.set()
        feeder.join(timeout=10)

    ctx.on_close(stop_feeding)
    feeder.start()


def _feed(ctx: AppContext, stop: threading.Event) -> None:
    number = INITIAL
    while not stop.wait(FEED_EVERY_S):
        try:
            receive_simulated(ctx, number, full_resolution=True)
        except Exception:  # a closing database must not end the demo with a trace
            log.debug("demo scan feeder skipped a scan", exc_info=True)
        number += 1
