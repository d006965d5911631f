"""Assessing lodged declarations: rules, model, random control, exploration → stored decisions.

One call per batch of newly stored declarations, inside the caller's unit of work: the lane
decisions are written in the same transaction as the declarations, and a ``LaneAssigned`` event
per declaration is published (to the log and the ledger) once it commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.db import insert_returning_ids, inserted_ids
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.store import Stored
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.risk.events import LaneAssigned
from smartcustoms.risk.items import prepared_items
from smartcustoms.risk.registry import ActiveModel, active_model
from smartcustoms.risk.rulebook import ActiveRule, active_rules
from smartcustoms.risk.selectivity import (
    Decision,
    Policy,
    decide,
    declaration_scores,
    document_digest,
    riskiest_items,
    threshold,
)
from smartcustoms.risk.tables import LaneDecisionRow

__all__ = ["Scored", "assess", "decide_lanes", "decisions_for", "score_lanes", "store_decisions"]


# The newly stored declarations, read back in id order; built once (lodging runs it on every
# request, and building the statement cost more than running it).
_DOCUMENTS = (
    select(DeclarationRow.id, DeclarationRow.document, DeclarationRow.received_at)
    .where(DeclarationRow.id.in_(bindparam("ids", expanding=True)))
    .order_by(DeclarationRow.id)
)


def _decimal(value: float | None) -> str | None:
    return None if value is None else str(Decimal(repr(value)).quantize(Decimal("0.000001")))


def assess(
    ctx: AppContext, unit: Unit, stored: Sequence[Stored], *, actor: str
) -> list[LaneDecisionRow]:
    """Decide lanes for the newly created declarations in ``stored``; return every decision,
    the existing ones for declarations that were already lodged."""
    session = unit.session
    new = [s for s in stored if s.created]
    decisions: dict[int, LaneDecisionRow] = {}
    if new:
        ids = [s.id for s in new]
        rows = session.execute(_DOCUMENTS, {"ids": ids}).all()
        documents = {r.id: r.document for r in rows}
        made = decide_lanes(
            ctx, session, [(r.id, r.document, r.received_at) for r in rows], below=min(ids)
        )
        decisions.update(store_decisions(unit, made, documents, actor=actor))
    known = [s.id for s in stored if not s.created]
    if known:
        for row in decisions_for(unit, known):
            decisions[row.declaration_id] = row
    return [decisions[s.id] for s in stored if s.id in decisions]


@dataclass(frozen=True)
class Scored:
    """Declarations scored, explained and their rules evaluated: everything a lane decision
    needs but the draws (random control, exploration), which depend on the declaration ids."""

    declaration_ids: list[int]
    item_declarations: list[int]
    policy: Policy
    rules: list[ActiveRule]
    rule_hits: dict[str, Any]
    probabilities: np.ndarray | None
    explanations: dict[int, dict[str, Any]]
    active: ActiveModel | None
    cut: float | None
    lower_cut: float | None

    @property
    def rules_read_ids(self) -> bool:
        """Whether a rule may test the declaration id (then its hits hold for these ids only)."""
        return any("declaration_id" in rule.expression.text for rule in self.rules)

    def decide(self, secret: str, ids: Sequence[int] | None = None) -> list[Decision]:
        """The decisions, for ``ids`` (in the same order) in place of the ids scored under."""
        declaration_ids, item_declarations = self.declaration_ids, self.item_declarations
        if ids is not None:
            to = dict(zip(self.declaration_ids, ids, strict=True))
            declaration_ids = list(ids)
            item_declarations = [to[d] for d in item_declarations]
        return decide(
            declaration_ids,
            item_declarations,
            policy=self.policy,
            secret=secret,
            rules=self.rules,
            rule_hits=self.rule_hits,
            probabilities=self.probabilities,
            explanations=self.explanations,
            active=self.active,
            cut=self.cut,
            lower_cut=self.lower_cut,
        )


def decide_lanes(
    ctx: AppContext,
    session: Session,
    rows: Sequence[tuple[int, dict[str, Any], datetime]],
    *,
    below: int,
) -> list[Decision]:
    """The lane decisions of the declarations ``rows`` (id, stored document, received at, in
    id order), with the model caught up on what was stored before id ``below``."""
    return score_lanes(ctx, session, rows, below=below).decide(ctx.secret_key)


def score_lanes(
    ctx: AppContext,
    session: Session,
    rows: Sequence[tuple[int, dict[str, Any], datetime]],
    *,
    below: int,
) -> Scored:
    """Score, explain and evaluate the rules on ``rows`` (as :func:`decide_lanes`). It only
    reads ``session``: lodging runs it before its write transaction
    (:mod:`smartcustoms.risk.lodging`), with the ids the declarations are expected to get."""
    items = prepared_items(rows)
    item_declarations = [int(d) for d in items.column("declaration_id")]
    rules = active_rules(session)
    rule_hits = {rule.ref: rule.expression.evaluate(items) for rule in rules}
    policy = Policy.from_settings(ctx.settings)
    with active_model(ctx.db, session, below_declaration_id=below, in_background=True) as active:
        probabilities = None
        explanations: dict[int, dict[str, Any]] = {}
        cut = lower = None
        if active is not None:
            # Reasons come from each declaration's riskiest item: explaining only those
            # (SHAP values cost about a millisecond per item) keeps lodging fast.
            probabilities, explained = active.model.score_and_explain(
                items, lambda p: riskiest_items(item_declarations, p), top=3
            )
            explanations = {row: e.to_dict() for row, e in explained.items()}
            pool = np.concatenate(
                [
                    active.recent_scores(session),
                    declaration_scores(item_declarations, probabilities),
                ]
            )
            cut = threshold(active, pool, policy.inspection_share)
            lower = threshold(active, pool, min(1.0, 2 * policy.inspection_share))
        return Scored(
            declaration_ids=[row[0] for row in rows],
            item_declarations=item_declarations,
            policy=policy,
            rules=list(rules),
            rule_hits=rule_hits,
            probabilities=probabilities,
            explanations=explanations,
            active=active,
            cut=cut,
            lower_cut=lower,
        )


def store_decisions(
    unit: Unit, made: Sequence[Decision], documents: dict[int, dict[str, Any]], *, actor: str
) -> dict[int, LaneDecisionRow]:
    """Write ``made`` in ``unit`` and emit a ``LaneAssigned`` event for each; return the rows
    by declaration id. ``documents`` are the declarations' stored documents, by id.

    The rows are inserted with one Core statement and then put in the session as if loaded
    (persistent, nothing left to flush): the ORM's unit of work cost a lodging more CPU than
    the insert, and the caller still gets rows it can read, or change and flush."""
    if not made:
        return {}
    now = clock.now()
    values = [_values(decision, now) for decision in made]
    ids = inserted_ids(unit.session, _INSERT_DECISIONS, values)
    rows: dict[int, LaneDecisionRow] = {}
    for decision, row_values, row_id in zip(made, values, ids, strict=True):
        row = LaneDecisionRow(id=row_id, **row_values)
        make_transient_to_detached(row)
        unit.session.add(row)
        set_committed_value(row, "inspection", None)  # a new decision has none: no query
        rows[decision.declaration_id] = row
        unit.emit(_event(decision, documents[decision.declaration_id], actor))
    return rows


def _values(decision: Decision, now: datetime) -> dict[str, Any]:
    return {
        "declaration_id": decision.declaration_id,
        "lane": decision.lane.value,
        "score": decision.score,
        "threshold": decision.threshold,
        "model_version": decision.model_version,
        "rules_fired": decision.rules_fired,
        "reasons": decision.reasons,
        "random_control": decision.random_control,
        "exploration": decision.exploration,
        "decided_at": now,
        "overridden_lane": None,
    }


_INSERT_DECISIONS = insert_returning_ids(LaneDecisionRow)


def _event(decision: Decision, document: dict[str, object], actor: str) -> LaneAssigned:
    return LaneAssigned(
        actor=actor,
        declaration_id=decision.declaration_id,
        document_sha256=document_digest(document),
        lane=decision.lane.value,
        score=_decimal(decision.score),
        threshold=_decimal(decision.threshold),
        model_version=decision.model_version,
        rules=tuple(decision.rules_fired),
        random_control=decision.random_control,
        exploration=decision.exploration,
    )


def decisions_for(unit: Unit, declaration_ids: Sequence[int]) -> list[LaneDecisionRow]:
    return list(
        unit.session.scalars(
            select(LaneDecisionRow).where(LaneDecisionRow.declaration_id.in_(declaration_ids))
        )
    )
