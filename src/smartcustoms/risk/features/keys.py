"""Stable integer codes for field values, packed into one 64-bit key per group.

Strings are looked up once per batch and every group key is then built with shifts and ors,
which keeps batch scoring fast (no string concatenation per group and row).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment

from smartcustoms.core.errors import ConfigurationError
from smartcustoms.risk.features.groups import KEY_BITS, Group
from smartcustoms.risk.schema import PreparedItems

__all__ = ["Vocabulary", "field_codes", "group_keys", "group_keys_few"]

UNKNOWN = -1
_SMALL = 64  # batches up to this size take the per-value path


class Vocabulary:
    """Codes 0, 1, 2 … for the values of one field, in order of first appearance.

    A code never changes once given, so stored histories stay valid as new values arrive.
    """

    def __init__(self, field: str, values: Iterable[str] = ()) -> None:
        self.field = field
        self._values: list[str] = []
        self._lookup: dict[str, int] = {}
        # A hash index for large lookups, built when one comes and rebuilt only when the
        # vocabulary has grown since: extending it (every catch-up brings new traders) costs
        # the new values, not the whole vocabulary.
        self._index: pd.Index | None = None
        self.extend(np.asarray(list(values), dtype=object))

    @property
    def values(self) -> list[str]:
        return list(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def _dict_codes(self, values: np.ndarray) -> np.ndarray:
        get = self._lookup.get
        return np.fromiter((get(v, UNKNOWN) for v in values), dtype=np.int64, count=len(values))

    def codes(self, values: np.ndarray) -> np.ndarray:
        """The code of each value, ``-1`` for a value never seen."""
        if not self._values:
            return np.full(len(values), UNKNOWN, dtype=np.int64)
        if len(values) <= _SMALL:
            # A dict beats building a hash lookup over the index for a handful of values.
            return self._dict_codes(values)
        index = self._index
        if index is None or len(index) != len(self._values):
            index = self._index = pd.Index(self._values[:], dtype=object)
        return np.asarray(index.get_indexer(values), dtype=np.int64)

    def extend(self, values: np.ndarray) -> np.ndarray:
        """Give codes to unseen values, then return the codes of all ``values``."""
        codes = self._dict_codes(values)
        fresh = pd.unique(values[codes == UNKNOWN])
        if len(fresh):
            capacity = (1 << KEY_BITS[self.field]) - 1
            if len(self._values) + len(fresh) > capacity:
                raise ConfigurationError(
                    f"more than {capacity} distinct values of {self.field}: "
                    "widen KEY_BITS in smartcustoms.risk.features.groups"
                )
            start = len(self._values)
            added = [str(v) for v in fresh]
            # The dict first: a reader meanwhile finds a code whose value it has not counted.
            self._lookup.update((v, start + i) for i, v in enumerate(added))
            self._values.extend(added)
            codes = self._dict_codes(values)
        return codes


def group_keys(codes: Mapping[str, np.ndarray], group: Group) -> np.ndarray:
    """One int64 key per row for ``group``; ``-1`` where any field's value is unknown."""
    key = np.zeros(len(codes[group.fields[0]]), dtype=np.int64)
    unknown = np.zeros(len(key), dtype=bool)
    for field in group.fields:
        code = codes[field]
        unknown |= code < 0
        key = (key << KEY_BITS[field]) | np.where(code < 0, 0, code)
    key[unknown] = UNKNOWN
    return key


def group_keys_few(codes: Mapping[str, list[int]], group: Group) -> list[int]:
    """:func:`group_keys` for a few rows given as plain lists: on a lodging's handful of rows,
    numpy's cost per call was most of the work (the same shifts and ors, in Python integers;
    a group's key fits in 63 bits)."""
    columns = [(codes[field], KEY_BITS[field]) for field in group.fields]
    keys = []
    for row in range(len(columns[0][0])):
        key = 0
        for values, bits in columns:
            code = values[row]
            if code < 0:
                key = UNKNOWN
                break
            key = (key << bits) | code
        keys.append(key)
    return keys


def field_codes(
    vocabularies: Mapping[str, Vocabulary], items: PreparedItems, *, extend: bool = False
) -> dict[str, np.ndarray]:
    """The vocabulary code of every key field of every row (``extend`` adds unseen values)."""
    out: dict[str, np.ndarray] = {}
    for field, vocab in vocabularies.items():
        row_codes, uniques = items.factors[field]
        unique_codes = vocab.extend(uniques) if extend else vocab.codes(uniques)
        out[field] = unique_codes[row_codes] if len(row_codes) else np.empty(0, dtype=np.int64)
    return out
