"""Training a model on the stored history: declarations with their inspection results.

The model is first trained on the earlier part of the history and scored on the later part
(out of time), which gives its card honest figures and the score distribution that sets the
first inspection threshold. It is then trained again on the whole history and stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.events import AdminAction
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.risk.card import save_model
from smartcustoms.risk.items import items_frame
from smartcustoms.risk.metrics import inspection_curve, ranking_metrics
from smartcustoms.risk.model import RiskModel
from smartcustoms.risk.registry import CATCH_UP_CHUNK
from smartcustoms.risk.tables import InspectionRow, RiskModelRow

__all__ = ["MIN_TRAINING_ITEMS", "TrainingReport", "train_from_store"]

MIN_TRAINING_ITEMS = 200
CURVE_RATES = (0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0)
QUANTILES = (0.5, 0.8, 0.9, 0.95, 0.97, 0.98, 0.99, 0.995)


@dataclass(frozen=True)
class TrainingReport:
    version: str
    items: int
    positives: int
    evaluation: dict[str, Any]


def _history(session: Session) -> tuple[Any, np.ndarray, int, int]:
    rows = session.execute(
        select(
            DeclarationRow.id,
            DeclarationRow.document,
            DeclarationRow.received_at,
            InspectionRow.irregular,
        )
        .join(InspectionRow, InspectionRow.declaration_id == DeclarationRow.id)
        .order_by(DeclarationRow.id)
    ).all()
    frame = items_frame((r[0], r[1], r[2]) for r in rows)
    outcome = {str(r[0]): float(r[3]) for r in rows}
    y = np.array([outcome[d] for d in frame["declaration_id"]])
    through_declaration = session.scalar(select(func.max(DeclarationRow.id))) or 0
    through_inspection = session.scalar(select(func.max(InspectionRow.id))) or 0
    return frame, y, through_declaration, through_inspection


def _observe_uninspected(session: Session, model: RiskModel, through: int) -> None:
    """Declarations never inspected still count (how often an importer or HS code is seen)."""
    last = 0
    while True:
        rows = session.execute(
            select(DeclarationRow.id, DeclarationRow.document, DeclarationRow.received_at)
            .outerjoin(InspectionRow, InspectionRow.declaration_id == DeclarationRow.id)
            .where(
                InspectionRow.id.is_(None), DeclarationRow.id > last, DeclarationRow.id <= through
            )
            .order_by(DeclarationRow.id)
            .limit(CATCH_UP_CHUNK)
        ).all()
        if not rows:
            return
        model.observe(items_frame((r.id, r.document, r.received_at) for r in rows))
        last = rows[-1].id


def train_from_store(
    unit: Unit, *, actor: str, holdout_share: float = 0.2, seed: int = 0
) -> TrainingReport:
    """Train, evaluate out of time, retrain on everything, store (not activated)."""
    frame, y, through_declaration, through_inspection = _history(unit.session)
    if len(frame) < MIN_TRAINING_ITEMS or len(set(y.tolist())) < 2:
        raise ValidationFailed(
            f"need at least {MIN_TRAINING_ITEMS} inspected items with both outcomes to train; "
            f"have {len(frame)}",
            details=[{"field": "history", "problem": "too few inspection results"}],
        )
    order = np.argsort(frame["date"].to_numpy(), kind="stable")
    frame, y = frame.iloc[order].reset_index(drop=True), y[order]
    cut = int(len(frame) * (1 - holdout_share))
    early = RiskModel(random_state=seed).fit(frame.iloc[:cut], y[:cut])
    held_out = early.predict_proba(frame.iloc[cut:])[:, 1]
    figures = ranking_metrics(y[cut:], held_out) if len(set(y[cut:].tolist())) == 2 else {}
    evaluation = {
        "method": f"trained on the first {cut} items by date, "
        f"scored on the last {len(frame) - cut}",
        "holdout": {k: round(v, 4) for k, v in figures.items()},
        "holdout_curve": inspection_curve(y[cut:], held_out, CURVE_RATES) if figures else [],
        "holdout_score_quantiles": {str(q): float(np.quantile(held_out, q)) for q in QUANTILES},
    }
    model = RiskModel(random_state=seed).fit(frame, y)
    _observe_uninspected(unit.session, model, through_declaration)
    artefact, card = save_model(model, evaluation=evaluation)
    unit.session.add(
        RiskModelRow(
            version=card.version,
            created_at=clock.now(),
            created_by=actor,
            card=card.to_dict(),
            artefact=artefact,
            through_declaration_id=through_declaration,
            through_inspection_id=through_inspection,
            active=False,
        )
    )
    unit.session.flush()
    unit.emit(AdminAction(actor=actor, action="risk_model_trained", target=card.version))
    return TrainingReport(card.version, len(frame), int(y.sum()), evaluation)
