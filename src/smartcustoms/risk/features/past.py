"""Leak-free features for a training table: each row sees only declarations of earlier days.

Scoring a training row with the history of the whole table would let the row's own label, and
later labels, into its features: the model would learn from a future it will never have. Here
every count is a cumulative sum over strictly earlier days (a day's declarations do not see each
other, because their results are not known on the day they are lodged). The computation is
vectorised per group: sort by (key, day), sum per (key, day), then take exclusive cumulative sums
within each key.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment

from smartcustoms.risk.features.groups import GROUPS
from smartcustoms.risk.features.history import HistoryState, outcome_array
from smartcustoms.risk.features.keys import field_codes, group_keys
from smartcustoms.risk.features.stats import GroupCounts, PastStats
from smartcustoms.risk.features.unit_value import past_peer_summary
from smartcustoms.risk.schema import PreparedItems, prepare_items

__all__ = ["past_stats"]


def _past_counts(
    keys: np.ndarray, day: np.ndarray, inspected: np.ndarray, irregular: np.ndarray
) -> GroupCounts:
    n = len(keys)
    order = np.lexsort((day, keys))
    k, d = keys[order], day[order]
    new_pair = np.r_[True, (k[1:] != k[:-1]) | (d[1:] != d[:-1])]
    pair = np.cumsum(new_pair) - 1
    n_pairs = int(pair[-1]) + 1 if n else 0
    pair_key, pair_day = k[new_pair], d[new_pair]
    key_start = np.r_[True, pair_key[1:] != pair_key[:-1]] if n_pairs else np.empty(0, bool)
    key_id = np.cumsum(key_start) - 1

    def earlier(weights: np.ndarray) -> np.ndarray:
        per_pair = np.bincount(pair, weights=weights[order], minlength=n_pairs)
        before = np.cumsum(per_pair) - per_pair
        return np.asarray(before - before[key_start][key_id])

    seen = earlier(np.ones(n))
    last = np.r_[np.nan, pair_day[:-1].astype(np.float64)] if n_pairs else np.empty(0)
    last[key_start] = np.nan

    def rows(per_pair: np.ndarray) -> np.ndarray:
        out = np.empty(n)
        out[order] = per_pair[pair]
        return out

    return GroupCounts(rows(seen), rows(earlier(inspected)), rows(earlier(irregular)), rows(last))


def past_stats(
    items: pd.DataFrame | PreparedItems, outcomes: npt.ArrayLike | None
) -> tuple[PastStats, HistoryState]:
    """Past-only statistics of every row, and the state after the whole table.

    ``outcomes`` holds 1 (irregular), 0 (compliant) or NaN (not inspected) per row. The
    statistics of a row depend only on rows of strictly earlier days, whatever the order of the
    table; the returned state equals :meth:`HistoryState.from_history` on the same data.
    """
    prepared = prepare_items(items)
    y = outcome_array(outcomes, len(prepared))
    state = HistoryState.from_history(prepared, y)
    codes = field_codes(state.vocabularies, prepared)
    day = prepared.column("day")
    inspected = np.isfinite(y).astype(np.float64)
    irregular = np.nan_to_num(y, nan=0.0)
    groups = {g.name: _past_counts(group_keys(codes, g), day, inspected, irregular) for g in GROUPS}
    total = _past_counts(np.zeros(len(day), dtype=np.int64), day, inspected, irregular)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_uv = np.log(prepared.column("unit_value"))
    peers = past_peer_summary(codes["hs6"], day, log_uv)
    stats = PastStats(
        groups=groups,
        total_inspected=total.inspected,
        total_irregular=total.irregular,
        unit_value_peers=peers,
    )
    return stats, state
