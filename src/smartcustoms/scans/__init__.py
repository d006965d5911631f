"""Container X-ray scan analysis.

Read a scan, analyse it against its declaration, get findings::

    from smartcustoms.scans import read_scan, analyze
    report = analyze(read_scan("scan.tif"), declared_gross_kg=24_300, hs_code="6309.00")
    report.alarm_decision, report.to_dict()

Readers (16-bit TIFF + JSON sidecar, NEMA DICOS) produce a :class:`Scan`; calibrated dual-energy
physics (:mod:`.physics`) turns it into areal density and Z_eff; the analyses (:mod:`.analyses`)
check an empty container, the declared mass and the goods; the simulator (:mod:`.simulate`)
makes scans with known truth for tests, benchmarks and the demo. Nothing here stores anything.
"""

from smartcustoms.scans.analyses.history import HeadingProfile, LoadSummary
from smartcustoms.scans.analyses.pipeline import ANALYSIS_VERSION, analyze
from smartcustoms.scans.calibrate import ReferenceObject, calibrate_from_reference_scan
from smartcustoms.scans.errors import ScanInputError, ScanReadError, ScanTooLarge
from smartcustoms.scans.findings import Check, Finding, Report
from smartcustoms.scans.limits import ScanLimits
from smartcustoms.scans.model import BeamGeometry, EnergyChannel, Scan, ScanMetadata
from smartcustoms.scans.physics.calibration import Calibration, fit_calibration, geant4_calibration
from smartcustoms.scans.readers import read_scan, register_reader
from smartcustoms.scans.sidecar import sidecar_dict
from smartcustoms.scans.writers import write_dicos, write_tiff

__all__ = [
    "ANALYSIS_VERSION",
    "BeamGeometry",
    "Calibration",
    "Check",
    "EnergyChannel",
    "Finding",
    "HeadingProfile",
    "LoadSummary",
    "ReferenceObject",
    "Report",
    "Scan",
    "ScanInputError",
    "ScanLimits",
    "ScanMetadata",
    "ScanReadError",
    "ScanTooLarge",
    "analyze",
    "calibrate_from_reference_scan",
    "fit_calibration",
    "geant4_calibration",
    "read_scan",
    "register_reader",
    "sidecar_dict",
    "write_dicos",
    "write_tiff",
]
