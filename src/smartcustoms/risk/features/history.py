"""The serving state: what has been seen and found so far, ready to score new declarations.

A :class:`HistoryState` is fitted once from stored history (:meth:`HistoryState.from_history`),
then kept current: :meth:`~HistoryState.observe` when declarations arrive, and
:meth:`~HistoryState.record` when inspection results come back. Scoring a batch reads it
(:meth:`~HistoryState.stats`) without changing it. It serialises to a NumPy ``.npz`` archive
loaded with ``allow_pickle=False``, so a stored state cannot run code.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.features.groups import GROUPS, KEY_FIELDS
from smartcustoms.risk.features.keys import UNKNOWN, Vocabulary, field_codes, group_keys
from smartcustoms.risk.features.stats import GroupCounts, PastStats
from smartcustoms.risk.features.unit_value import UnitValuePeers
from smartcustoms.risk.schema import PreparedItems, prepare_items

__all__ = ["HistoryState", "outcome_array"]

_FORMAT = "smartcustoms.risk.history/1"
_SMALL_BATCH = 256


def outcome_array(outcomes: npt.ArrayLike | None, n_rows: int) -> np.ndarray:
    """Inspection outcomes as floats: 1 irregular, 0 compliant, NaN not (yet) inspected."""
    if outcomes is None:
        return np.full(n_rows, np.nan)
    arr = pd.to_numeric(pd.Series(np.asarray(outcomes).ravel()), errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    if len(arr) != n_rows:
        raise ValidationFailed(
            f"{len(arr)} outcomes for {n_rows} items",
            details=[{"field": "outcomes", "reason": "length differs from items"}],
        )
    bad = np.isfinite(arr) & (arr != 0) & (arr != 1)
    bad |= np.isinf(arr)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValidationFailed(
            f"outcomes: expected 0, 1 or missing, got {arr[first]!r} at row {first}",
            details=[{"field": "outcomes", "row": first, "reason": "expected 0, 1 or missing"}],
        )
    return np.asarray(arr, dtype=np.float64)


class _Snapshot:
    """One consistent version of a group's table; never changed once built."""

    __slots__ = ("index", "keys", "rows")

    def __init__(self, keys: np.ndarray, rows: np.ndarray) -> None:
        self.keys = keys
        # One row per key (seen, inspected, irregular, last day) and a last row for "never
        # seen", so a lookup is a single gather.
        self.rows = rows
        self.index: pd.Index | None = None


