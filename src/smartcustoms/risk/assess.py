"""Assessing lodged declarations: rules, model, random control, exploration → stored decisions.

One call per batch of newly stored declarations, inside the caller's unit of work: the lane
decisions are written in the same transaction as the declarations, and a ``LaneAssigned`` event
per declaration is published (to the log and the ledger) once it commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.store import Stored
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.risk.events import LaneAssigned
from smartcustoms.risk.items import prepared_items
from smartcustoms.risk.registry import active_model
from smartcustoms.risk.rulebook import active_rules
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

__all__ = ["assess", "decisions_for"]


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
        items = prepared_items((r.id, r.document, r.received_at) for r in rows)
        item_declarations = [int(d) for d in items.column("declaration_id")]
        rules = active_rules(session)
        rule_hits = {rule.ref: rule.expression.evaluate(items) for rule in rules}
        policy = Policy.from_settings(ctx.settings)
        with active_model(
            ctx.db, session, below_declaration_id=min(ids), in_background=True
        ) as active:
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
            made = decide(
                [r.id for r in rows],
                item_declarations,
                policy=policy,
                secret=ctx.secret_key,
                rules=rules,
                rule_hits=rule_hits,
                probabilities=probabilities,
                explanations=explanations,
                active=active,
                cut=cut,
                lower_cut=lower,
            )
        now = clock.now()
        for decision in made:
            row = _store(decision, now)
            session.add(row)
            decisions[decision.declaration_id] = row
            unit.emit(_event(decision, documents[decision.declaration_id], actor))
        session.flush()
    known = [s.id for s in stored if not s.created]
    if known:
        for row in decisions_for(unit, known):
            decisions[row.declaration_id] = row
    return [decisions[s.id] for s in stored if s.id in decisions]


def _store(decision: Decision, now: datetime) -> LaneDecisionRow:
    return LaneDecisionRow(
        declaration_id=decision.declaration_id,
        lane=decision.lane.value,
        score=decision.score,
        threshold=decision.threshold,
        model_version=decision.model_version,
        rules_fired=decision.rules_fired,
        reasons=decision.reasons,
        random_control=decision.random_control,
        exploration=decision.exploration,
        decided_at=now,
    )


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
