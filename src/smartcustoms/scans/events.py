"""What the scan workflow records: a scan received and analysed, an analyst's decision, a
supervisor's re-check, the examination result.

Each is a typed event published after its transaction commits; the ledger appends every event
as a record. Records carry no floats (scores are decimal strings) and no free text: a note an
analyst or officer typed may name people, so the event carries its SHA-256 and the text stays in
the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smartcustoms.core.events import Event

__all__ = [
    "ScanExamined",
    "ScanReceived",
    "ScanRechecked",
    "ScanReviewed",
    "ScannerCalibrationInstalled",
    "ScannerCalibrationRemoved",
]


@dataclass(frozen=True, kw_only=True)
class ScanReceived(Event):
    """A scan file stored and analysed. ``report_sha256`` binds the record to the exact report
    (canonical JSON) the machine produced."""

    type: ClassVar[str] = "scans.received"
    scan_id: int
    file_sha256: str
    declaration_id: int
    container_number: str
    scanner_id: str
    alarm_decision: str
    findings: int
    max_score: str  # decimal string
    algorithm: str
    report_sha256: str


@dataclass(frozen=True, kw_only=True)
class ScanReviewed(Event):
    """An image analyst's decision: clear, suspect or physical examination."""

    type: ClassVar[str] = "scans.reviewed"
    scan_id: int
    decision: str
    machine_decision: str
    regions: int  # regions the analyst marked
    status: str  # where the scan goes next
    note_sha256: str | None


@dataclass(frozen=True, kw_only=True)
class ScanRechecked(Event):
    """A supervisor's re-check of an analyst's decision (someone other than the analyst)."""

    type: ClassVar[str] = "scans.rechecked"
    scan_id: int
    decision: str
    analyst_decision: str
    analyst: str
    agrees: bool
    status: str
    note_sha256: str | None


@dataclass(frozen=True, kw_only=True)
class ScanExamined(Event):
    """What the physical examination found: the scan's label."""

    type: ClassVar[str] = "scans.examined"
    scan_id: int
    declaration_id: int
    irregular: bool
    codes: tuple[str, ...]
    regions: int
    found_kg: str | None
    weighed_net_kg: str | None
    note_sha256: str | None


@dataclass(frozen=True, kw_only=True)
class ScannerCalibrationInstalled(Event):
    """A calibration installed for a scanner (replacing ``replaced_id`` when it had one)."""

    type: ClassVar[str] = "scans.calibration_installed"
    scanner_id: str
    calibration_id: str | None
    calibration_sha256: str  # canonical JSON of the calibration, so the record binds its numbers
    replaced: bool


@dataclass(frozen=True, kw_only=True)
class ScannerCalibrationRemoved(Event):
    type: ClassVar[str] = "scans.calibration_removed"
    scanner_id: str
    calibration_id: str | None
