"""Simulated scans shared by the scans tests, made once per session.

Scans are simulated at a coarser pitch than a real scanner's (11 × 12 mm instead of 5.5 × 6 mm):
the physics and the analyses work in metres and kilograms, and the tests run four times faster.
"""

from __future__ import annotations

from functools import cache

from smartcustoms.sandbox.scan_simulator import (
    CargoKind,
    ConcealmentKind,
    SimulatedScan,
    SimulationSpec,
    simulate_scan,
)
from smartcustoms.scans.container_types import ContainerType

PITCH = (11.0, 12.0)
ROWS = 260


def spec(
    cargo: CargoKind = CargoKind.EMPTY,
    concealment: ConcealmentKind = ConcealmentKind.NONE,
    *,
    container: ContainerType = ContainerType.DRY_20,
    seed: int = 1,
    **kwargs: object,
) -> SimulationSpec:
    return SimulationSpec(
        container=container,
        cargo=cargo,
        concealment=concealment,
        seed=seed,
        pitch_x_mm=PITCH[0],
        pitch_y_mm=PITCH[1],
        rows=ROWS,
        **kwargs,  # type: ignore[arg-type]
    )


@cache
def simulated(
    cargo: CargoKind = CargoKind.EMPTY,
    concealment: ConcealmentKind = ConcealmentKind.NONE,
    container: ContainerType = ContainerType.DRY_20,
    seed: int = 1,
) -> SimulatedScan:
    return simulate_scan(spec(cargo, concealment, container=container, seed=seed))


@cache
def simulated_full(
    cargo: CargoKind = CargoKind.EMPTY,
    concealment: ConcealmentKind = ConcealmentKind.NONE,
    container: ContainerType = ContainerType.DRY_20,
    seed: int = 1,
) -> SimulatedScan:
    """At the scanner's own 5.5 × 6 mm: for checks that depend on resolution (small objects,
    the texture of cartons)."""
    return simulate_scan(
        SimulationSpec(container=container, cargo=cargo, concealment=concealment, seed=seed)
    )
