"""The findings report: the machine's first pass, shaped like a DICOS Threat Detection Report.

Field names follow the DICOS TDR attributes (group 4010): ``tdr_type`` (TDRType),
``alarm_decision`` (AlarmDecision: ALARM, CLEAR or UNKNOWN), ``alarm_decision_time``,
``algorithm`` (ThreatDetectionAlgorithmAndVersion), ``total_processing_time_ms``
(TotalProcessingTime), and per potential threat object ``id`` (PotentialThreatObjectID), the
assessment's ``category`` / ``description`` / ``flag`` / ``probability`` (ThreatCategory,
ThreatCategoryDescription, ATDAssessmentFlag, ATDAssessmentProbability), its ``region`` (the
BoundingPolygon and CenterOfPTO in pixels, with metres alongside), ``mass_kg`` (Mass) and
``z_effective`` (ZEffective). Every finding also names the analysis and its version, so a
review station can tell which version of which check raised it.

The JSON is what the API returns and what the ledger records later (after converting floats to
decimal strings, which is the ledger's business).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["FINDINGS_FORMAT", "Check", "Finding", "Report", "ReportRegion"]

FINDINGS_FORMAT = "smartcustoms.scan-findings/1"


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round(v) for v in value]
    return value


@dataclass(frozen=True)
class ReportRegion:
    """Where a finding is: a pixel box (col0, row0, col1, row1; end-exclusive) and its centre."""

    bbox_px: tuple[int, int, int, int]
    pitch_mm: tuple[float, float]  # (x, y)

    @property
    def polygon_px(self) -> list[tuple[int, int]]:
        c0, r0, c1, r1 = self.bbox_px
        return [(c0, r0), (c1, r0), (c1, r1), (c0, r1)]

    @property
    def centre_px(self) -> tuple[float, float]:
        c0, r0, c1, r1 = self.bbox_px
        return ((c0 + c1) / 2, (r0 + r1) / 2)

    def to_dict(self) -> dict[str, Any]:
        c0, r0, c1, r1 = self.bbox_px
        px, py = self.pitch_mm
        return {
            "bounding_box_px": {"col0": c0, "row0": r0, "col1": c1, "row1": r1},
            "bounding_polygon_px": [list(p) for p in self.polygon_px],
            "center_px": list(self.centre_px),
            "size_m": [(c1 - c0) * px / 1000, (r1 - r0) * py / 1000],
            "offset_m": [c0 * px / 1000, r0 * py / 1000],
        }


@dataclass(frozen=True)
class Finding:
    """One potential threat object (or a whole-scan finding when ``region`` is None)."""

    id: int
    analysis: str  # "empty", "mass" or "concealment"
    analysis_version: str
    category: str  # e.g. "NOT_EMPTY", "MASS_DISCREPANCY", "CONCEALMENT", "ANOMALY"
    description: str
    flag: str  # "THREAT", "NO_THREAT" or "UNKNOWN"
    probability: float  # 0–1
    region: ReportRegion | None = None
    material_class: str | None = None
    z_effective: float | None = None
    mass_kg: float | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # The description as a message (code + params, scans.messages): shown in the reader's
    # language; ``description`` stays the English text API consumers read.
    message: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        assessment: dict[str, Any] = {
            "category": self.category,
            "description": self.description,
            "flag": self.flag,
            "probability": self.probability,
        }
        if self.message is not None:
            assessment["message"] = self.message
        out: dict[str, Any] = _round(
            {
                "id": self.id,
                "analysis": self.analysis,
                "analysis_version": self.analysis_version,
                "assessment": assessment,
                "score": self.probability,
                "region": None if self.region is None else self.region.to_dict(),
                "material_class": self.material_class,
                "z_effective": self.z_effective,
                "mass_kg": self.mass_kg,
                "details": self.details,
            }
        )
        return out


@dataclass(frozen=True)
class Check:
    """The outcome of one analysis, whether or not it found anything."""

    analysis: str
    version: str
    status: str  # "pass", "fail", "unverifiable" or "not_applicable"
    summary: str
    figures: dict[str, Any] = field(default_factory=dict)
    message: dict[str, Any] | None = None  # the summary as a message, as for Finding

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "analysis": self.analysis,
            "version": self.version,
            "status": self.status,
            "summary": self.summary,
            "figures": self.figures,
        }
        if self.message is not None:
            body["message"] = self.message
        out: dict[str, Any] = _round(body)
        return out


@dataclass(frozen=True)
class Report:
    """Everything the analyses concluded about one scan."""

    alarm_decision: str  # "ALARM", "CLEAR" or "UNKNOWN"
    alarm_decision_time: datetime
    algorithm: str
    total_processing_time_ms: float
    scan: dict[str, Any]
    declared: dict[str, Any]
    checks: tuple[Check, ...]
    findings: tuple[Finding, ...]
    tdr_type: str = "MACHINE"

    @property
    def alarm_objects(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.flag == "THREAT")

    def check(self, analysis: str) -> Check | None:
        return next((c for c in self.checks if c.analysis == analysis), None)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``format`` names the shape and its version)."""
        out: dict[str, Any] = _round(
            {
                "format": FINDINGS_FORMAT,
                "tdr_type": self.tdr_type,
                "alarm_decision": self.alarm_decision,
                "alarm_decision_time": self.alarm_decision_time.isoformat(),
                "algorithm": self.algorithm,
                "total_processing_time_ms": self.total_processing_time_ms,
                "number_of_total_objects": len(self.findings),
                "number_of_alarm_objects": len(self.alarm_objects),
                "scan": self.scan,
                "declared": self.declared,
                "checks": [c.to_dict() for c in self.checks],
                "threat_objects": [f.to_dict() for f in self.findings],
            }
        )
        return out
