"""Lane overrides with four eyes: an examining officer or a risk analyst proposes to move a
declaration to another lane and says why; a supervisor who is someone else approves or rejects.

proposed → approved | rejected | withdrawn (by the proposer). Only an approval changes the
declaration's *final* lane (``LaneDecisionRow.overridden_lane``); the engine's *original*
decision (``LaneDecisionRow.lane``, and its ``risk.lane_assigned`` record) is never touched, so
hit rates count both apart. Each step is a ledger record (``risk.lane_override_*``).

Rules:

* the proposer holds ``examining_officer`` or ``risk_analyst``; the reviewer holds
  ``supervisor`` and is not the proposer, whatever other roles either holds (a supervisor who
  is also an officer cannot approve their own proposal);
* one open proposal per declaration (held by the database: ``open_key`` is unique);
* the new lane differs from the final lane; a reason of 1-500 characters is required;
* a declaration whose examination result is recorded is settled: its lane did its work, and
  changing it afterwards would rewrite which lane found what. Proposals and approvals are
  refused then (a pending one can still be rejected or withdrawn). A declaration imported as
  history has no lane to override.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from smartcustoms.core.roles import Role
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.risk.events import (
    LaneOverrideApproved,
    LaneOverrideProposed,
    LaneOverrideRejected,
    LaneOverrideWithdrawn,
)
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.tables import InspectionRow, LaneDecisionRow, LaneOverrideRow

__all__ = [
    "PROPOSERS",
    "REVIEWERS",
    "OverrideView",
    "approve",
    "history",
    "pending",
    "propose",
    "reject",
    "sha256_of",
    "withdraw",
]

PROPOSERS: frozenset[Role] = frozenset({Role.EXAMINING_OFFICER, Role.RISK_ANALYST})
REVIEWERS: frozenset[Role] = frozenset({Role.SUPERVISOR})
REASON_MAX = 500
PROPOSED, APPROVED, REJECTED, WITHDRAWN = "proposed", "approved", "rejected", "withdrawn"


def sha256_of(text: str | None) -> str | None:
    """What a record carries of a reason or note: its SHA-256 (None for no text)."""
    return hashlib.sha256(text.encode()).hexdigest() if text else None


def _text(value: str, field: str, *, required: bool) -> str:
    text = value.strip()
    if required and not text:
        raise ValidationFailed(
            f"{field}: say why the lane should change", details=[{"field": field}]
        )
    if len(text) > REASON_MAX:
        raise ValidationFailed(
            f"{field}: at most {REASON_MAX} characters",
            details=[{"field": field, "problem": "too long"}],
        )
    if "\x00" in text:
        raise ValidationFailed(f"{field}: contains a NUL character", details=[{"field": field}])
    return text


def _decision(session: Session, declaration_id: int) -> LaneDecisionRow:
    if session.get(DeclarationRow, declaration_id) is None:
        raise NotFound(f"no declaration {declaration_id}", details=[{"field": "declaration_id"}])
    decision = session.scalar(
        select(LaneDecisionRow).where(LaneDecisionRow.declaration_id == declaration_id)
    )
    if decision is None:
        raise Conflict(
            f"declaration {declaration_id} has no lane (imported as history)",
            code="not_assessed",
            details=[{"field": "declaration_id", "problem": "no lane decision"}],
        )
    return decision


def _not_examined(session: Session, declaration_id: int) -> None:
    examined = session.scalar(
        select(InspectionRow.id).where(InspectionRow.declaration_id == declaration_id)
    )
    if examined is not None:
        raise Conflict(
            "the examination result of this declaration is recorded: its lane is settled",
            code="already_examined",
            details=[{"field": "declaration_id", "problem": "examined"}],
        )


def propose(
    unit: Unit,
    declaration_id: int,
    *,
    lane: Lane,
    reason: str,
    actor: str,
    roles: Collection[Role],
) -> LaneOverrideRow:
    """Propose to move a declaration to ``lane``; it waits for a supervisor."""
    if not PROPOSERS & set(roles):
        raise Forbidden("only an examining officer or a risk analyst may propose a lane change")
    text = _text(reason, "reason", required=True)
    session = unit.session
    decision = _decision(session, declaration_id)
    _not_examined(session, declaration_id)
    if lane.value == decision.final_lane:
        raise ValidationFailed(
            f"the declaration is already in lane {lane.value}",
            details=[{"field": "lane", "problem": "unchanged"}],
        )
    row = LaneOverrideRow(
        declaration_id=declaration_id,
        decision_id=decision.id,
        original_lane=decision.lane,
        from_lane=decision.final_lane,
        to_lane=lane.value,
        reason=text,
        status=PROPOSED,
        open_key=declaration_id,
        proposed_by=actor,
        proposed_at=clock.now(),
    )
    # A savepoint: a second open proposal fails on the unique open_key (two proposers at once
    # included) and is answered as a conflict, leaving the caller's transaction usable.
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Conflict(
            "a lane change for this declaration already waits for a supervisor",
            code="override_pending",
            details=[{"field": "declaration_id", "problem": "pending override"}],
        ) from None
    unit.emit(
        LaneOverrideProposed(
            actor=actor,
            override_id=row.id,
            declaration_id=declaration_id,
            original_lane=row.original_lane,
            from_lane=row.from_lane,
            to_lane=row.to_lane,
            reason_sha256=sha256_of(text) or "",
        )
    )
    return row


def _open(session: Session, override_id: int) -> LaneOverrideRow:
    # Locked on PostgreSQL (SQLite's writer already holds the whole database): two supervisors
    # deciding at once are served one after the other, the second sees it closed.
    row = session.scalar(
        select(LaneOverrideRow).where(LaneOverrideRow.id == override_id).with_for_update()
    )
    if row is None:
        raise NotFound(f"no lane override {override_id}", details=[{"field": "override_id"}])
    if row.status != PROPOSED:
        raise Conflict(f"this lane override is already {row.status}", details=[{"field": "status"}])
    return row


def _review(
    unit: Unit, override_id: int, *, actor: str, roles: Collection[Role], note: str
) -> tuple[LaneOverrideRow, str]:
    if not REVIEWERS & set(roles):
        raise Forbidden("only a supervisor may approve or reject a lane change")
    text = _text(note, "note", required=False)
    row = _open(unit.session, override_id)
    if row.proposed_by == actor:
        raise Forbidden(
            "a lane change must be approved by someone other than who proposed it",
            code="four_eyes",
        )
    return row, text


def _close(row: LaneOverrideRow, status: str, actor: str, note: str | None) -> None:
    row.status = status
    row.open_key = None
    row.decided_by = actor
    row.decided_at = clock.now()
    row.decision_note = note or None


def approve(
    unit: Unit, override_id: int, *, actor: str, roles: Collection[Role], note: str = ""
) -> LaneOverrideRow:
    """Approve a proposal: the declaration's final lane becomes the proposed one."""
    row, text = _review(unit, override_id, actor=actor, roles=roles, note=note)
    session = unit.session
    _not_examined(session, row.declaration_id)
    decision = session.get(LaneDecisionRow, row.decision_id)
    assert decision is not None  # the foreign key cascades
    if decision.final_lane != row.from_lane:  # cannot happen with one open proposal; be sure
        raise Conflict("the lane changed since this was proposed", details=[{"field": "from_lane"}])
    decision.overridden_lane = None if row.to_lane == decision.lane else row.to_lane
    _close(row, APPROVED, actor, text)
    unit.emit(
        LaneOverrideApproved(
            actor=actor,
            override_id=row.id,
            declaration_id=row.declaration_id,
            proposed_by=row.proposed_by,
            original_lane=row.original_lane,
            from_lane=row.from_lane,
            to_lane=row.to_lane,
            note_sha256=sha256_of(text),
        )
    )
    return row