class _GroupTable:
    """Counts per group key, sorted by key for vectorised lookup.

    Updates build a new snapshot and swap it in with one assignment, so a scoring thread that
    runs while another thread records results reads either the old or the new table, never a
    mixture of the two.
    """

    ARRAYS = ("keys", "seen", "inspected", "irregular", "last_day")
    __slots__ = ("_data",)

    def __init__(self) -> None:
        self.set_arrays(
            {
                "keys": np.empty(0, dtype=np.int64),
                "seen": np.empty(0),
                "inspected": np.empty(0),
                "irregular": np.empty(0),
                "last_day": np.empty(0),
            }
        )

    def arrays(self) -> dict[str, np.ndarray]:
        data = self._data
        cols = data.rows[:-1]
        return {
            "keys": data.keys,
            "seen": cols[:, 0].copy(),
            "inspected": cols[:, 1].copy(),
            "irregular": cols[:, 2].copy(),
            "last_day": cols[:, 3].copy(),
        }

    def set_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        rows = np.column_stack(
            [
                np.r_[arrays["seen"], 0.0],
                np.r_[arrays["inspected"], 0.0],
                np.r_[arrays["irregular"], 0.0],
                np.r_[arrays["last_day"], np.nan],
            ]
        )
        self._data = _Snapshot(np.asarray(arrays["keys"], dtype=np.int64), rows)

    def add(
        self,
        keys: np.ndarray,
        seen: np.ndarray,
        inspected: np.ndarray,
        irregular: np.ndarray,
        last_day: np.ndarray,
    ) -> None:
        old = self.arrays()
        keep = keys != UNKNOWN
        uniq, inverse = np.unique(np.concatenate([old["keys"], keys[keep]]), return_inverse=True)
        size = len(uniq)

        def total(name: str, new: np.ndarray) -> np.ndarray:
            weights = np.concatenate([old[name], new[keep]])
            return np.bincount(inverse, weights=weights, minlength=size)

        latest = np.full(size, -np.inf)
        np.fmax.at(latest, inverse, np.concatenate([old["last_day"], last_day[keep]]))
        latest[np.isinf(latest)] = np.nan
        self.set_arrays(
            {
                "keys": uniq,
                "seen": total("seen", seen),
                "inspected": total("inspected", inspected),
                "irregular": total("irregular", irregular),
                "last_day": latest,
            }
        )

    def lookup(self, keys: np.ndarray) -> GroupCounts:
        data = self._data  # read once: a concurrent update swaps in a new snapshot
        missing = len(data.keys)
        if not missing:
            pos = np.zeros(len(keys), dtype=np.int64)
        elif len(keys) <= _SMALL_BATCH:
            # Binary search on the sorted keys: no per-call setup, best for a few rows.
            pos = np.minimum(np.searchsorted(data.keys, keys), missing - 1)
            pos[(data.keys[pos] != keys) | (keys == UNKNOWN)] = missing
        else:
            if data.index is None:
                # A hash index: several times faster than binary search on large batches.
                data.index = pd.Index(data.keys)
            pos = np.asarray(data.index.get_indexer(keys))
            pos[pos < 0] = missing
        rows = data.rows[pos]
        return GroupCounts(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3])


