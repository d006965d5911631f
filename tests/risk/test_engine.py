"""The risk engine on a real database: history in, model trained and activated, new
declarations assessed with reasons, results fed back, hit rates, and a second process catching
up with what the first stored."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Conflict, ValidationFailed
from smartcustoms.core.events import Event
from smartcustoms.declarations.formats.kcs import read_kcs
from smartcustoms.declarations.intake import import_records
from smartcustoms.risk import registry
from smartcustoms.risk.assess import assess
from smartcustoms.risk.events import InspectionRecorded, LaneAssigned
from smartcustoms.risk.inspections import hit_rates, record_inspection
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.messages import render_message
from smartcustoms.risk.rulebook import propose, review
from smartcustoms.risk.tables import LaneDecisionRow, RiskModelRow
from smartcustoms.risk.training import train_from_store
from tests.risk.history import kcs_slice, load_history
from tests.waiting import wait_for


def lodge(ctx: AppContext, path: Path) -> list[LaneDecisionRow]:
    with ctx.unit() as unit:
        report = import_records(
            unit.session, read_kcs(path), source="api", submitted_by="t", skip_invalid=True
        )
        return assess(ctx, unit, report.stored, actor="t")


def test_too_little_history_to_train(ctx: AppContext, tmp_path: Path) -> None:
    load_history(ctx, kcs_slice(tmp_path, 0, 50))
    with pytest.raises(ValidationFailed, match="at least 200 inspected items"), ctx.unit() as u:
        train_from_store(u, actor="t")


def test_history_to_lanes_and_back(ctx: AppContext, tmp_path: Path, events: list[Event]) -> None:
    assert load_history(ctx, kcs_slice(tmp_path, 0, 1500)) > 1400
    # Before any model: rules and random control only, and the reason says so.
    early = lode = lodge(ctx, kcs_slice(tmp_path, 1500, 20, labels=False))
    assert all(d.model_version is None for d in lode)
    assert early[0].reasons[0]["code"] in ("no_model", "random_control")

    with ctx.unit() as unit:
        report = train_from_store(unit, actor="analyst", seed=1)
        registry.activate(unit, report.version, actor="analyst")
    assert report.evaluation["holdout"]["auc"] > 0.6
    with ctx.unit() as unit:
        rule = propose(
            unit, name="wood", expression='hs2 = "44"', lane=Lane.YELLOW,
            reason="Timber: check the CITES permit", actor="analyst",
        )  # fmt: skip
    with ctx.unit() as unit:
        review(unit, rule.id, approve=True, actor="supervisor")

    decisions = lodge(ctx, kcs_slice(tmp_path, 1520, 300, labels=False))
    assert len(decisions) > 280
    assert {d.model_version for d in decisions} == {report.version}
    red = [d for d in decisions if d.lane == Lane.RED]
    assert 0.02 < len(red) / len(decisions) < 0.2  # capacity 5% + control + exploration
    scored_red = [d for d in red if not d.random_control and not d.exploration]
    assert scored_red, "the model sends its top scores to red"
    assert all(d.score is not None and d.score >= (d.threshold or 0) for d in scored_red)
    model_reason = next(r for r in scored_red[0].reasons if "family" in r)
    assert "text" not in model_reason  # code + params: worded when shown
    en = render_message(model_reason["code"], model_reason["params"], "en")
    fr = render_message(model_reason["code"], model_reason["params"], "fr")
    assert en and fr and en != fr
    wood = [d for d in decisions if "wood@1" in d.rules_fired]
    assert wood
    assert all(d.lane in (Lane.YELLOW, Lane.RED) for d in wood)
    lanes = [e for e in events if isinstance(e, LaneAssigned)]
    assert len(lanes) == len(decisions) + len(early)
    assert all("." in (e.score or ".") for e in lanes)  # decimals as strings

    target = scored_red[0].declaration_id
    with ctx.unit() as unit:
        record_inspection(
            unit, target, irregular=True, codes=["undervaluation"],
            revenue_raised=Decimal("1250.50"), actor="officer",
        )  # fmt: skip
    with pytest.raises(Conflict), ctx.unit() as unit:
        record_inspection(unit, target, irregular=False, actor="officer")
    with pytest.raises(ValidationFailed), ctx.unit() as unit:
        record_inspection(unit, decisions[1].declaration_id, irregular=True, actor="officer")
    assert any(isinstance(e, InspectionRecorded) and e.revenue_raised == "1250.50" for e in events)
    with ctx.db.session() as session:
        rates = {r.group: r for r in hit_rates(session)}
    assert rates["lane:red"].inspected == 1
    assert rates["lane:red"].irregular == 1

    # Another process (fresh memory) loads the active model and catches up with the stored past.
    registry.forget_active(ctx.db)
    with ctx.db.session() as session:
        newest = session.scalar(select(func.max(LaneDecisionRow.declaration_id)))
        with registry.active_model(ctx.db, session) as active:
            assert active is not None
            assert active.declarations_seen == newest
            assert active.inspections_seen > 0


def test_lodging_again_returns_the_same_decision(ctx: AppContext, tmp_path: Path) -> None:
    path = kcs_slice(tmp_path, 0, 5, labels=False)
    first = {d.declaration_id: d.lane for d in lodge(ctx, path)}
    again = {d.declaration_id: d.lane for d in lodge(ctx, path)}
    assert first == again
    with ctx.db.session() as session:
        assert session.scalar(select(func.count()).select_from(LaneDecisionRow)) == 5
        assert session.scalar(select(func.count()).select_from(RiskModelRow)) == 0


def test_lodging_catches_the_model_up_in_the_background(
    ctx: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_history(ctx, kcs_slice(tmp_path, 0, 1500))
    with ctx.unit() as unit:
        version = train_from_store(unit, actor="analyst", seed=1).version
        registry.activate(unit, version, actor="analyst")
    first = lodge(ctx, kcs_slice(tmp_path, 1500, 20, labels=False))  # loads the model
    slot = registry._slot(ctx.db)
    assert slot.active is not None
    assert slot.active.declarations_seen < min(d.declaration_id for d in first)
    monkeypatch.setattr(registry, "CATCH_UP_EVERY_S", 0.0)  # a catch-up is due at once
    lodge(ctx, kcs_slice(tmp_path, 1520, 20, labels=False))  # schedules it, does not wait
    wait_for(lambda: not slot.pending, 30, message="the catch-up never ran")
    assert slot.active.declarations_seen >= max(d.declaration_id for d in first)
