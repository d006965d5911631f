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
import threading
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.features.groups import GROUPS, KEY_FIELDS
from smartcustoms.risk.features.keys import (
    UNKNOWN,
    Vocabulary,
    field_codes,
    group_keys,
    group_keys_few,
)
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


class _GroupTable:
    """Counts per group key, updated in place by each batch.

    Row 0 is "never seen", so a lookup is a single gather; each key seen has a row of its own
    (seen, inspected, irregular, last day) found through ``_positions``. Adding a batch touches
    only the batch's keys: its cost grows with the batch, not with the history (the table
    used to be rebuilt from all its keys at every catch-up). Rows are written and read under
    ``_lock`` (held for a gather or a scatter, microseconds), so a scoring thread never reads
    a row half updated by the catch-up thread.
    """

    ARRAYS = ("keys", "seen", "inspected", "irregular", "last_day")
    __slots__ = ("_index", "_keys", "_lock", "_positions", "_rows", "_size")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._positions: dict[int, int] = {}
        self._size = 1  # rows in use, "never seen" included
        self._keys = np.empty(1, dtype=np.int64)  # key of each row (row 0: none)
        self._rows = np.zeros((1, 4))
        self._rows[0, 3] = np.nan
        # A hash index over the keys for large lookups, built when one comes (not on the
        # lodging path) and dropped when keys are added.
        self._index: pd.Index | None = None

    # Copied and pickled as its arrays (a lock is neither).
    def __getstate__(self) -> dict[str, np.ndarray]:
        return self.arrays()

    def __setstate__(self, state: Mapping[str, np.ndarray]) -> None:
        self.__init__()  # type: ignore[misc]
        self.set_arrays(state)

    def arrays(self) -> dict[str, np.ndarray]:
        """The table sorted by key (one canonical form, however it was built)."""
        with self._lock:
            keys = self._keys[1 : self._size].copy()
            rows = self._rows[1 : self._size].copy()
        order = np.argsort(keys, kind="stable")
        rows = rows[order]
        return {
            "keys": keys[order],
            "seen": rows[:, 0].copy(),
            "inspected": rows[:, 1].copy(),
            "irregular": rows[:, 2].copy(),
            "last_day": rows[:, 3].copy(),
        }

    def set_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        keys = np.asarray(arrays["keys"], dtype=np.int64)
        with self._lock:
            self._positions = dict(zip(keys.tolist(), range(1, len(keys) + 1), strict=True))
            self._size = len(keys) + 1
            self._keys = np.r_[np.int64(UNKNOWN), keys]
            self._rows = np.column_stack(
                [
                    np.r_[0.0, arrays["seen"]],
                    np.r_[0.0, arrays["inspected"]],
                    np.r_[0.0, arrays["irregular"]],
                    np.r_[np.nan, arrays["last_day"]],
                ]
            )
            self._index = None

    def add(
        self,
        keys: np.ndarray,
        seen: np.ndarray,
        inspected: np.ndarray,
        irregular: np.ndarray,
        last_day: np.ndarray,
    ) -> None:
        keep = keys != UNKNOWN
        # The batch summed per key first (sums of floats in one order, like a rebuild's).
        uniq, inverse = np.unique(keys[keep], return_inverse=True)
        size = len(uniq)
        if not size:
            return
        sums = np.column_stack(
            [
                np.bincount(inverse, weights=w[keep], minlength=size)
                for w in (seen, inspected, irregular)
            ]
        )
        latest = np.full(size, -np.inf)
        np.fmax.at(latest, inverse, last_day[keep])
        latest[np.isinf(latest)] = np.nan
        get = self._positions.get
        found = [get(k, 0) for k in uniq.tolist()]
        positions = np.asarray(found, dtype=np.int64)
        fresh = np.flatnonzero(positions == 0)
        with self._lock:
            if len(fresh):
                start = self._size
                needed = start + len(fresh)
                if needed > len(self._rows):  # grown by half again: amortised O(1) per key
                    capacity = max(needed, len(self._rows) * 3 // 2, 64)
                    rows = np.zeros((capacity, 4))
                    rows[:start] = self._rows[:start]
                    self._rows = rows
                    self._keys = np.resize(self._keys, capacity)
                positions[fresh] = np.arange(start, needed)
                self._rows[start:needed] = (0.0, 0.0, 0.0, np.nan)
                self._keys[start:needed] = uniq[fresh]
                self._positions.update(zip(uniq[fresh].tolist(), range(start, needed), strict=True))
                self._size = needed
                self._index = None
            rows = self._rows
            rows[positions, :3] += sums
            rows[positions, 3] = np.fmax(rows[positions, 3], latest)

    def lookup_few(self, keys: list[int]) -> GroupCounts:
        """:meth:`lookup` of a few keys given as a list (a lodging's rows)."""
        get = self._positions.get
        pos = np.fromiter([get(k, 0) for k in keys], dtype=np.int64, count=len(keys))
        with self._lock:
            rows = self._rows[pos]
        return GroupCounts(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3])

    def lookup(self, keys: np.ndarray) -> GroupCounts:
        if len(keys) <= _SMALL_BATCH:
            return self.lookup_few(keys.tolist())
        with self._lock:
            if self._index is None:
                # A hash index: several times faster than a dict walk on large batches.
                self._index = pd.Index(self._keys[1 : self._size])
            pos = np.asarray(self._index.get_indexer(keys)) + 1
            rows = self._rows[pos]
        return GroupCounts(rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3])


class HistoryState:
    """Counts of declarations, inspections and irregularities per group, and unit-value peers.

    Score from many threads, but apply updates from one at a time: a scoring call running
    beside an update sees each key's counts either before or after it (keys are updated group by
    group, so a batch may see some groups updated and others not yet), and never fails.
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
        codes = field_codes(self.vocabularies, items, extend=True)
        inspected = np.isfinite(outcomes).astype(np.float64)
        irregular = np.nan_to_num(outcomes, nan=0.0)
        day = items.column("day").astype(np.float64)
        # A result recorded without a new declaration must not move "last seen".
        last = np.where(seen > 0, day, np.nan)
        for group in GROUPS:
            self._tables[group.name].add(group_keys(codes, group), seen, inspected, irregular, last)
        if seen.any():
            with np.errstate(divide="ignore", invalid="ignore"):
                log_uv = np.log(items.column("unit_value"))
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
        if n <= _SMALL_BATCH:
            # A lodging: keys packed and looked up in plain integers, not numpy (whose cost
            # per call, a few dozen calls per group, was most of the work on a few rows).
            few = {field: c.tolist() for field, c in codes.items()}
            tables = self._tables
            groups = {g.name: tables[g.name].lookup_few(group_keys_few(few, g)) for g in GROUPS}
        else:
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
