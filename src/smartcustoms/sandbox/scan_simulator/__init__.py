"""The scan simulator: containers, cargo, concealments and a linac scanner's detectors, with
fixed seeds, writing what a scanner writes. It feeds the tests, the benchmarks and the demo."""

from smartcustoms.sandbox.scan_simulator.cargo import CargoKind
from smartcustoms.sandbox.scan_simulator.concealment import ConcealmentKind
from smartcustoms.sandbox.scan_simulator.detector import DetectorModel
from smartcustoms.sandbox.scan_simulator.scanner import (
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
