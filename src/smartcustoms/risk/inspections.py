"""Examination results: what the officer found, fed back into hit rates and the model."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, NotFound, ValidationFailed
from smartcustoms.core.i18n import N_
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.risk.events import InspectionRecorded
from smartcustoms.risk.tables import FINAL_LANE, InspectionRow, LaneDecisionRow

__all__ = [
    "IRREGULARITIES",
    "Detection",
    "HitRate",
    "detection",
    "hit_rates",
    "record_history",
    "record_inspection",
    "weekly",
]

#: Irregularity codes an examiner may record.
IRREGULARITIES = {
    "misclassification": N_("Misclassification"),
    "undervaluation": N_("Undervaluation"),
    "origin": N_("False origin"),
    "quantity": N_("Quantity or mass differs"),
    "prohibited": N_("Prohibited or restricted goods"),
    "undeclared": N_("Undeclared goods"),
    "documents": N_("Missing or false documents"),
}


def record_inspection(
    unit: Unit,
    declaration_id: int,
    *,
    irregular: bool,
    codes: Sequence[str] = (),
    revenue_raised: Decimal | None = None,
    seizure: bool = False,
    note: str | None = None,
    actor: str,
) -> InspectionRow:
    """Record what the examination of a declaration found (once per declaration)."""
    session = unit.session
    if session.get(DeclarationRow, declaration_id) is None:
        raise NotFound(f"no declaration {declaration_id}", details=[{"field": "declaration_id"}])
    unknown = [c for c in codes if c not in IRREGULARITIES]
    if unknown:
        raise ValidationFailed(
            f"unknown irregularity code(s): {', '.join(unknown)}",
            details=[{"field": "codes", "value": c, "problem": "unknown"} for c in unknown],
        )
    if irregular and not codes:
        raise ValidationFailed(
            "say what was irregular", details=[{"field": "codes", "problem": "empty"}]
        )
    if not irregular and (codes or seizure or revenue_raised):
        raise ValidationFailed(
            "a compliant result has no irregularity, seizure or revenue",
            details=[{"field": "irregular", "problem": "contradicts the other fields"}],
        )
    if revenue_raised is not None and (revenue_raised < 0 or not revenue_raised.is_finite()):
        raise ValidationFailed(
            "revenue raised must be a positive amount", details=[{"field": "revenue_raised"}]
        )
    existing = session.scalar(
        select(InspectionRow.id).where(InspectionRow.declaration_id == declaration_id)
    )
    if existing is not None:
        raise Conflict(
            "the result of this examination is already recorded",
            details=[{"field": "declaration_id"}],
        )
    decision_id = session.scalar(
        select(LaneDecisionRow.id).where(LaneDecisionRow.declaration_id == declaration_id)
    )
    row = InspectionRow(
        declaration_id=declaration_id,
        decision_id=decision_id,
        irregular=irregular,
        codes=sorted(set(codes)),
        revenue_raised=revenue_raised,
        seizure=seizure,
        note=(note or "").strip()[:2000] or None,
        source="officer",
        recorded_by=actor,
        recorded_at=clock.now(),
    )
    session.add(row)
    session.flush()
    unit.emit(
        InspectionRecorded(
            actor=actor,
            declaration_id=declaration_id,
            irregular=irregular,
            codes=tuple(row.codes),
            revenue_raised=None if revenue_raised is None else str(revenue_raised),
            seizure=seizure,
        )
    )
    return row


def record_history(
    session: Session, outcomes: Sequence[tuple[int, dict[str, Any]]], *, source: str, actor: str
) -> int:
    """Store past results imported with history (e.g. the KCS labels), in one statement."""
    if not outcomes:
        return 0
    now = clock.now()
    rows = [
        {
            "declaration_id": declaration_id,
            "decision_id": None,
            "irregular": bool(outcome["fraud"]),
            "codes": ["undeclared"] if outcome.get("critical") else [],
            "revenue_raised": None,
            "seizure": False,
            "note": None,
            "source": source,
            "recorded_by": actor,
            "recorded_at": now,
        }
        for declaration_id, outcome in outcomes
    ]
    session.execute(insert(InspectionRow), rows)
    return len(rows)


@dataclass(frozen=True)
class HitRate:
    # "lane:red" (the engine's original lane), "final_lane:red" (after approved overrides),
    # "rule:name@3", "model:<version>", "random_control", "exploration"
    group: str
    inspected: int
    irregular: int
    revenue: Decimal = Decimal(0)

    @property
    def rate(self) -> float | None:
        return self.irregular / self.inspected if self.inspected else None


def _groups(session: Session) -> Iterator[tuple[list[str], bool, Decimal]]:
    """For each examination that followed a decision: the groups it counts in, its outcome and
    the revenue it raised."""
    rows = session.execute(
        select(
            LaneDecisionRow.lane,
            FINAL_LANE,
            LaneDecisionRow.model_version,
            LaneDecisionRow.rules_fired,
            LaneDecisionRow.random_control,
            LaneDecisionRow.exploration,
            InspectionRow.irregular,
            InspectionRow.revenue_raised,
        ).join(InspectionRow, InspectionRow.decision_id == LaneDecisionRow.id)
    )
    for lane, final, model, fired, random_control, exploration, irregular, revenue in rows:
        groups = [f"lane:{lane}", f"final_lane:{final}"]
        if model:
            groups.append(f"model:{model}")
        if random_control:
            groups.append("random_control")
        if exploration:
            groups.append("exploration")
        groups.extend(f"rule:{ref}" for ref in fired or [])
        yield groups, bool(irregular), revenue or Decimal(0)


def hit_rates(session: Session) -> list[HitRate]:
    """Hit rate and revenue of the examinations that followed a decision, by original lane,
    final lane, model version, rule, random control and exploration."""
    totals: dict[str, list[Any]] = {}
    for groups, irregular, revenue in _groups(session):
        for group in groups:
            entry = totals.setdefault(group, [0, 0, Decimal(0)])
            entry[0] += 1
            entry[1] += int(irregular)
            entry[2] += revenue
    order = ("lane:", "final_lane:", "model:", "random_control", "exploration", "rule:")
    keys = sorted(
        totals, key=lambda g: (next(i for i, p in enumerate(order) if g.startswith(p)), g)
    )
    return [HitRate(k, totals[k][0], totals[k][1], totals[k][2]) for k in keys]


@dataclass(frozen=True)
class Detection:
    """How much of all irregularity the selection finds, estimated from random control: its hit
    rate, applied to every assessed declaration, estimates how many irregular ones there were."""

    assessed: int
    found: int
    estimated_irregular: float | None

    @property
    def rate(self) -> float | None:
        if not self.estimated_irregular:
            return None
        return min(1.0, self.found / self.estimated_irregular)


MIN_CONTROL = 30  # random-control examinations needed before estimating detection


def detection(session: Session) -> Detection:
    assessed = session.scalar(select(func.count()).select_from(LaneDecisionRow)) or 0
    found = (
        session.scalar(
            select(func.count())
            .select_from(InspectionRow)
            .where(InspectionRow.decision_id.is_not(None), InspectionRow.irregular)
        )
        or 0
    )
    control = next((h for h in hit_rates(session) if h.group == "random_control"), None)
    estimate = None
    if control is not None and control.inspected >= MIN_CONTROL and control.rate is not None:
        estimate = control.rate * assessed
    return Detection(assessed, found, estimate)


def weekly(session: Session, weeks: int = 12) -> list[dict[str, Any]]:
    """Examinations per ISO week (newest last): count, irregular, hit rate, revenue."""
    rows = session.execute(
        select(InspectionRow.recorded_at, InspectionRow.irregular, InspectionRow.revenue_raised)
        .where(InspectionRow.decision_id.is_not(None))
        .order_by(InspectionRow.recorded_at.desc())
        .limit(100_000)
    )
    buckets: dict[str, list[Any]] = {}
    for when, irregular, revenue in rows:
        year, week, _ = when.isocalendar()
        entry = buckets.setdefault(f"{year}-W{week:02d}", [0, 0, Decimal(0)])
        entry[0] += 1
        entry[1] += int(irregular)
        entry[2] += revenue or Decimal(0)
    out = [
        {"week": k, "inspected": n, "irregular": i, "rate": i / n, "revenue": r}
        for k, (n, i, r) in sorted(buckets.items())
    ]
    return out[-weeks:]
