"""From past statistics to the model's feature matrix (one function for training and serving)."""

from __future__ import annotations

import numpy as np

from smartcustoms.risk.features.groups import GROUPS
from smartcustoms.risk.features.stats import PastStats
from smartcustoms.risk.features.unit_value import robust_z
from smartcustoms.risk.schema import PreparedItems

__all__ = ["FEATURE_FAMILIES", "FEATURE_NAMES", "feature_matrix", "smoothed_rate"]


def _names() -> tuple[list[str], dict[str, str]]:
    names: list[str] = []
    family: dict[str, str] = {}
    for g in GROUPS:
        cols = [f"{g.name}_rate", f"{g.name}_inspected"]
        if g.party:
            cols += [f"{g.name}_seen", f"{g.name}_days_since"]
        names += cols
        family.update(dict.fromkeys(cols, g.name))
    extra = {
        "tax_rate": "tax",
        "log_revenue_at_risk": "tax",
        "log_net_mass": "quantity",
        "log_item_price": "quantity",
        "log_unit_value": "unit_value",
        "unit_value_z": "unit_value",
    }
    names += list(extra)
    family.update(extra)
    return names, family


FEATURE_NAMES, FEATURE_FAMILIES = _names()
"""Column names of the feature matrix, and the reason family each belongs to."""


def smoothed_rate(
    irregular: np.ndarray, inspected: np.ndarray, prior: np.ndarray, strength: float
) -> np.ndarray:
    """Irregularity rate pulled towards ``prior`` by ``strength`` pseudo-inspections.

    A trader with 1 irregular inspection out of 1 is not a 100% risk; with ``strength`` 1 and a
    21% prior it scores 60%, and the count feature beside it tells the model how much to trust it.
    """
    return (irregular + strength * prior) / (inspected + strength)


def _log_positive(values: np.ndarray) -> np.ndarray:
    out = np.full(len(values), np.nan)
    np.log(values, out=out, where=values > 0)
    return out


def feature_matrix(items: PreparedItems, stats: PastStats, smoothing: float) -> np.ndarray:
    """The float64 matrix of :data:`FEATURE_NAMES` for ``items`` given their past."""
    # Plain columns: the table's DataFrame is not built for this (see PreparedItems).
    column = items.column
    n = len(items)
    day = column("day").astype(np.float64)
    # Overall irregularity rate so far (Laplace-smoothed, so an empty history gives 0.5).
    prior = (stats.total_irregular + 1.0) / (stats.total_inspected + 2.0)
    out = np.empty((n, len(FEATURE_NAMES)))
    col = 0
    for g in GROUPS:
        c = stats.groups[g.name]
        out[:, col] = smoothed_rate(c.irregular, c.inspected, prior, smoothing)
        out[:, col + 1] = c.inspected
        col += 2
        if g.party:
            out[:, col] = c.seen
            # Clipped: a batch dated before the state's last update must not get negative gaps.
            out[:, col + 1] = np.maximum(day - c.last_day, 0.0)
            col += 2
    price = column("item_price")
    revenue = column("revenue_at_risk")
    log_uv = _log_positive(column("unit_value"))
    out[:, col] = column("tax_rate")
    out[:, col + 1] = np.log1p(np.where(revenue > 0, revenue, np.where(revenue == 0, 0.0, np.nan)))
    out[:, col + 2] = _log_positive(column("net_mass"))
    out[:, col + 3] = _log_positive(price)
    out[:, col + 4] = log_uv
    out[:, col + 5] = robust_z(log_uv, stats.unit_value_peers)
    assert col + 6 == len(FEATURE_NAMES)
    return out
