"""The selectivity report on declarations lodged and assessed by the risk engine: a targeting
rule approved with four eyes, a lane override approved by a supervisor, examinations with
revenue. Final and original lanes are counted apart; every figure is recomputed here in Python
from the stored rows. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings
from smartcustoms.declarations.formats.kcs import read_kcs
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.reports import compute, parse_filters
from smartcustoms.risk import overrides
from smartcustoms.risk.inspections import record_inspection
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.lodging import lodge
from smartcustoms.risk.rulebook import propose, review
from smartcustoms.risk.tables import InspectionRow, LaneDecisionRow
from tests.risk.history import kcs_slice

from .builders import frozen, utc

PERIOD = {"from": "2026-01-01", "to": "2026-02-28"}


@pytest.fixture
def rctx(settings: Settings) -> Iterator[AppContext]:
    """No model and no random draws: declarations go green unless a rule says otherwise."""
    ctx = AppContext.from_settings(
        settings.model_copy(
            update={"risk_random_control_share": 0.0, "risk_exploration_share": 0.0}
        )
    )
    yield ctx
    ctx.close()


def _lodge(ctx: AppContext, path: Path) -> list[int]:
    with ctx.unit() as unit:
        lodging = lodge(ctx, unit, list(read_kcs(path)), source="api", submitted_by="t", actor="t")
        return [item.stored.id for item in lodging.lodged]


@pytest.fixture
def decided(rctx: AppContext, tmp_path: Path) -> dict[str, int]:
    with frozen(utc(2026, 1, 1)):
        with rctx.unit() as unit:
            version = propose(
                unit, name="wood", expression='hs2 = "44"', lane=Lane.YELLOW,
                reason="Timber under-valued", actor="ana",
            ).id  # fmt: skip
        with rctx.unit() as unit:
            review(unit, version, approve=True, actor="sam")
    with frozen(utc(2026, 1, 15, 9)):
        january = _lodge(rctx, kcs_slice(tmp_path, 0, 12, labels=False))
    with frozen(utc(2026, 2, 10, 9)):
        february = _lodge(rctx, kcs_slice(tmp_path, 12, 8, labels=False))
    with rctx.db.session() as session:
        lanes = dict(
            session.execute(
                select(LaneDecisionRow.declaration_id, LaneDecisionRow.lane).where(
                    LaneDecisionRow.declaration_id.in_(january + february)
                )
            ).all()
        )
    wood = next(d for d in january if lanes[d] == "yellow")  # row 0 is HS 440890
    greens = [d for d in january if lanes[d] == "green"]
    with frozen(utc(2026, 1, 16)):
        with rctx.unit() as unit:
            proposal = overrides.propose(
                unit, greens[0], lane=Lane.RED, reason="Tip-off", actor="olive",
                roles=frozenset({Role.EXAMINING_OFFICER}),
            ).id  # fmt: skip
        with rctx.unit() as unit:
            overrides.approve(unit, proposal, actor="sam", roles=frozenset({Role.SUPERVISOR}))
        for declaration, irregular, revenue in (
            (greens[0], True, Decimal("120")),
            (greens[1], False, None),
            (wood, True, Decimal("50.50")),
        ):
            with rctx.unit() as unit:
                record_inspection(
                    unit, declaration, irregular=irregular, actor="olive",
                    codes=["undervaluation"] if irregular else [], revenue_raised=revenue,
                )  # fmt: skip
    return {"overridden": greens[0], "wood": wood, "plain": greens[1]}


def _expected(ctx: AppContext, office: str | None = None) -> dict[tuple[str, str, str], list]:
    """(office, month, lane) → [original, final, examined by original, irregular by original,
    examined by final, irregular by final, revenue by final], from the rows."""
    out: dict[tuple[str, str, str], list] = {}
    with ctx.db.session() as session:
        rows = session.execute(
            select(DeclarationRow.office, LaneDecisionRow, InspectionRow)
            .join(LaneDecisionRow, LaneDecisionRow.declaration_id == DeclarationRow.id)
            .outerjoin(InspectionRow, InspectionRow.decision_id == LaneDecisionRow.id)
        ).all()
        for off, decision, inspection in rows:
            if office and off != office:
                continue
            month = decision.decided_at.strftime("%Y-%m")
            zero = [0, 0, 0, 0, 0, 0, Decimal("0.00")]
            first = out.setdefault((off, month, decision.lane), list(zero))
            last = out.setdefault((off, month, decision.final_lane), list(zero))
            first[0] += 1
            last[1] += 1
            if inspection is not None:
                first[2] += 1
                first[3] += int(inspection.irregular)
                last[4] += 1
                last[5] += int(inspection.irregular)
                last[6] += inspection.revenue_raised or 0
    return out


def _rate(irregular: int, examined: int) -> float | None:
    return round(irregular / examined, 4) if examined else None


def test_lanes_hit_rates_and_revenue(rctx: AppContext, decided: dict[str, int]) -> None:
    with rctx.db.session() as session:
        report = compute(session, "selectivity", parse_filters(PERIOD))
        office_of = dict(session.execute(select(DeclarationRow.id, DeclarationRow.office)).all())
    rows = {(r["office"], r["month"], r["lane"]): r for r in report.tables[0].as_dicts()}
    expected = _expected(rctx)
    assert set(rows) == set(expected)
    for key, e in expected.items():
        r = rows[key]
        assert (r["original"], r["final"], r["examined_original"], r["examined_final"]) == (
            e[0], e[1], e[2], e[4],
        ), key  # fmt: skip
        assert r["hit_rate_original"] == _rate(e[3], e[2])
        assert r["hit_rate_final"] == _rate(e[5], e[4])
        assert r["revenue_final"] == e[6]
    # The overridden declaration: red by final lane, green by the engine's, its revenue red's.
    office = office_of[decided["overridden"]]
    red = rows[(office, "2026-01", "red")]
    assert (red["final"], red["original"], red["hit_rate_final"]) == (1, 0, 1.0)
    assert red["revenue_final"] == Decimal("120.00")
    assert rows[(office, "2026-01", "green")]["examined_original"] >= 1
    assert sum(r["original"] for r in rows.values()) == 20
    assert sum(r["final"] for r in rows.values()) == 20
    # Per rule and model: the wood rule fired on every yellow declaration.
    groups = {(r["kind"], r["name"]): r for r in report.tables[1].as_dicts()}
    wood = groups[("rule", "wood@1")]
    yellow = sum(v[0] for k, v in expected.items() if k[2] == "yellow")
    assert (wood["declarations"], wood["examined"], wood["irregular"]) == (yellow, 1, 1)
    assert wood["revenue"] == Decimal("50.50")
    assert groups[("model", "-")]["declarations"] == 20  # no model was active
    assert groups[("model", "-")]["revenue"] == Decimal("170.50")
    # Charts: declarations per final lane.
    per_lane = {b.label: b.value for b in report.charts[0].bars}
    assert per_lane["red"] == 1 and sum(per_lane.values()) == 20


def test_filters_office_and_dates(rctx: AppContext, decided: dict[str, int]) -> None:
    with rctx.db.session() as session:
        office = session.get(DeclarationRow, decided["wood"]).office  # type: ignore[union-attr]
        one = compute(session, "selectivity", parse_filters({**PERIOD, "office": office}))
        february = compute(session, "selectivity", parse_filters({**PERIOD, "from": "2026-02-01"}))
        # A corridor means nothing to selectivity: dropped, not applied.
        any_corridor = compute(
            session, "selectivity", parse_filters({**PERIOD, "corridor": "nowhere"})
        )
    assert {r[0] for r in one.tables[0].rows} == {office}
    mine = _expected(rctx, office)
    assert sum(int(r[3]) for r in one.tables[0].rows) == sum(v[0] for v in mine.values())  # type: ignore[call-overload]
    assert {r[1] for r in february.tables[0].rows} == {"2026-02"}
    assert sum(int(r[3]) for r in february.tables[0].rows) == 8  # type: ignore[call-overload]
    assert sum(int(r[3]) for r in any_corridor.tables[0].rows) == 20  # type: ignore[call-overload]
