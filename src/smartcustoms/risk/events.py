"""Risk-engine events, recorded in the ledger like every other event."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smartcustoms.core.events import Event

__all__ = [
    "InspectionRecorded",
    "LaneAssigned",
    "LaneOverrideApproved",
    "LaneOverrideProposed",
    "LaneOverrideRejected",
    "LaneOverrideWithdrawn",
]


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


# Lane overrides. A reason or note someone typed may name people: records carry its SHA-256
# and the text stays in the database (``risk_lane_overrides``), as scan and alert notes do.


@dataclass(frozen=True, kw_only=True)
class LaneOverrideProposed(Event):
    """An officer or analyst proposes to move a declaration from ``from_lane`` (its final lane
    then) to ``to_lane``; ``original_lane`` is the engine's decision, which never changes."""

    type: ClassVar[str] = "risk.lane_override_proposed"
    override_id: int
    declaration_id: int
    original_lane: str
    from_lane: str
    to_lane: str
    reason_sha256: str


@dataclass(frozen=True, kw_only=True)
class LaneOverrideApproved(Event):
    """A supervisor (``actor``), not the proposer, approved: the final lane is ``to_lane``."""

    type: ClassVar[str] = "risk.lane_override_approved"
    override_id: int
    declaration_id: int
    proposed_by: str
    original_lane: str
    from_lane: str
    to_lane: str
    note_sha256: str | None


@dataclass(frozen=True, kw_only=True)
class LaneOverrideRejected(Event):
    type: ClassVar[str] = "risk.lane_override_rejected"
    override_id: int
    declaration_id: int
    proposed_by: str
    from_lane: str
    to_lane: str
    note_sha256: str | None


@dataclass(frozen=True, kw_only=True)
class LaneOverrideWithdrawn(Event):
    type: ClassVar[str] = "risk.lane_override_withdrawn"
    override_id: int
    declaration_id: int
