"""Targeting rules with four eyes: an analyst writes a version, another person approves it.

Every version is kept. A rule's *active* version is its latest approved one whose validity
covers now; writing a new version does not stop the approved one until the new one is approved.
Approving or rejecting one's own version is refused.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.db import core_connection
from smartcustoms.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from smartcustoms.core.events import AdminAction
from smartcustoms.core.unit import Unit
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.rules import Expression, RuleSyntaxError, parse
from smartcustoms.risk.tables import RuleRow, RuleVersionRow

__all__ = ["ActiveRule", "active_rules", "propose", "retire", "review"]


@dataclass(frozen=True)
class ActiveRule:
    rule_id: int
    name: str
    version: int
    expression: Expression
    lane: Lane
    reason: str
    instructions: str

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


def _check_expression(text: str) -> Expression:
    try:
        return parse(text)
    except RuleSyntaxError as exc:
        raise ValidationFailed(f"rule expression, {exc.message}", details=exc.details) from None


def propose(
    unit: Unit,
    *,
    name: str,
    expression: str,
    lane: Lane,
    reason: str,
    instructions: str = "",
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    actor: str,
) -> RuleVersionRow:
    """Write a rule, or a new version of the rule called ``name``; it waits for approval."""
    name = name.strip()
    if not name or len(name) > 120:
        raise ValidationFailed(
            "a rule needs a name of 1-120 characters", details=[{"field": "name"}]
        )
    if not reason.strip():
        raise ValidationFailed(
            "a rule needs a reason an officer can read", details=[{"field": "reason"}]
        )
    parsed = _check_expression(expression)
    start = valid_from or clock.now()
    if valid_until is not None and valid_until <= start:
        raise ValidationFailed(
            "valid_until must be after valid_from", details=[{"field": "valid_until"}]
        )
    now = clock.now()
    rule = unit.session.scalar(select(RuleRow).where(RuleRow.name == name))
    if rule is None:
        rule = RuleRow(name=name, created_at=now, created_by=actor)
        unit.session.add(rule)
        unit.session.flush()
    number = max((v.version for v in rule.versions), default=0) + 1
    version = RuleVersionRow(
        rule_id=rule.id,
        version=number,
        expression=parsed.canonical,
        lane=lane.value,
        reason=reason.strip()[:500],
        instructions=instructions.strip()[:2000],
        valid_from=start,
        valid_until=valid_until,
        status="draft",
        author=actor,
        created_at=now,
    )
    unit.session.add(version)
    unit.session.flush()
    unit.emit(AdminAction(actor=actor, action="risk_rule_proposed", target=f"{name}@{number}"))
    return version


def _version(session: Session, version_id: int) -> RuleVersionRow:
    row = session.get(RuleVersionRow, version_id)
    if row is None:
        raise NotFound(f"no rule version {version_id}", details=[{"field": "version_id"}])
    return row


def review(
    unit: Unit, version_id: int, *, approve: bool, actor: str, note: str = ""
) -> RuleVersionRow:
    """Approve or reject a draft version. The reviewer must not be its author (four eyes)."""
    row = _version(unit.session, version_id)
    if row.author == actor:
        raise Forbidden(
            "a rule must be approved by someone other than its author", code="four_eyes"
        )
    if row.status != "draft":
        raise Conflict(f"this version is already {row.status}", details=[{"field": "status"}])
    row.status = "approved" if approve else "rejected"
    row.reviewed_by = actor
    row.reviewed_at = clock.now()
    row.review_note = note.strip()[:500] or None
    unit.session.flush()  # the bus's recorders read the review through the connection
    action = "risk_rule_approved" if approve else "risk_rule_rejected"
    unit.emit(AdminAction(actor=actor, action=action, target=f"{row.rule.name}@{row.version}"))
    return row


def retire(unit: Unit, version_id: int, *, actor: str) -> RuleVersionRow:
    row = _version(unit.session, version_id)
    if row.status != "approved":
        raise Conflict("only an approved version can be retired", details=[{"field": "status"}])
    row.status = "retired"
    unit.emit(
        AdminAction(
            actor=actor, action="risk_rule_retired", target=f"{row.rule.name}@{row.version}"
        )
    )
    return row


# Read on every lodging: plain columns (no ORM objects), from a statement built once (building
# it cost more than running it); parsed expressions are kept by their text (parsing is pure),
# so none is parsed twice.
_ACTIVE_VERSIONS = (
    select(
        RuleVersionRow.rule_id,
        RuleRow.name,
        RuleVersionRow.version,
        RuleVersionRow.expression,
        RuleVersionRow.lane,
        RuleVersionRow.reason,
        RuleVersionRow.instructions,
        RuleVersionRow.valid_until,
    )
    .join(RuleRow, RuleRow.id == RuleVersionRow.rule_id)
    .where(
        RuleVersionRow.status == "approved",
        RuleVersionRow.valid_from <= bindparam("when", type_=RuleVersionRow.valid_from.type),
    )
    .order_by(RuleVersionRow.rule_id, RuleVersionRow.version.desc())
)


def active_rules(session: Session, at: datetime | None = None) -> list[ActiveRule]:
    """Each rule's latest approved version valid at ``at`` (default now)."""
    when = at or clock.now()
    # On the connection, not through the ORM: asked every lodging, and the ORM's layers cost
    # more than the query.
    rows = core_connection(session).execute(_ACTIVE_VERSIONS, {"when": when}).all()
    chosen: dict[int, ActiveRule] = {}
    for row in rows:
        if row.rule_id in chosen:
            continue
        if row.valid_until is not None and row.valid_until <= when:
            continue
        chosen[row.rule_id] = ActiveRule(
            rule_id=row.rule_id,
            name=row.name,
            version=row.version,
            expression=_parsed(row.expression),
            lane=Lane(row.lane),
            reason=row.reason,
            instructions=row.instructions,
        )
    return list(chosen.values())


_parsed = functools.lru_cache(maxsize=1024)(parse)