class HistoryState:
    """Counts of declarations, inspections and irregularities per group, and unit-value peers.

    Score from many threads, but apply updates from one at a time: a scoring call running
    beside an update sees each group's counts either before or after it (groups are swapped one
    by one, so a batch may see some groups updated and others not yet), and never fails.
    """

    def __init__(self) -> None:
        self.vocabularies = {f: Vocabulary(f) for f in KEY_FIELDS}
        self._tables = {g.name: _GroupTable() for g in GROUPS}
        self._peers = UnitValuePeers()
        self.total_seen = 0.0
        self.total_inspected = 0.0
        self.total_irregular = 0.0
        self.last_day: int | None = None

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def from_history(
        cls, items: pd.DataFrame | PreparedItems, outcomes: npt.ArrayLike | None = None
    ) -> HistoryState:
        """A state holding every declaration in ``items`` and every known outcome."""
        state = cls()
        state.update(items, outcomes)
        return state

    def update(
        self, items: pd.DataFrame | PreparedItems, outcomes: npt.ArrayLike | None = None
    ) -> None:
        """Observe the declarations, and record the outcomes that are known (not NaN)."""
        prepared = prepare_items(items)
        y = outcome_array(outcomes, len(prepared))
        self._add(prepared, seen=np.ones(len(prepared)), outcomes=y)

    def observe(self, items: pd.DataFrame | PreparedItems) -> None:
        """Count newly lodged declarations (no outcome yet)."""
        self.update(items, None)

    def record(self, items: pd.DataFrame | PreparedItems, outcomes: npt.ArrayLike) -> None:
        """Record inspection results of declarations already observed.

        The declarations themselves are not counted again; rows with a NaN outcome are ignored.
        """
        prepared = prepare_items(items)
        y = outcome_array(outcomes, len(prepared))
        known = np.isfinite(y)
        self._add(prepared.take(known), seen=np.zeros(int(known.sum())), outcomes=y[known])

    def _add(self, items: PreparedItems, *, seen: np.ndarray, outcomes: np.ndarray) -> None:
        frame = items.frame
        codes = field_codes(self.vocabularies, items, extend=True)
        inspected = np.isfinite(outcomes).astype(np.float64)
        irregular = np.nan_to_num(outcomes, nan=0.0)
        day = frame["day"].to_numpy(dtype=np.float64)
        # A result recorded without a new declaration must not move "last seen".
        last = np.where(seen > 0, day, np.nan)
        for group in GROUPS:
            self._tables[group.name].add(group_keys(codes, group), seen, inspected, irregular, last)
        if seen.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                log_uv = np.log(frame["unit_value"].to_numpy(dtype=np.float64))
            self._peers.add(codes["hs6"][seen > 0], log_uv[seen > 0])
            latest = int(day[seen > 0].max())
            self.last_day = latest if self.last_day is None else max(self.last_day, latest)
        self.total_seen += float(seen.sum())
        self.total_inspected += float(inspected.sum())
        self.total_irregular += float(irregular.sum())

    # -- reading ----------------------------------------------------------------------------
    def stats(self, items: pd.DataFrame | PreparedItems) -> PastStats:
        """The past of each item as this state knows it (the state is not changed)."""
        prepared = prepare_items(items)
        n = len(prepared)
        codes = field_codes(self.vocabularies, prepared)
        groups = {g.name: self._tables[g.name].lookup(group_keys(codes, g)) for g in GROUPS}
        return PastStats(
            groups=groups,
            total_inspected=np.full(n, self.total_inspected),
            total_irregular=np.full(n, self.total_irregular),
            unit_value_peers=self._peers.lookup(codes["hs6"]),
        )

    def counts(self, group: str, values: Mapping[str, str]) -> GroupCounts:
        """The counts for one value of one group, e.g. ``("hs6_origin", {"hs6": …, …})``."""
        spec = next((g for g in GROUPS if g.name == group), None)
        if spec is None:
            raise ValidationFailed(
                f"unknown history group {group!r}",
                details=[{"field": "group", "reason": "unknown"}],
            )
        codes = {
            f: self.vocabularies[f].codes(np.array([values.get(f, "")], dtype=object))
            for f in spec.fields
        }
        return self._tables[group].lookup(group_keys(codes, spec))

    # -- storage ----------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The state as a compressed ``.npz`` archive (no pickled objects)."""
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, Any] = {
            "format": _FORMAT,
            "total_seen": self.total_seen,
            "total_inspected": self.total_inspected,
            "total_irregular": self.total_irregular,
            "last_day": self.last_day,
        }
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        for field, vocab in self.vocabularies.items():
            arrays[f"vocab/{field}"] = np.array(vocab.values, dtype=str)
        for name, table in self._tables.items():
            for attr, values in table.arrays().items():
                arrays[f"group/{name}/{attr}"] = values
        for key, arr in self._peers.to_arrays().items():
            arrays[f"peers/{key}"] = arr
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)  # type: ignore[arg-type]
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> HistoryState:
        """Load a state written by :meth:`to_bytes`."""
        try:
            with np.load(io.BytesIO(data), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            meta = json.loads(arrays["meta"].tobytes().decode())
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise ValidationFailed(
                f"not a stored history state: {exc}",
                details=[{"field": "history", "reason": "unreadable"}],
            ) from exc
        if meta.get("format") != _FORMAT:
            raise ValidationFailed(
                f"history state format {meta.get('format')!r}, expected {_FORMAT!r}",
                details=[{"field": "history.format", "reason": "unsupported"}],
            )
        state = cls()
        for field in KEY_FIELDS:
            state.vocabularies[field] = Vocabulary(field, arrays[f"vocab/{field}"].tolist())
        for group in GROUPS:
            state._tables[group.name].set_arrays(
                {attr: arrays[f"group/{group.name}/{attr}"] for attr in _GroupTable.ARRAYS}
            )
        state._peers = UnitValuePeers.from_arrays(
            {k: arrays[f"peers/{k}"] for k in ("codes", "lengths", "values")}
        )
        state.total_seen = float(meta["total_seen"])
        state.total_inspected = float(meta["total_inspected"])
        state.total_irregular = float(meta["total_irregular"])
        state.last_day = meta["last_day"]
        return state
