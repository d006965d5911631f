"""Why a declaration scored as it did: the top reasons, in words an officer can check.

LightGBM's ``pred_contrib`` splits each raw score into one contribution per feature (SHAP
values). Features are summed by *family* (all features of the HS6 x origin history, say, or the
unit-value comparison), the families pushing the score up most become reasons, and each reason
is filled with the facts behind it: "HS 850440 from CN: 78% of 212 past inspections found an
irregularity". Facts come from the same history the features came from, so the sentence and the
score cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from smartcustoms.risk.features.groups import GROUPS
from smartcustoms.risk.features.matrix import FEATURE_FAMILIES, FEATURE_NAMES
from smartcustoms.risk.features.stats import PastStats
from smartcustoms.risk.features.unit_value import MIN_PEERS
from smartcustoms.risk.messages import render_message
from smartcustoms.risk.schema import PreparedItems

__all__ = ["FAMILIES", "Explanation", "Reason", "explain_rows", "family_contributions"]

FAMILIES: tuple[str, ...] = tuple(dict.fromkeys(FEATURE_FAMILIES[n] for n in FEATURE_NAMES))
_GROUPS = {g.name: g for g in GROUPS}

Param = str | int | float


@dataclass(frozen=True)
class Reason:
    """One reason: a message id with its parameters, and how much it raised the score."""

    code: str
    params: Mapping[str, Param]
    weight: float  # contribution to the raw log-odds score
    family: str

    def render(self, lang: str = "en") -> str:
        """The reason as a sentence in ``lang``."""
        return render_message(self.code, self.params, lang)

    def to_dict(self) -> dict[str, object]:
        # The machine form only: words are chosen when the reason is shown, in the reader's
        # language, so a new language needs no migration of stored decisions.
        return {
            "code": self.code,
            "params": dict(self.params),
            "weight": self.weight,
            "family": self.family,
        }


@dataclass(frozen=True)
class Explanation:
    """A declaration item's probability, its log-odds and the top reasons raising it.

    Reason weights are contributions to the booster's raw log-odds, before calibration.
    """

    probability: float
    score: float
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        return {
            "probability": self.probability,
            "score": self.score,
            "reasons": [r.to_dict() for r in self.reasons],
        }


# Each family's feature columns, in feature order.
_FAMILY_COLUMNS = tuple(
    tuple(i for i, name in enumerate(FEATURE_NAMES) if FEATURE_FAMILIES[name] == family)
    for family in FAMILIES
)


def family_contributions(contributions: np.ndarray) -> np.ndarray:
    """Sum per-feature contributions (bias column last, dropped) into :data:`FAMILIES` columns.

    Column by column, in feature order, not as a matrix product: BLAS picks its kernel (and so
    its order of additions) by the matrix's shape, and a declaration's reason weights must not
    depend on how many others were explained beside it."""
    out = np.zeros((contributions.shape[0], len(FAMILIES)))
    for j, columns in enumerate(_FAMILY_COLUMNS):
        total = out[:, j]
        for i in columns:
            total += contributions[:, i]
    return out


def _finite(value: float) -> float:
    return float(value) if math.isfinite(value) else 0.0


_COLUMNS = (
    *{f for g in GROUPS for f in g.fields},
    "unit_value",
    "tax_rate",
    "item_price",
    "revenue_at_risk",
    "net_mass",
)


def _reason(
    family: str, row: int, cols: Mapping[str, np.ndarray], stats: PastStats, weight: float
) -> Reason | None:
    def get(name: str) -> Any:
        return cols[name][row]

    if family in _GROUPS:
        group = _GROUPS[family]
        values = {f: str(get(f)) for f in group.fields}
        if any(v == "" for v in values.values()):
            return None  # "Seller : …" says nothing an officer can act on
        counts = stats.groups[family]
        seen, inspected = float(counts.seen[row]), float(counts.inspected[row])
        irregular = float(counts.irregular[row])
        params: dict[str, Param] = dict(values)
        if inspected > 0:
            code = f"history.{family}"
            params.update(n=int(inspected), irregular=int(irregular), rate=irregular / inspected)
        elif seen > 0:
            code = f"history.{family}.uninspected"
            params["seen"] = int(seen)
        else:
            code = f"history.{family}.new"
        return Reason(code, params, weight, family)
    if family == "unit_value":
        value = float(get("unit_value"))
        n, _, median_log, _ = (float(a[row]) for a in stats.unit_value_peers)
        if not math.isfinite(value):
            return Reason("unit_value.unknown", {}, weight, family)
        params = {"value": value, "hs6": str(get("hs6")), "n": int(n)}
        if n < MIN_PEERS:
            return Reason("unit_value.few_peers", params, weight, family)
        median = math.exp(median_log)
        params.update(median=median, ratio=value / median)
        code = "unit_value.low" if value < median else "unit_value.high"
        return Reason(code, params, weight, family)
    if family == "tax":
        params = {
            "rate": _finite(float(get("tax_rate"))),
            "price": _finite(float(get("item_price"))),
            "revenue": _finite(float(get("revenue_at_risk"))),
        }
        return Reason("tax.revenue", params, weight, family)
    params = {"mass": _finite(float(get("net_mass"))), "price": _finite(float(get("item_price")))}
    return Reason("quantity.declared", params, weight, family)


_BY_FIELDS = {frozenset(g.fields): g.name for g in GROUPS}


def _counts(stats: PastStats, group: str, row: int) -> tuple[float, float, float]:
    c = stats.groups[group]
    return float(c.seen[row]), float(c.inspected[row]), float(c.irregular[row])


def _same_evidence(a: Reason, b: Reason, stats: PastStats, row: int) -> bool:
    """Whether two history reasons rest on the same declarations.

    A narrower group's declarations are among a wider group's, so equal counts mean the same
    declarations. Two groups that are not nested share the declarations of their common fields
    when both have the counts of that common group.
    """
    if a.family not in _GROUPS or b.family not in _GROUPS:
        return False
    fa, fb = frozenset(_GROUPS[a.family].fields), frozenset(_GROUPS[b.family].fields)
    ca, cb = _counts(stats, a.family, row), _counts(stats, b.family, row)
    if fa <= fb or fb <= fa:
        return ca == cb
    common = _BY_FIELDS.get(fa & fb)
    return common is not None and ca == cb == _counts(stats, common, row)


def explain_rows(
    items: PreparedItems,
    stats: PastStats,
    contributions: np.ndarray,
    *,
    top: int = 3,
    min_weight: float = 0.0,
) -> list[tuple[Reason, ...]]:
    """The ``top`` reasons of each row: families raising the score by more than ``min_weight``.

    A history reason resting on the same inspections as one already given (a narrower or wider
    group with the same counts, as "HS 850440 from CN" and "HS 850440 from CN via CN") adds no
    evidence and is left out, so the reasons an officer reads are distinct.
    """
    by_family = family_contributions(contributions)
    # Plain arrays: row access on a DataFrame costs tens of microseconds per cell.
    cols = {name: items.column(name) for name in _COLUMNS}
    out: list[tuple[Reason, ...]] = []
    for row in range(len(items)):
        reasons: list[Reason] = []
        for j in np.argsort(-by_family[row], kind="stable"):
            weight = float(by_family[row, j])
            if weight <= min_weight or len(reasons) >= top:
                break
            reason = _reason(FAMILIES[j], row, cols, stats, weight)
            if reason is not None and not any(
                _same_evidence(reason, r, stats, row) for r in reasons
            ):
                reasons.append(reason)
        out.append(tuple(reasons))
    return out