def reject(
    unit: Unit, override_id: int, *, actor: str, roles: Collection[Role], note: str = ""
) -> LaneOverrideRow:
    row, text = _review(unit, override_id, actor=actor, roles=roles, note=note)
    _close(row, REJECTED, actor, text)
    unit.emit(
        LaneOverrideRejected(
            actor=actor,
            override_id=row.id,
            declaration_id=row.declaration_id,
            proposed_by=row.proposed_by,
            from_lane=row.from_lane,
            to_lane=row.to_lane,
            note_sha256=sha256_of(text),
        )
    )
    return row


def withdraw(unit: Unit, override_id: int, *, actor: str) -> LaneOverrideRow:
    """The proposer takes an open proposal back."""
    row = _open(unit.session, override_id)
    if row.proposed_by != actor:
        raise Forbidden("only who proposed a lane change may withdraw it")
    _close(row, WITHDRAWN, actor, None)
    unit.emit(
        LaneOverrideWithdrawn(actor=actor, override_id=row.id, declaration_id=row.declaration_id)
    )
    return row


@dataclass(frozen=True)
class OverrideView:
    """A proposal with what a queue shows of its declaration."""

    override: LaneOverrideRow
    lrn: str
    declarant_id: str
    office: str


def pending(session: Session, limit: int = 200) -> list[OverrideView]:
    """Open proposals, oldest first (the supervisor's queue)."""
    rows = session.execute(
        select(
            LaneOverrideRow, DeclarationRow.lrn, DeclarationRow.declarant_id, DeclarationRow.office
        )
        .join(DeclarationRow, DeclarationRow.id == LaneOverrideRow.declaration_id)
        .where(LaneOverrideRow.status == PROPOSED)
        .order_by(LaneOverrideRow.id)
        .limit(limit)
    ).all()
    return [OverrideView(r[0], r[1], r[2], r[3]) for r in rows]


def history(session: Session, declaration_id: int) -> list[LaneOverrideRow]:
    """Every proposal for one declaration, oldest first."""
    return list(
        session.scalars(
            select(LaneOverrideRow)
            .where(LaneOverrideRow.declaration_id == declaration_id)
            .order_by(LaneOverrideRow.id)
        )
    )
