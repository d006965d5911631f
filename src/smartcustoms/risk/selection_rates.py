"""Selection rates per lane and per office, expected against actual, and hit rates per lane by
the engine's original decision and by the final lane (after approved overrides).

*Expected* rates are what an administration plans for (ASYCUDA's selectivity keeps them per
office): the share of declarations it expects in each lane, stored in ``risk_expected_rates``
for every office (``*``) or one office, which wins over ``*`` lane by lane. Where none is set for
red, the engine's own settings say what to expect: the model's inspection share plus random
control and exploration (the shares it is configured to send red). Other lanes without a set
rate have no expectation (rules and overrides put declarations there; nothing predicts how many).

*Actual* rates are the shares of the declarations decided in a window, by their final lane
and by their original one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import NotFound, ValidationFailed
from smartcustoms.core.events import AdminAction
from smartcustoms.core.settings import Settings
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.tables import (
    FINAL_LANE,
    ExpectedRateRow,
    InspectionRow,
    LaneDecisionRow,
)

__all__ = [
    "ALL_OFFICES",
    "Expected",
    "LaneHitRate",
    "LaneRate",
    "OfficeRates",
    "clear_expected",
    "default_since",
    "engine_red_share",
    "expected_rates",
    "lane_hit_rates",
    "selection_rates",
    "set_expected",
]

ALL_OFFICES = "*"
LANES = [Lane.RED, Lane.SCAN, Lane.YELLOW, Lane.BLUE, Lane.GREEN]
_OFFICE = re.compile(r"^[A-Za-z0-9]{1,17}$")
STEP = Decimal("0.0001")


def _office(value: str) -> str:
    office = value.strip()
    if office != ALL_OFFICES and not _OFFICE.match(office):
        raise ValidationFailed(
            "office: '*' for every office, or an office code of 1-17 letters and digits",
            details=[{"field": "office"}],
        )
    return office.upper() if office != ALL_OFFICES else office


def set_expected(
    unit: Unit, *, office: str, lane: Lane, share: Decimal, actor: str
) -> ExpectedRateRow:
    """Expect ``share`` (0 to 1) of an office's declarations in ``lane``. The shares one office
    expects across lanes may not add up to more than 1. Returns the row as stored (the office
    trimmed and in capitals, the share rounded)."""
    office = _office(office)
    if not share.is_finite() or not Decimal(0) <= share <= Decimal(1):
        raise ValidationFailed("share: between 0 and 1", details=[{"field": "share"}])
    share = share.quantize(STEP)
    session = unit.session
    rows = {
        r.lane: r
        for r in session.scalars(select(ExpectedRateRow).where(ExpectedRateRow.office == office))
    }
    total = sum((r.share for k, r in rows.items() if k != lane.value), Decimal(0)) + share
    if total > 1:
        raise ValidationFailed(
            f"the expected shares of {office} would add up to {total}, more than 1",
            details=[{"field": "share", "problem": "sum above 1"}],
        )
    row = rows.get(lane.value)
    if row is None:
        row = ExpectedRateRow(office=office, lane=lane.value)
        session.add(row)
    row.share = share
    row.set_by = actor
    row.set_at = clock.now()
    session.flush()
    unit.emit(
        AdminAction(
            actor=actor, action="risk_expected_rate_set", target=f"{office}/{lane.value}={share}"
        )
    )
    return row


def clear_expected(unit: Unit, *, office: str, lane: Lane, actor: str) -> None:
    office = _office(office)
    row = unit.session.scalar(
        select(ExpectedRateRow).where(
            ExpectedRateRow.office == office, ExpectedRateRow.lane == lane.value
        )
    )
    if row is None:
        raise NotFound(
            f"no expected rate for {office} in lane {lane.value}", details=[{"field": "lane"}]
        )
    unit.session.delete(row)
    unit.emit(
        AdminAction(actor=actor, action="risk_expected_rate_cleared", target=f"{office}/{lane}")
    )


def engine_red_share(settings: Settings) -> float:
    """The share the engine is set to send red: the model's, random control, exploration."""
    return min(
        1.0,
        settings.risk_inspection_share
        + settings.risk_random_control_share
        + settings.risk_exploration_share,
    )


@dataclass(frozen=True)
class Expected:
    share: float
    source: str  # "office", "all offices", "engine settings"


