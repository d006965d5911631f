"""The scan simulator: containers, cargo, concealments and a linac scanner's detectors, with
fixed seeds, writing what a scanner writes. It feeds the tests, the benchmarks and the demo."""

from smartcustoms.scans.simulate.cargo import CargoKind
from smartcustoms.scans.simulate.concealment import ConcealmentKind
from smartcustoms.scans.simulate.detector import DetectorModel
from smartcustoms.scans.simulate.scanner import (
    SimulatedScan,
    SimulationSpec,
    Truth,
    TruthObject,
    simulate_scan,
)

__all__ = [
    "CargoKind",
    "ConcealmentKind",
    "DetectorModel",
    "SimulatedScan",
    "SimulationSpec",
    "Truth",
    "TruthObject",
    "simulate_scan",
]
