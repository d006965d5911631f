"""Declared unit value (price per kg) against the distribution of earlier HS6 peers.

Undervaluation shows as a unit value far below what others declare for the same subheading.
The comparison uses log unit values and a robust z-score, ``(x - median) / (IQR / 1.349)``, so a
few absurd declarations cannot drag the reference. The IQR is used instead of the MAD because
it is read straight off a sorted list, which keeps the time-ordered training pass cheap.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["MIN_PEERS", "PeerSummary", "UnitValuePeers", "past_peer_summary", "robust_z"]

MIN_PEERS = 3
# Floor of the robust scale in log units: identical peers (IQR 0) must not give infinite z.
SCALE_FLOOR = 0.05
_IQR_TO_SIGMA = 1.349

PeerSummary = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
"""Per row: number of peers, first quartile, median, third quartile (log unit values)."""


def _quantile(ordered: Sequence[float], q: float) -> float:
    # Same linear interpolation as numpy's default, written out so that the training pass
    # (Python lists) and the serving state (numpy arrays) give bit-identical results.
    pos = q * (len(ordered) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return float(ordered[lo]) + (float(ordered[hi]) - float(ordered[lo])) * (pos - lo)


def _summary(ordered: Sequence[float]) -> tuple[float, float, float, float]:
    if not ordered:
        return 0.0, math.nan, math.nan, math.nan
    return (
        float(len(ordered)),
        _quantile(ordered, 0.25),
        _quantile(ordered, 0.5),
        _quantile(ordered, 0.75),
    )


def robust_z(log_uv: np.ndarray, summary: PeerSummary) -> np.ndarray:
    """Robust z-score of each log unit value; NaN without a value or with too few peers."""
    n, q1, med, q3 = summary
    scale = np.maximum((q3 - q1) / _IQR_TO_SIGMA, SCALE_FLOOR)
    with np.errstate(invalid="ignore"):
        z = (log_uv - med) / scale
    z[(n < MIN_PEERS) | ~np.isfinite(log_uv)] = np.nan
    return z


def past_peer_summary(codes: np.ndarray, day: np.ndarray, log_uv: np.ndarray) -> PeerSummary:
    """For each row, the summary of peers with the same code declared on an earlier day."""
    n_rows = len(codes)
    out = [np.zeros(n_rows), *(np.full(n_rows, np.nan) for _ in range(3))]
    order = np.lexsort((day, codes))
    codes_o, day_o, luv_o = codes[order], day[order], log_uv[order]
    # Boundaries of runs of equal (code, day): every row in a run sees the same past.
    starts = np.flatnonzero(np.r_[True, (codes_o[1:] != codes_o[:-1]) | (day_o[1:] != day_o[:-1])])
    ends = np.r_[starts[1:], n_rows]
    peers: list[float] = []
    current = None
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if codes_o[s] != current:
            current, peers = codes_o[s], []
        stats = _summary(peers)
        rows = order[s:e]
        for arr, value in zip(out, stats, strict=True):
            arr[rows] = value
        for v in luv_o[s:e]:
            if math.isfinite(v):
                bisect.insort(peers, float(v))
    return out[0], out[1], out[2], out[3]


class UnitValuePeers:
    """Sorted log unit values per HS6 code, with their summaries ready for lookup."""

    def __init__(self) -> None:
        self._values: dict[int, np.ndarray] = {}
        self._summary = np.zeros((0, 4))

    def _ensure(self, size: int) -> None:
        if size > len(self._summary):
            grown = np.zeros((size, 4))
            grown[:, 1:] = np.nan
            grown[: len(self._summary)] = self._summary
            self._summary = grown

    def add(self, codes: np.ndarray, log_uv: np.ndarray) -> None:
        """Add the finite values under their codes (codes must be known, i.e. >= 0)."""
        keep = np.isfinite(log_uv) & (codes >= 0)
        codes, log_uv = codes[keep], log_uv[keep]
        if not len(codes):
            return
        self._ensure(int(codes.max()) + 1)
        order = np.argsort(codes, kind="stable")
        codes, log_uv = codes[order], log_uv[order]
        cuts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True])
        for s, e in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
            code = int(codes[s])
            merged = np.sort(np.concatenate([self._values.get(code, np.empty(0)), log_uv[s:e]]))
            self._values[code] = merged
            self._summary[code] = _summary(merged.tolist())

    def lookup(self, codes: np.ndarray) -> PeerSummary:
        """The peer summary for each code; no peers for unknown codes."""
        self._ensure(1)
        known = (codes >= 0) & (codes < len(self._summary))
        rows = self._summary[np.where(known, codes, 0)]
        rows[~known] = (0.0, np.nan, np.nan, np.nan)
        return rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]

    def to_arrays(self) -> dict[str, np.ndarray]:
        codes = np.array(sorted(self._values), dtype=np.int64)
        lengths = np.array([len(self._values[c]) for c in codes], dtype=np.int64)
        values = np.concatenate([self._values[c] for c in codes]) if len(codes) else np.empty(0)
        return {"codes": codes, "lengths": lengths, "values": values}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> UnitValuePeers:
        peers = cls()
        codes, lengths, values = arrays["codes"], arrays["lengths"], arrays["values"]
        if len(codes):
            peers._ensure(int(codes.max()) + 1)
        offsets = np.r_[0, np.cumsum(lengths)]
        for code, s, e in zip(
            codes.tolist(), offsets[:-1].tolist(), offsets[1:].tolist(), strict=True
        ):
            peers._values[code] = values[s:e].copy()
            peers._summary[code] = _summary(peers._values[code].tolist())
        return peers