def expected_rates(session: Session) -> dict[str, dict[str, Decimal]]:
    """Stored expected shares: office (or ``*``) → lane → share."""
    out: dict[str, dict[str, Decimal]] = {}
    for row in session.scalars(
        select(ExpectedRateRow).order_by(ExpectedRateRow.office, ExpectedRateRow.lane)
    ):
        out.setdefault(row.office, {})[row.lane] = row.share
    return out


def _expected_for(
    stored: dict[str, dict[str, Decimal]], office: str, lane: str, engine_red: float
) -> Expected | None:
    if lane in stored.get(office, {}):
        return Expected(float(stored[office][lane]), "office")
    if lane in stored.get(ALL_OFFICES, {}):
        return Expected(float(stored[ALL_OFFICES][lane]), "all offices")
    if lane == Lane.RED:
        return Expected(engine_red, "engine settings")
    return None


@dataclass(frozen=True)
class LaneRate:
    lane: str
    final: int  # declarations whose final lane is this one
    original: int  # declarations the engine put in this lane
    expected: Expected | None
    total: int

    @property
    def final_share(self) -> float | None:
        return self.final / self.total if self.total else None

    @property
    def original_share(self) -> float | None:
        return self.original / self.total if self.total else None

    @property
    def gap(self) -> float | None:
        """Actual (final) share minus the expected one."""
        if self.expected is None or self.final_share is None:
            return None
        return self.final_share - self.expected.share


@dataclass
class OfficeRates:
    office: str  # ``*`` for every office together
    total: int
    lanes: list[LaneRate] = field(default_factory=list)


def selection_rates(session: Session, *, since: datetime, engine_red: float) -> list[OfficeRates]:
    """Per lane, the share of the declarations decided since ``since`` in each lane (final and
    original) against the expected share: every office together first, then each office."""
    rows = session.execute(
        select(DeclarationRow.office, LaneDecisionRow.lane, FINAL_LANE, func.count())
        .join(DeclarationRow, DeclarationRow.id == LaneDecisionRow.declaration_id)
        .where(LaneDecisionRow.decided_at >= since)
        .group_by(DeclarationRow.office, LaneDecisionRow.lane, FINAL_LANE)
    ).all()
    counts: dict[str, dict[str, list[int]]] = {}  # office → lane → [final, original]
    for office, original, final, n in rows:
        for key in (ALL_OFFICES, office):
            lanes = counts.setdefault(key, {})
            lanes.setdefault(final, [0, 0])[0] += n
            lanes.setdefault(original, [0, 0])[1] += n
    stored = expected_rates(session)
    offices = [ALL_OFFICES, *sorted(set(counts) - {ALL_OFFICES})]
    # Offices with a target and nothing decided yet are shown too: a target met by nothing.
    offices += sorted(set(stored) - set(offices))
    out = []
    for office in offices:
        lanes = counts.get(office, {})
        total = sum(v[0] for v in lanes.values())
        report = OfficeRates(office, total)
        for lane in LANES:
            in_final, in_original = lanes.get(lane.value, [0, 0])
            expected = _expected_for(stored, office, lane.value, engine_red)
            report.lanes.append(LaneRate(lane.value, in_final, in_original, expected, total))
        out.append(report)
    return out


def default_since(days: int = 30) -> datetime:
    """The start of a window of ``days`` days ending now."""
    return clock.now() - timedelta(days=days)


@dataclass(frozen=True)
class Examined:
    inspected: int = 0
    irregular: int = 0

    @property
    def rate(self) -> float | None:
        return self.irregular / self.inspected if self.inspected else None


@dataclass(frozen=True)
class LaneHitRate:
    """Examinations and what they found, per lane: counted by the engine's original lane and by
    the final lane apart (an override from green to red that finds something counts as a hit
    of red by final lane and of green by original lane)."""

    lane: str
    original: Examined
    final: Examined


def lane_hit_rates(session: Session) -> list[LaneHitRate]:
    rows = session.execute(
        select(LaneDecisionRow.lane, FINAL_LANE, InspectionRow.irregular).join(
            InspectionRow, InspectionRow.decision_id == LaneDecisionRow.id
        )
    ).all()
    original: dict[str, list[int]] = {}
    final: dict[str, list[int]] = {}
    for first, last, irregular in rows:
        for table, lane in ((original, first), (final, last)):
            entry = table.setdefault(lane, [0, 0])
            entry[0] += 1
            entry[1] += int(bool(irregular))
    return [
        LaneHitRate(
            lane.value,
            Examined(*original.get(lane.value, [0, 0])),
            Examined(*final.get(lane.value, [0, 0])),
        )
        for lane in LANES
    ]
