"""Risk-engine events, recorded in the ledger like every other event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smartcustoms.core.events import Event

__all__ = ["InspectionRecorded", "LaneAssigned"]


@dataclass(frozen=True, kw_only=True)
class LaneAssigned(Event):
    """A lane given to a declaration. ``document_sha256`` binds it to the exact document
    lodged without putting the trader's data in the record."""

    type: ClassVar[str] = "risk.lane_assigned"
    declaration_id: int
    document_sha256: str
    lane: str
    score: str | None  # a decimal string: ledger records carry no floats
    threshold: str | None
    model_version: str | None
    rules: tuple[str, ...]
    random_control: bool
    exploration: bool


@dataclass(frozen=True, kw_only=True)
class InspectionRecorded(Event):
    type: ClassVar[str] = "risk.inspection_recorded"
    declaration_id: int
    irregular: bool
    codes: tuple[str, ...]
    revenue_raised: str | None
    seizure: bool
