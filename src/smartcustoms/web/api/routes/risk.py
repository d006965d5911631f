"""The risk engine over HTTP: decisions, examination results, targeting rules, models, lane
overrides (four eyes), selection rates expected against actual."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from smartcustoms.core.errors import NotFound
from smartcustoms.core.roles import Role
from smartcustoms.risk import overrides, registry, rulebook, selection_rates
from smartcustoms.risk.inspections import (
    IRREGULARITIES,
    detection,
    hit_rates,
    record_inspection,
    weekly,
)
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.tables import LaneDecisionRow, LaneOverrideRow, RuleVersionRow
from smartcustoms.web.deps import ContextDep, UnitDep
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import CurrentPrincipal, requires
from smartcustoms.web.ui.formatting import with_texts

router = APIRouter(tags=["risk"])

OFFICERS = (Role.EXAMINING_OFFICER, Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR)
VIEWERS = (Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR)


class DecisionPublic(BaseModel):
    declaration_id: int
    lane: Lane = Field(description="The final lane: an approved override's, else original_lane")
    original_lane: Lane = Field(description="The engine's decision, never changed")
    overridden: bool
    score: float | None
    threshold: float | None
    model_version: str | None
    rules_fired: list[str]
    random_control: bool
    exploration: bool
    reasons: list[dict[str, Any]]
    decided_at: datetime


class InspectionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    irregular: bool
    codes: list[str] = Field(default_factory=list, description=", ".join(IRREGULARITIES))
    revenue_raised: Decimal | None = Field(None, ge=0, max_digits=20, decimal_places=2)
    seizure: bool = False
    note: str | None = Field(None, max_length=2000)


class InspectionPublic(BaseModel):
    declaration_id: int
    irregular: bool
    codes: list[str]
    revenue_raised: Decimal | None
    seizure: bool
    recorded_by: str
    recorded_at: datetime


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    expression: str = Field(min_length=1, max_length=2000)
    lane: Lane
    reason: str = Field(min_length=1, max_length=500)
    instructions: str = Field("", max_length=2000)
    valid_from: datetime | None = None
    valid_until: datetime | None = None


class RuleReview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    approve: bool
    note: str = Field("", max_length=500)


class RuleVersionPublic(BaseModel):
    id: int
    rule: str
    version: int
    expression: str
    lane: Lane
    reason: str
    instructions: str
    status: str
    author: str
    reviewed_by: str | None
    valid_from: datetime
    valid_until: datetime | None


def _rule(row: RuleVersionRow) -> RuleVersionPublic:
    return RuleVersionPublic(
        id=row.id,
        rule=row.rule.name,
        version=row.version,
        expression=row.expression,
        lane=Lane(row.lane),
        reason=row.reason,
        instructions=row.instructions,
        status=row.status,
        author=row.author,
        reviewed_by=row.reviewed_by,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
    )


@router.get("/api/declarations/{declaration_id}/decision", summary="A declaration's lane and why")
@requires(*OFFICERS)
def decision(declaration_id: RowId, unit: UnitDep) -> DecisionPublic:
    row = unit.session.scalar(
        select(LaneDecisionRow).where(LaneDecisionRow.declaration_id == declaration_id)
    )
    if row is None:
        raise NotFound(f"no decision for declaration {declaration_id}")
    return DecisionPublic(
        declaration_id=row.declaration_id,
        lane=Lane(row.final_lane),
        original_lane=Lane(row.lane),
        overridden=row.overridden_lane is not None,
        score=row.score,
        threshold=row.threshold,
        model_version=row.model_version,
        rules_fired=row.rules_fired,
        random_control=row.random_control,
        exploration=row.exploration,
        reasons=[with_texts(r) for r in row.reasons],
        decided_at=row.decided_at,
    )


@router.post(
    "/api/declarations/{declaration_id}/inspection",
    status_code=status.HTTP_201_CREATED,
    summary="Record what the examination found",
)
@requires(Role.EXAMINING_OFFICER)
def inspection(
    declaration_id: RowId, body: InspectionCreate, unit: UnitDep, principal: CurrentPrincipal
) -> InspectionPublic:
    row = record_inspection(
        unit,
        declaration_id,
        irregular=body.irregular,
        codes=body.codes,
        revenue_raised=body.revenue_raised,
        seizure=body.seizure,
        note=body.note,
        actor=principal.username,
    )
    return InspectionPublic(
        declaration_id=row.declaration_id,
        irregular=row.irregular,
        codes=row.codes,
        revenue_raised=row.revenue_raised,
        seizure=row.seizure,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


@router.get("/api/risk/rules", summary="Every version of every targeting rule")
@requires(*VIEWERS)
def rules(unit: UnitDep) -> list[RuleVersionPublic]:
    rows = unit.session.scalars(select(RuleVersionRow).order_by(RuleVersionRow.id))
    return [_rule(r) for r in rows]


@router.post("/api/risk/rules", status_code=status.HTTP_201_CREATED, summary="Write a rule")
@requires(Role.RISK_ANALYST)
def propose(body: RuleCreate, unit: UnitDep, principal: CurrentPrincipal) -> RuleVersionPublic:
    row = rulebook.propose(unit, actor=principal.username, **body.model_dump())
    return _rule(row)


@router.post(
    "/api/risk/rules/versions/{version_id}/review",
    summary="Approve or reject a version (not one's own)",
)
@requires(Role.SUPERVISOR)
def review(
    version_id: RowId, body: RuleReview, unit: UnitDep, principal: CurrentPrincipal
) -> RuleVersionPublic:
    row = rulebook.review(
        unit, version_id, approve=body.approve, actor=principal.username, note=body.note
    )
    return _rule(row)


@router.get("/api/risk/models", summary="Trained models, their figures, which is active")
@requires(*VIEWERS)
def models(unit: UnitDep) -> list[dict[str, Any]]:
    return [
        {
            "version": m.version,
            "created_at": m.created_at.isoformat(),
            "created_by": m.created_by,
            "active": m.active,
            "card": m.card,
        }
        for m in registry.list_models(unit.session)
    ]


@router.post("/api/risk/models/{version}/activate", summary="Score new declarations with it")
@requires(Role.RISK_ANALYST)
def activate(version: str, unit: UnitDep, principal: CurrentPrincipal) -> dict[str, str]:
    registry.activate(unit, version, actor=principal.username)
    return {"active": version}


@router.get("/api/risk/hit-rates", summary="Hit rates by lane, model, rule, random control")
@requires(*VIEWERS)
def rates(unit: UnitDep) -> list[dict[str, Any]]:
    return [
        {
            "group": r.group,
            "inspected": r.inspected,
            "irregular": r.irregular,
            "rate": r.rate,
            "revenue": str(r.revenue),
        }
        for r in hit_rates(unit.session)
    ]


@router.get("/api/risk/kpis", summary="Detection estimated from random control; weekly series")
@requires(*VIEWERS)
def kpis(unit: UnitDep) -> dict[str, Any]:
    found = detection(unit.session)
    return {
        "detection": {
            "assessed": found.assessed,
            "irregular_found": found.found,
            "estimated_irregular": found.estimated_irregular,
            "rate": found.rate,
        },
        "weekly": [{**w, "revenue": str(w["revenue"])} for w in weekly(unit.session)],
    }


# -- lane overrides ----------------------------------------------------------------------------

OVERRIDE_READERS = (*OFFICERS,)


class OverrideCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lane: Lane
    reason: str = Field(min_length=1, max_length=overrides.REASON_MAX)


class OverrideReview(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field("", max_length=overrides.REASON_MAX)


class OverridePublic(BaseModel):
    id: int
    declaration_id: int
    original_lane: Lane
    from_lane: Lane
    to_lane: Lane
    reason: str
    status: str
    proposed_by: str
    proposed_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


def _override(row: LaneOverrideRow) -> OverridePublic:
    return OverridePublic(
        id=row.id,
        declaration_id=row.declaration_id,
        original_lane=Lane(row.original_lane),
        from_lane=Lane(row.from_lane),
        to_lane=Lane(row.to_lane),
        reason=row.reason,
        status=row.status,
        proposed_by=row.proposed_by,
        proposed_at=row.proposed_at,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        decision_note=row.decision_note,
    )


@router.post(
    "/api/declarations/{declaration_id}/overrides",
    status_code=status.HTTP_201_CREATED,
    summary="Propose a lane change, with a reason (a supervisor approves it)",
)
@requires(*overrides.PROPOSERS)
def propose_override(
    declaration_id: RowId, body: OverrideCreate, unit: UnitDep, principal: CurrentPrincipal
) -> OverridePublic:
    row = overrides.propose(
        unit,
        declaration_id,
        lane=body.lane,
        reason=body.reason,
        actor=principal.username,
        roles=principal.roles,
    )
    return _override(row)


@router.get(
    "/api/declarations/{declaration_id}/overrides", summary="A declaration's lane overrides"
)
@requires(*OVERRIDE_READERS)
def declaration_overrides(declaration_id: RowId, unit: UnitDep) -> list[OverridePublic]:
    return [_override(r) for r in overrides.history(unit.session, declaration_id)]


@router.get("/api/risk/overrides", summary="Lane overrides waiting for a supervisor")
@requires(*OVERRIDE_READERS)
def pending_overrides(unit: UnitDep) -> list[OverridePublic]:
    return [_override(v.override) for v in overrides.pending(unit.session)]


@router.post(
    "/api/risk/overrides/{override_id}/approve",
    summary="Approve a lane change (a supervisor, not its proposer)",
)
@requires(*overrides.REVIEWERS)
def approve_override(
    override_id: RowId, body: OverrideReview, unit: UnitDep, principal: CurrentPrincipal
) -> OverridePublic:
    row = overrides.approve(
        unit, override_id, actor=principal.username, roles=principal.roles, note=body.note
    )
    return _override(row)


@router.post(
    "/api/risk/overrides/{override_id}/reject",
    summary="Reject a lane change (a supervisor, not its proposer)",
)
@requires(*overrides.REVIEWERS)
def reject_override(
    override_id: RowId, body: OverrideReview, unit: UnitDep, principal: CurrentPrincipal
) -> OverridePublic:
    row = overrides.reject(
        unit, override_id, actor=principal.username, roles=principal.roles, note=body.note
    )
    return _override(row)


@router.post(
    "/api/risk/overrides/{override_id}/withdraw", summary="Take back one's own open proposal"
)
@requires(*overrides.PROPOSERS)
def withdraw_override(
    override_id: RowId, unit: UnitDep, principal: CurrentPrincipal
) -> OverridePublic:
    return _override(overrides.withdraw(unit, override_id, actor=principal.username))


# -- selection rates ---------------------------------------------------------------------------

RATE_SETTERS = (Role.SUPERVISOR, Role.RISK_ANALYST)


class ExpectedRate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    office: str = Field(
        selection_rates.ALL_OFFICES, min_length=1, max_length=17, description="'*': every office"
    )
    lane: Lane
    share: Decimal = Field(ge=0, le=1, max_digits=5, decimal_places=4)


def _share(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@router.get(
    "/api/risk/selectivity",
    summary="Per lane and office: selection rates expected against actual; hit rates by "
    "original and final lane",
)
@requires(*VIEWERS)
def selectivity(
    unit: UnitDep,
    ctx: ContextDep,
    days: Annotated[int, Query(ge=1, le=3660)] = 30,
) -> dict[str, Any]:
    report = selection_rates.selection_rates(
        unit.session,
        since=selection_rates.default_since(days),
        engine_red=selection_rates.engine_red_share(ctx.settings),
    )
    return {
        "days": days,
        "offices": [
            {
                "office": o.office,
                "declarations": o.total,
                "lanes": [
                    {
                        "lane": r.lane,
                        "final": r.final,
                        "original": r.original,
                        "final_share": _share(r.final_share),
                        "original_share": _share(r.original_share),
                        "expected_share": _share(r.expected.share) if r.expected else None,
                        "expected_from": r.expected.source if r.expected else None,
                        "gap": _share(r.gap),
                    }
                    for r in o.lanes
                ],
            }
            for o in report
        ],
        "hit_rates": [
            {
                "lane": h.lane,
                "original": {
                    "inspected": h.original.inspected,
                    "irregular": h.original.irregular,
                    "rate": h.original.rate,
                },
                "final": {
                    "inspected": h.final.inspected,
                    "irregular": h.final.irregular,
                    "rate": h.final.rate,
                },
            }
            for h in selection_rates.lane_hit_rates(unit.session)
        ],
    }


@router.get("/api/risk/expected-rates", summary="Expected share of declarations per lane")
@requires(*VIEWERS)
def expected(unit: UnitDep) -> list[dict[str, str]]:
    stored = selection_rates.expected_rates(unit.session)
    return [
        {"office": office, "lane": lane, "share": str(share)}
        for office, lanes in stored.items()
        for lane, share in lanes.items()
    ]


@router.put("/api/risk/expected-rates", summary="Set the share expected in a lane")
@requires(*RATE_SETTERS)
def set_expected(body: ExpectedRate, unit: UnitDep, principal: CurrentPrincipal) -> dict[str, str]:
    row = selection_rates.set_expected(
        unit, office=body.office, lane=body.lane, share=body.share, actor=principal.username
    )
    # What was stored (as GET lists it), not what was sent: " kemba " is stored as KEMBA.
    return {"office": row.office, "lane": row.lane, "share": str(row.share)}


@router.delete(
    "/api/risk/expected-rates/{office}/{lane}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop expecting a share in a lane",
)
@requires(*RATE_SETTERS)
def clear_expected(office: str, lane: Lane, unit: UnitDep, principal: CurrentPrincipal) -> None:
    selection_rates.clear_expected(unit, office=office, lane=lane, actor=principal.username)
