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
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.ledger.audit import Audit, Auditor, Latest, Position, differences, fingerprint
from smartcustoms.risk.assess import _decimal  # the very rounding the record was made with
from smartcustoms.risk.selectivity import document_digest
from smartcustoms.risk.tables import InspectionRow, LaneDecisionRow

__all__ = ["INSPECTION", "LANE", "RiskAuditor", "auditors"]

LANE = "risk.lane_assigned"
INSPECTION = "risk.inspection_recorded"
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


class RiskAuditor(Auditor):
    types = frozenset({LANE, INSPECTION})

    def __init__(self) -> None:
        self.lanes = Latest()
        self.inspections = Latest()
        self.repeated: list[str] = []

    def see(self, record: dict[str, Any], at: Position) -> None:
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

    def check(self, audit: Audit) -> None:
        for message in self.repeated:
            audit.problem(message)
        self._check_lanes(audit)
        self._check_inspections(audit)

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
        for key, at in self.lanes.remaining():
            lane = audit.record(at).get("lane")
            audit.problem(
                f"{audit.where(at)} records lane {lane} for declaration {key}, which "
                "risk_decisions does not have"
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
