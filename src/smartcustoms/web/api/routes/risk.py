"""The risk engine over HTTP: decisions, examination results, targeting rules, models."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from smartcustoms.core.errors import NotFound
from smartcustoms.core.roles import Role
from smartcustoms.risk import registry, rulebook
from smartcustoms.risk.inspections import (
    IRREGULARITIES,
    detection,
    hit_rates,
    record_inspection,
    weekly,
)
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.tables import LaneDecisionRow, RuleVersionRow
from smartcustoms.web.deps import UnitDep
from smartcustoms.web.params import RowId
from smartcustoms.web.policy import CurrentPrincipal, requires

router = APIRouter(tags=["risk"])

OFFICERS = (Role.EXAMINING_OFFICER, Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR)
VIEWERS = (Role.RISK_ANALYST, Role.SUPERVISOR, Role.AUDITOR)


class DecisionPublic(BaseModel):
    declaration_id: int
    lane: Lane
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
        lane=Lane(row.lane),
        score=row.score,
        threshold=row.threshold,
        model_version=row.model_version,
        rules_fired=row.rules_fired,
        random_control=row.random_control,
        exploration=row.exploration,
        reasons=row.reasons,
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
