"""Lane overrides: proposed by an officer or analyst, approved by another person who is a
supervisor; the original decision stays, the final lane changes only on approval, every step is
in the ledger, and hit rates count the original and the final lane apart."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import Settings
from smartcustoms.declarations.formats.kcs import read_kcs
from smartcustoms.ledger.service import attach_ledger, ledger_of
from smartcustoms.risk import overrides
from smartcustoms.risk.inspections import hit_rates, record_inspection
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.lodging import lodge
from smartcustoms.risk.selection_rates import (
    default_since,
    engine_red_share,
    lane_hit_rates,
    selection_rates,
    set_expected,
)
from smartcustoms.risk.tables import LaneDecisionRow
from tests.ledger.stored import FAST_MS
from tests.risk.history import kcs_slice

OFFICER = frozenset({Role.EXAMINING_OFFICER})
ANALYST = frozenset({Role.RISK_ANALYST})
SUPERVISOR = frozenset({Role.SUPERVISOR})


@pytest.fixture
def lctx(settings: Settings) -> Iterator[AppContext]:
    """No model and no random draws: every declaration is decided green. Events go to the
    ledger, as in the server."""
    ctx = AppContext.from_settings(
        settings.model_copy(
            update={
                "ledger_checkpoint_interval_ms": FAST_MS,
                "risk_random_control_share": 0.0,
                "risk_exploration_share": 0.0,
            }
        )
    )
    attach_ledger(ctx)
    yield ctx
    ctx.close()


@pytest.fixture
def green(lctx: AppContext, tmp_path: Path) -> list[int]:
    records = list(read_kcs(kcs_slice(tmp_path, 0, 4, labels=False)))
    with lctx.unit() as unit:
        lodging = lodge(lctx, unit, records, source="api", submitted_by="t", actor="t")
        ids = [item.stored.id for item in lodging.lodged]
    assert set(lodging.lanes) == {"green"}
    return ids


def _propose(ctx: AppContext, declaration: int, **kw: Any) -> int:
    fields: dict[str, Any] = {
        "lane": Lane.RED,
        "reason": "Tip-off from the port",
        "actor": "olive",
        "roles": OFFICER,
    }
    fields.update(kw)
    with ctx.unit() as unit:
        return overrides.propose(unit, declaration, **fields).id


def _decision(ctx: AppContext, declaration: int) -> LaneDecisionRow:
    with ctx.db.session() as s:
        row = s.query(LaneDecisionRow).filter_by(declaration_id=declaration).one()
        s.expunge(row)
        return row


def test_green_to_red_approved_examined_counts_apart(lctx: AppContext, green: list[int]) -> None:
    declaration = green[0]
    proposal = _propose(lctx, declaration)
    assert _decision(lctx, declaration).final_lane == "green"  # only approval changes it
    with lctx.unit() as unit:
        overrides.approve(unit, proposal, actor="sam", roles=SUPERVISOR, note="agreed")
    decision = _decision(lctx, declaration)
    assert (decision.lane, decision.final_lane) == ("green", "red")
    with lctx.unit() as unit:
        record_inspection(
            unit, declaration, irregular=True, codes=["undeclared"], actor="olive",
            revenue_raised=Decimal("120"),
        )  # fmt: skip
    with lctx.unit() as unit:
        rates = {r.lane: r for r in lane_hit_rates(unit.session)}
        groups = {r.group: r for r in hit_rates(unit.session)}
        report = selection_rates(unit.session, since=default_since(), engine_red=0.07)
    assert (rates["green"].original.inspected, rates["green"].original.irregular) == (1, 1)
    assert rates["green"].final.inspected == 0
    assert (rates["red"].final.inspected, rates["red"].final.irregular) == (1, 1)
    assert rates["red"].original.inspected == 0
    assert groups["lane:green"].irregular == 1 and groups["final_lane:red"].irregular == 1
    assert "lane:red" not in groups and "final_lane:green" not in groups
    every = report[0]
    red = next(r for r in every.lanes if r.lane == "red")
    assert (every.office, every.total, red.final, red.original) == ("*", 4, 1, 0)
    assert red.expected is not None and red.expected.source == "engine settings"
    assert red.final_share == pytest.approx(0.25)

    # The ledger holds the original decision, the proposal and the approval, in that order.
    ledger = ledger_of(lctx)
    ledger.flush()
    records = [ledger.record(i) for i in range(ledger.size())]
    mine = [r for r in records if r.get("declaration_id") == declaration]
    assert [r["type"] for r in mine] == [
        "risk.lane_assigned",
        "risk.lane_override_proposed",
        "risk.lane_override_approved",
        "risk.inspection_recorded",
    ]
    assigned, proposed, approved, _ = mine
    assert assigned["lane"] == "green"
    assert (proposed["actor"], proposed["from_lane"], proposed["to_lane"]) == (
        "olive", "green", "red",
    )  # fmt: skip
    assert "reason" not in proposed and len(proposed["reason_sha256"]) == 64  # no free text
    assert (approved["actor"], approved["proposed_by"], approved["original_lane"]) == (
        "sam", "olive", "green",
    )  # fmt: skip
    # Examined: the lane is settled.
    with pytest.raises(Conflict) as err, lctx.unit() as unit:
        overrides.propose(
            unit, declaration, lane=Lane.GREEN, reason="x", actor="olive", roles=OFFICER
        )
    assert err.value.code == "already_examined"


def test_four_eyes_even_with_two_roles(lctx: AppContext, green: list[int]) -> None:
    both = OFFICER | SUPERVISOR
    proposal = _propose(lctx, green[0], actor="pat", roles=both)
    with pytest.raises(Forbidden) as err, lctx.unit() as unit:
        overrides.approve(unit, proposal, actor="pat", roles=both)
    assert err.value.code == "four_eyes"
    with pytest.raises(Forbidden), lctx.unit() as unit:
        overrides.reject(unit, proposal, actor="pat", roles=both)
    with pytest.raises(Forbidden), lctx.unit() as unit:  # an officer is no reviewer
        overrides.approve(unit, proposal, actor="olive", roles=OFFICER)
    with pytest.raises(Forbidden), lctx.unit() as unit:  # a supervisor alone is no proposer
        overrides.propose(unit, green[1], lane=Lane.RED, reason="x", actor="sam", roles=SUPERVISOR)
    with lctx.unit() as unit:
        row = overrides.reject(unit, proposal, actor="sam", roles=SUPERVISOR, note="no grounds")
        assert (row.status, row.decided_by, row.open_key) == ("rejected", "sam", None)
    assert _decision(lctx, green[0]).final_lane == "green"
    with pytest.raises(Conflict), lctx.unit() as unit:
        overrides.approve(unit, proposal, actor="sam", roles=SUPERVISOR)


def test_one_open_proposal_and_withdrawal(lctx: AppContext, green: list[int]) -> None:
    first = _propose(lctx, green[0], lane=Lane.YELLOW, roles=ANALYST)
    with pytest.raises(Conflict) as err:
        _propose(lctx, green[0], actor="other")
    assert err.value.code == "override_pending"
    with pytest.raises(Forbidden), lctx.unit() as unit:
        overrides.withdraw(unit, first, actor="other")
    with lctx.unit() as unit:
        assert overrides.withdraw(unit, first, actor="olive").status == "withdrawn"
    second = _propose(lctx, green[0])  # closed proposals do not block a new one
    with lctx.unit() as unit:
        overrides.approve(unit, second, actor="sam", roles=SUPERVISOR)
    # Back to the original lane: the override is undone, the decision says green again.
    third = _propose(lctx, green[0], lane=Lane.GREEN)
    with lctx.unit() as unit:
        overrides.approve(unit, third, actor="kim", roles=SUPERVISOR)
    decision = _decision(lctx, green[0])
    assert (decision.lane, decision.overridden_lane, decision.final_lane) == (
        "green", None, "green",
    )  # fmt: skip
    with lctx.db.session() as s:
        assert [o.status for o in overrides.history(s, green[0])] == [
            "withdrawn", "approved", "approved",
        ]  # fmt: skip
        assert overrides.pending(s) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 501}, "reason"),
        ({"reason": "a\x00b"}, "reason"),
        ({"lane": Lane.GREEN}, "lane"),
    ],
)
def test_bad_proposals_name_the_field(
    lctx: AppContext, green: list[int], changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as err:
        _propose(lctx, green[0], **changes)
    assert err.value.details[0]["field"] == field


def test_hostile_reason_is_kept_as_typed(lctx: AppContext, green: list[int]) -> None:
    hostile = "<script>alert(1)</script> '; DROP TABLE risk_decisions; -- \u202e"
    proposal = _propose(lctx, green[0], reason=hostile)
    with lctx.db.session() as s:
        (view,) = overrides.pending(s)
    assert (view.override.id, view.override.reason) == (proposal, hostile.strip())


def test_unknown_and_unassessed(lctx: AppContext) -> None:
    with pytest.raises(NotFound):
        _propose(lctx, 999_999)
    with pytest.raises(NotFound), lctx.unit() as unit:
        overrides.approve(unit, 999_999, actor="sam", roles=SUPERVISOR)


def test_expected_rates_per_office(lctx: AppContext, green: list[int]) -> None:
    with lctx.unit() as unit:
        set_expected(unit, office="*", lane=Lane.RED, share=Decimal("0.05"), actor="sam")
        set_expected(unit, office="*", lane=Lane.YELLOW, share=Decimal("0.15"), actor="sam")
        set_expected(unit, office="kcs30", lane=Lane.RED, share=Decimal("0.08"), actor="sam")
    with pytest.raises(ValidationFailed) as err, lctx.unit() as unit:
        set_expected(unit, office="*", lane=Lane.BLUE, share=Decimal("0.9"), actor="sam")
    assert err.value.details[0]["field"] == "share"
    with pytest.raises(ValidationFailed) as err, lctx.unit() as unit:
        set_expected(unit, office="<b>", lane=Lane.BLUE, share=Decimal("0.1"), actor="sam")
    assert err.value.details[0]["field"] == "office"
    with lctx.unit() as unit:
        found = selection_rates(
            unit.session, since=default_since(), engine_red=engine_red_share(lctx.settings)
        )
    report = {o.office: o for o in found}
    every = {r.lane: r for r in report["*"].lanes}
    assert every["red"].expected is not None and every["red"].expected.share == 0.05
    assert every["yellow"].gap == pytest.approx(-0.15)  # nothing yellow, 15 % expected
    assert every["green"].expected is None and every["green"].final_share == 1.0
    office = {r.lane: r for r in report["KCS30"].lanes}
    assert office["red"].expected is not None
    assert (office["red"].expected.share, office["red"].expected.source) == (0.08, "office")
    assert office["yellow"].expected is not None and office["yellow"].expected.source == (
        "all offices"
    )


def test_ledger_fsck_checks_overrides(lctx: AppContext, green: list[int]) -> None:
    """``ledger fsck``'s risk auditor: every override has its records, and what a person with
    SQL access changes behind the service — the final lane, a reason, a status — is named."""
    from smartcustoms.ledger.audit import audit
    from smartcustoms.risk.audit import auditors
    from tests.ledger.stored import sql

    approved = _propose(lctx, green[0])
    with lctx.unit() as unit:
        overrides.approve(unit, approved, actor="sam", roles=SUPERVISOR, note="ok")
    rejected = _propose(lctx, green[1], lane=Lane.SCAN)
    with lctx.unit() as unit:
        overrides.reject(unit, rejected, actor="sam", roles=SUPERVISOR)
    withdrawn = _propose(lctx, green[2], lane=Lane.YELLOW)
    with lctx.unit() as unit:
        overrides.withdraw(unit, withdrawn, actor="olive")
    _propose(lctx, green[2], lane=Lane.BLUE)  # still open
    ledger_of(lctx).flush()
    report = audit(lctx.db, auditors())
    assert report.ok, report.problems
    assert report.checked["lane overrides"] == 4

    db = lctx.db
    sql(
        db,
        "UPDATE risk_decisions SET overridden_lane = 'scan' WHERE declaration_id = :d",
        d=green[0],
    )
    sql(
        db,
        "UPDATE risk_decisions SET overridden_lane = 'red' WHERE declaration_id = :d",
        d=green[3],
    )
    sql(db, "UPDATE risk_lane_overrides SET reason = 'something else' WHERE id = :i", i=approved)
    sql(db, "UPDATE risk_lane_overrides SET status = 'approved' WHERE id = :i", i=rejected)
    problems = "\n".join(audit(lctx.db, auditors()).problems)
    assert (
        f"risk_decisions declaration {green[0]}: final lane is scan in the table but red"
        in problems
    )
    assert (
        f"risk_decisions declaration {green[3]}: final lane is red in the table but no" in problems
    )
    assert f"risk_lane_overrides {approved}: reason_sha256 is" in problems
    assert (
        f"risk_lane_overrides {rejected}: status is approved in the table but rejected" in problems
    )
