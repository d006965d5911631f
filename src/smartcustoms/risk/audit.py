"""The risk engine's auditor for ``smartcustoms ledger fsck``: every stored lane decision and
every officer's examination result has its ledger record, and the record still says what the
row says.

* ``risk_decisions``: the lane, score, model version, the lodged document's SHA-256, the
  threshold, the rules fired, random control and exploration of each declaration, as
  :func:`.assess.assess` put them in its ``risk.lane_assigned`` record; one record per
  declaration.
* ``risk_inspections`` recorded by an officer (``source = 'officer'``): irregular, codes,
  revenue raised and seizure against ``risk.inspection_recorded``. Results imported with
  history (the KCS labels) were never decisions of this system and have no record.
* ``risk_lane_overrides``: each proposal against its ``risk.lane_override_proposed`` record
  (declaration, lanes, proposer, the reason's SHA-256), and each closed one against the record
  that closed it (approved, rejected or withdrawn, by whom, the note's SHA-256); and each
  decision's final lane against the latest ``risk.lane_override_approved`` record of its
  declaration (none: the final lane is the original one).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.ledger.audit import Audit, Auditor, Latest, Position, differences, fingerprint
from smartcustoms.risk.assess import _decimal  # the very rounding the record was made with
from smartcustoms.risk.overrides import sha256_of
from smartcustoms.risk.selectivity import document_digest
from smartcustoms.risk.tables import InspectionRow, LaneDecisionRow, LaneOverrideRow

__all__ = ["INSPECTION", "LANE", "OVERRIDE_CLOSED", "OVERRIDE_PROPOSED", "RiskAuditor", "auditors"]

LANE = "risk.lane_assigned"
INSPECTION = "risk.inspection_recorded"
OVERRIDE_PROPOSED = "risk.lane_override_proposed"
#: Record type → the status it closes a proposal with.
OVERRIDE_CLOSED = {
    "risk.lane_override_approved": "approved",
    "risk.lane_override_rejected": "rejected",
    "risk.lane_override_withdrawn": "withdrawn",
}
_PROPOSAL_FIELDS = (
    "declaration_id",
    "original_lane",
    "from_lane",
    "to_lane",
    "proposed_by",
    "reason_sha256",
)
_CLOSING_FIELDS = ("status", "decided_by", "note_sha256")
OFFICER = "officer"  # InspectionRow.source of results recorded through record_inspection

_LANE_FIELDS = (
    "lane",
    "score",
    "model_version",
    "document_sha256",
    "threshold",
    "rules",
    "random_control",
    "exploration",
)
_INSPECTION_FIELDS = ("irregular", "codes", "revenue_raised", "seizure")


def _lane_of(record: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        record.get("lane"),
        record.get("score"),
        record.get("model_version"),
        record.get("document_sha256"),
        record.get("threshold"),
        tuple(sorted(str(r) for r in record.get("rules") or [])),
        record.get("random_control"),
        record.get("exploration"),
    )


def _money(value: Any) -> Decimal | str | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        return str(value)


def _inspection_of(record: Mapping[str, Any]) -> tuple[Any, ...]:
    codes = record.get("codes") or []
    return (
        record.get("irregular"),
        tuple(sorted(str(c) for c in codes)),
        _money(record.get("revenue_raised")),
        record.get("seizure"),
    )


def _proposal_of(record: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        record.get("declaration_id"),
        record.get("original_lane"),
        record.get("from_lane"),
        record.get("to_lane"),
        record.get("actor"),
        record.get("reason_sha256"),
    )


def _closing_of(record: Mapping[str, Any]) -> tuple[Any, ...]:
    return (OVERRIDE_CLOSED.get(record["type"]), record.get("actor"), record.get("note_sha256"))


class RiskAuditor(Auditor):
    types = frozenset({LANE, INSPECTION, OVERRIDE_PROPOSED, *OVERRIDE_CLOSED})

    def __init__(self) -> None:
        self.lanes = Latest()
        self.inspections = Latest()
        self.proposals = Latest()  # override id → its proposal record
        self.closings = Latest()  # override id → the record that closed it
        self.finals = Latest()  # declaration id → to_lane of its latest approval record
        self.repeated: list[str] = []

    def see(self, record: dict[str, Any], at: Position) -> None:
        kind = record["type"]
        if kind == OVERRIDE_PROPOSED or kind in OVERRIDE_CLOSED:
            self._see_override(record, at)
            return
        declaration = int(record["declaration_id"])
        if record["type"] == LANE:
            before = self.lanes.put(declaration, at, *_lane_of(record))
        else:
            before = self.inspections.put(declaration, at, *_inspection_of(record))
        if before is not None:
            self.repeated.append(
                f"declaration {declaration} has two {record['type']} records "
                f"({Audit.where(before)} and {Audit.where(at)}): it is decided once"
            )

    def _see_override(self, record: dict[str, Any], at: Position) -> None:
        override = int(record["override_id"])
        if record["type"] == OVERRIDE_PROPOSED:
            before = self.proposals.put(override, at, *_proposal_of(record))
        else:
            before = self.closings.put(override, at, *_closing_of(record))
            if record["type"] == "risk.lane_override_approved":
                self.finals.put(int(record["declaration_id"]), at, record.get("to_lane"))
        if before is not None:
            self.repeated.append(
                f"lane override {override} has two {record['type']} records "
                f"({Audit.where(before)} and {Audit.where(at)}): each step happens once"
            )

    def check(self, audit: Audit) -> None:
        for message in self.repeated:
            audit.problem(message)
        self._check_lanes(audit)
        self._check_inspections(audit)
        self._check_overrides(audit)

    def _check_lanes(self, audit: Audit) -> None:
        query = select(
            LaneDecisionRow.id,
            LaneDecisionRow.declaration_id,
            LaneDecisionRow.lane,
            LaneDecisionRow.score,
            LaneDecisionRow.model_version,
            LaneDecisionRow.threshold,
            LaneDecisionRow.rules_fired,
            LaneDecisionRow.random_control,
            LaneDecisionRow.exploration,
            LaneDecisionRow.overridden_lane,
            DeclarationRow.document,
        ).outerjoin(DeclarationRow, DeclarationRow.id == LaneDecisionRow.declaration_id)
        for rows in audit.chunks(query, LaneDecisionRow.id):
            for row in rows:
                audit.checked("lane decisions")
                declaration = int(row.declaration_id)
                digest = None if row.document is None else document_digest(row.document)
                table = (
                    row.lane,
                    _decimal(row.score),
                    row.model_version,
                    digest,
                    _decimal(row.threshold),
                    tuple(sorted(str(r) for r in row.rules_fired or [])),
                    bool(row.random_control),
                    bool(row.exploration),
                )
                seen = self.lanes.take(declaration)
                where = f"risk_decisions declaration {declaration}"
                if seen is None:
                    audit.problem(
                        f"{where} has a lane decision ({row.lane}) and no {LANE} record in the "
                        "ledger"
                    )
                elif seen[1] != fingerprint(*table):
                    at = seen[0]
                    record = _lane_of(audit.record(at))
                    fields = list(zip(_LANE_FIELDS, table, record, strict=True))
                    audit.problem(f"{where}: {differences(fields, audit.where(at))}")
                self._check_final(audit, row.lane, row.overridden_lane, where, declaration)
        for key, at in self.finals.remaining():
            audit.problem(
                f"{audit.where(at)} approves a lane override of declaration {key}, which "
                "risk_decisions does not have"
            )
        for key, at in self.lanes.remaining():
            lane = audit.record(at).get("lane")
            audit.problem(
                f"{audit.where(at)} records lane {lane} for declaration {key}, which "
                "risk_decisions does not have"
            )

    def _check_final(
        self, audit: Audit, lane: str, overridden: str | None, where: str, declaration: int
    ) -> None:
        """The final lane is the latest approved override's, or the original one."""
        approved = self.finals.take(declaration)
        if approved is None:
            if overridden is not None:
                audit.problem(
                    f"{where}: final lane is {overridden} in the table but no "
                    "risk.lane_override_approved record changed it"
                )
            return
        if approved[1] != fingerprint(overridden or lane):
            said = audit.record(approved[0]).get("to_lane")
            audit.problem(
                f"{where}: final lane is {overridden or lane} in the table but {said} in "
                f"{audit.where(approved[0])}"
            )

    def _check_overrides(self, audit: Audit) -> None:
        query = select(
            LaneOverrideRow.id,
            LaneOverrideRow.declaration_id,
            LaneOverrideRow.original_lane,
            LaneOverrideRow.from_lane,
            LaneOverrideRow.to_lane,
            LaneOverrideRow.proposed_by,
            LaneOverrideRow.reason,
            LaneOverrideRow.status,
            LaneOverrideRow.decided_by,
            LaneOverrideRow.decision_note,
        )
        for rows in audit.chunks(query, LaneOverrideRow.id):
            for row in rows:
                audit.checked("lane overrides")
                where = f"risk_lane_overrides {row.id}"
                table = (
                    int(row.declaration_id),
                    row.original_lane,
                    row.from_lane,
                    row.to_lane,
                    row.proposed_by,
                    sha256_of(row.reason),
                )
                seen = self.proposals.take(row.id)
                if seen is None:
                    audit.problem(f"{where} has no {OVERRIDE_PROPOSED} record in the ledger")
                elif seen[1] != fingerprint(*table):
                    record = _proposal_of(audit.record(seen[0]))
                    fields = list(zip(_PROPOSAL_FIELDS, table, record, strict=True))
                    audit.problem(f"{where}: {differences(fields, audit.where(seen[0]))}")
                closed = self.closings.take(row.id)
                if row.status == "proposed":
                    if closed is not None:
                        audit.problem(
                            f"{where} is open in the table but {audit.where(closed[0])} closed it"
                        )
                    continue
                # A withdrawal carries no note; the table keeps none either.
                note = None if row.status == "withdrawn" else sha256_of(row.decision_note)
                closing = (row.status, row.decided_by, note)
                if closed is None:
                    audit.problem(f"{where} is {row.status} and no ledger record closed it")
                elif closed[1] != fingerprint(*closing):
                    record = _closing_of(audit.record(closed[0]))
                    fields = list(zip(_CLOSING_FIELDS, closing, record, strict=True))
                    audit.problem(f"{where}: {differences(fields, audit.where(closed[0]))}")
        for key, at in self.proposals.remaining():
            audit.problem(
                f"{audit.where(at)} records lane override {key}, which risk_lane_overrides "
                "does not have"
            )
        for key, at in self.closings.remaining():
            audit.problem(
                f"{audit.where(at)} closes lane override {key}, which risk_lane_overrides "
                "does not have"
            )

    def _check_inspections(self, audit: Audit) -> None:
        query = select(
            InspectionRow.id,
            InspectionRow.declaration_id,
            InspectionRow.irregular,
            InspectionRow.codes,
            InspectionRow.revenue_raised,
            InspectionRow.seizure,
            InspectionRow.source,
        )
        for rows in audit.chunks(query, InspectionRow.id):
            for row in rows:
                declaration = int(row.declaration_id)
                seen = self.inspections.take(declaration)
                where = f"risk_inspections declaration {declaration}"
                if row.source != OFFICER:
                    if seen is not None:
                        audit.problem(
                            f"{where}: source is {row.source} in the table but "
                            f"{audit.where(seen[0])} records an officer's result"
                        )
                    continue
                audit.checked("examination results")
                table = (
                    bool(row.irregular),
                    tuple(sorted(str(c) for c in row.codes or [])),
                    _money(row.revenue_raised),
                    bool(row.seizure),
                )
                if seen is None:
                    audit.problem(
                        f"{where} has an examination result and no {INSPECTION} record in the "
                        "ledger"
                    )
                elif seen[1] != fingerprint(*table):
                    at = seen[0]
                    record = _inspection_of(audit.record(at))
                    fields = list(zip(_INSPECTION_FIELDS, table, record, strict=True))
                    audit.problem(f"{where}: {differences(fields, audit.where(at))}")
        for key, at in self.inspections.remaining():
            audit.problem(
                f"{audit.where(at)} records the examination of declaration {key}, "
                "which risk_inspections does not have"
            )


def auditors() -> list[Auditor]:
    """The risk engine's auditors, fresh for one run of ``ledger fsck``."""
    return [RiskAuditor()]
