"""Selectivity: which lane each declaration gets, and why.

The decision combines, in this order of precedence:

1. targeting rules (approved, in force): the most intrusive lane among those that fire;
2. the model: a declaration whose riskiest item scores at or above the threshold goes red. The
   threshold is set by capacity: the score above which ``risk_inspection_share`` of recent
   declarations fall (the model's out-of-time scores until enough decisions exist);
3. random control: ``risk_random_control_share`` of declarations go red whatever their score,
   so hit rates are measured without bias;
4. exploration: declarations just below the threshold, where the model is least sure, go red
   with a probability that makes ``risk_exploration_share`` of all declarations.

Random draws are keyed on the declaration and the secret key (HMAC): reproducible for audit,
unpredictable to traders.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from smartcustoms.core.settings import Settings
from smartcustoms.risk.lanes import Lane, most_severe
from smartcustoms.risk.registry import ActiveModel
from smartcustoms.risk.rulebook import ActiveRule

__all__ = [
    "Decision",
    "Policy",
    "decide",
    "declaration_scores",
    "draw",
    "riskiest_items",
    "threshold",
]

MIN_RECENT = 200


def _reason(code: str, **params: Any) -> dict[str, Any]:
    # Code and parameters only (templates in risk.messages): rendered when shown, in the
    # reader's language.
    return {"kind": code, "code": code, "params": params}


@dataclass(frozen=True)
class Policy:
    inspection_share: float
    random_share: float
    exploration_share: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        return cls(
            settings.risk_inspection_share,
            settings.risk_random_control_share,
            settings.risk_exploration_share,
        )


@dataclass
class Decision:
    declaration_id: int
    lane: Lane
    score: float | None = None
    threshold: float | None = None
    model_version: str | None = None
    rules_fired: list[str] = field(default_factory=list)
    reasons: list[dict[str, Any]] = field(default_factory=list)
    random_control: bool = False
    exploration: bool = False


def draw(secret: str, declaration_id: int, purpose: str) -> float:
    """A uniform number in [0, 1) fixed by the declaration, the purpose and the secret key."""
    digest = hmac.new(secret.encode(), f"{purpose}:{declaration_id}".encode(), hashlib.sha256)
    return int.from_bytes(digest.digest()[:8], "big") / 2**64


def _quantile_from_card(active: ActiveModel, q: float) -> float | None:
    table = active.card.evaluation.get("holdout_score_quantiles") or {}
    if not table:
        return None
    points = sorted((float(k), float(v)) for k, v in table.items())
    xs, ys = zip(*points, strict=True)
    return float(np.interp(q, xs, ys))


def threshold(active: ActiveModel, pool: np.ndarray, share: float) -> float | None:
    """The score above which ``share`` of the declarations in ``pool`` fall (recent decisions
    and the batch being decided); the model's out-of-time scores while the pool is small."""
    if len(pool) >= MIN_RECENT:
        return float(np.quantile(pool, 1 - share))
    return _quantile_from_card(active, 1 - share)


def decide(
    declaration_ids: Sequence[int],
    item_declarations: Sequence[int],
    *,
    policy: Policy,
    secret: str,
    rules: Sequence[ActiveRule],
    rule_hits: dict[str, np.ndarray],
    probabilities: np.ndarray | None,
    explanations: Mapping[int, dict[str, Any]],
    active: ActiveModel | None,
    cut: float | None,
    lower_cut: float | None,
) -> list[Decision]:
    """One decision per declaration from per-item rule hits and model probabilities.

    ``item_declarations[i]`` is the declaration of item row ``i``; ``explanations`` holds the
    model reasons of each declaration's riskiest item, by row. ``cut`` is the threshold,
    ``lower_cut`` the bottom of the exploration band.
    """
    rows_of: dict[int, list[int]] = {d: [] for d in declaration_ids}
    for row, declaration in enumerate(item_declarations):
        rows_of[declaration].append(row)
    by_ref = {r.ref: r for r in rules}
    decisions = []
    for declaration in declaration_ids:
        rows = rows_of[declaration]
        decision = Decision(declaration, Lane.GREEN)
        lanes: list[Lane] = []
        for ref, hits in rule_hits.items():
            if rows and bool(hits[rows].any()):
                rule = by_ref[ref]
                decision.rules_fired.append(ref)
                lanes.append(rule.lane)
                decision.reasons.append(
                    {
                        "kind": "rule",
                        "rule": ref,
                        "lane": rule.lane.value,
                        "code": "rule.fired",
                        "params": {"rule": ref, "reason": rule.reason},
                        "instructions": rule.instructions,
                    }
                )
        if probabilities is not None and active is not None and rows:
            worst = max(rows, key=lambda r: float(probabilities[r]))
            p = float(probabilities[worst])
            decision.score = p
            decision.threshold = cut
            decision.model_version = active.version
            if cut is not None and p >= cut:
                lanes.append(Lane.RED)
                decision.reasons.append(_reason("score", probability=p, threshold=cut))
            elif (
                cut is not None
                and lower_cut is not None
                and p >= lower_cut
                and policy.exploration_share > 0
                and draw(secret, declaration, "exploration")
                < policy.exploration_share / max(policy.inspection_share, 1e-9)
            ):
                lanes.append(Lane.RED)
                decision.exploration = True
                decision.reasons.append(_reason("exploration", probability=p, threshold=cut))
            if worst in explanations:
                decision.reasons.extend(explanations[worst].get("reasons", []))
        elif active is None:
            decision.reasons.append(_reason("no_model"))
        if policy.random_share > 0 and draw(secret, declaration, "random") < policy.random_share:
            lanes.append(Lane.RED)
            decision.random_control = True
            decision.reasons.append(_reason("random_control"))
        decision.lane = most_severe(lanes)
        decisions.append(decision)
    return decisions


def riskiest_items(item_declarations: Sequence[int], probabilities: np.ndarray) -> list[int]:
    """Row of each declaration's riskiest item, in order of first appearance."""
    best: dict[int, int] = {}
    for row, declaration in enumerate(item_declarations):
        if declaration not in best or probabilities[row] > probabilities[best[declaration]]:
            best[declaration] = row
    return list(best.values())


def declaration_scores(item_declarations: Sequence[int], probabilities: np.ndarray) -> np.ndarray:
    """Each declaration's score: the probability of its riskiest item."""
    best: dict[int, float] = {}
    for declaration, p in zip(item_declarations, probabilities, strict=True):
        best[declaration] = max(best.get(declaration, 0.0), float(p))
    return np.asarray(list(best.values()), dtype=float)


def document_digest(document: dict[str, Any]) -> str:
    """SHA-256 of the stored document in canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
