"""Running a parsed rule over a batch of items (vectorised) or over one declaration.

Semantics, the same on both paths (a property test holds them together):

* a missing value (empty text, NaN, no date) makes every comparison on it false, ``!=`` and
  ``not in`` included; ``not`` then turns that false into true;
* text is compared exactly as stored (identifiers stripped of surrounding spaces);
* dates compare by calendar day.

Text and date columns repeat a lot, so each predicate is computed once per distinct value and
spread to the rows with integer codes; number columns are compared with NumPy directly.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment

from smartcustoms.risk.rules.errors import RuleInputError
from smartcustoms.risk.rules.fields import FieldType
from smartcustoms.risk.rules.nodes import (
    And,
    Compare,
    FieldRef,
    InList,
    Literal,
    Node,
    Not,
    Or,
    StartsWith,
)
from smartcustoms.risk.schema import PreparedItems, day_value, text_value

__all__ = ["day_value", "evaluate_frame", "evaluate_record", "number_value"]

_EPOCH = dt.date(1970, 1, 1)
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


# -- scalar values (one declaration) ---------------------------------------------------------
def number_value(value: object) -> float | None:
    """A finite float, or None for missing, non-numeric or infinite values."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _literal_value(lit: Literal, kind: FieldType) -> str | float | int:
    if kind == "date":
        return (dt.date.fromisoformat(str(lit.value)) - _EPOCH).days
    return lit.value


def _scalar(record: Mapping[str, object], name: str, kind: FieldType) -> str | float | int | None:
    if name not in record:
        raise RuleInputError(
            f"the declaration has no field {name!r}, which the rule reads",
            details=[{"field": name, "reason": "missing"}],
        )
    raw = record[name]
    if kind == "text":
        text = text_value(raw)
        return text or None
    if kind == "number":
        return number_value(raw)
    return day_value(raw)


def _test(node: InList | StartsWith | Compare, kind: FieldType) -> Callable[[Any], bool]:
    """The predicate on one present (not missing) value, for predicates against literals."""
    if isinstance(node, InList):
        allowed = {_literal_value(v, kind) for v in node.values}
        return (lambda v: v not in allowed) if node.negated else (lambda v: v in allowed)
    if isinstance(node, StartsWith):
        prefixes = tuple(str(p.value) for p in node.prefixes)
        return lambda v: str(v).startswith(prefixes)
    assert isinstance(node.right, Literal)
    target = _literal_value(node.right, kind)
    compare = _COMPARE[node.op]
    return lambda v: bool(compare(v, target))


def evaluate_record(
    node: Node, record: Mapping[str, object], fields: Mapping[str, FieldType]
) -> bool:
    """Whether one declaration (a mapping of field to value) matches the rule."""
    if isinstance(node, And):
        return all(evaluate_record(p, record, fields) for p in node.parts)
    if isinstance(node, Or):
        return any(evaluate_record(p, record, fields) for p in node.parts)
    if isinstance(node, Not):
        return not evaluate_record(node.part, record, fields)
    kind = fields[node.left.name]
    left = _scalar(record, node.left.name, kind)
    if isinstance(node, Compare) and isinstance(node.right, FieldRef):
        right = _scalar(record, node.right.name, kind)
        if left is None or right is None:
            return False
        return bool(_COMPARE[node.op](left, right))
    if left is None:
        return False
    return _test(node, kind)(left)


# -- columns (a batch) -----------------------------------------------------------------------
class _Columns:
    """Columns of a batch in comparable form, extracted once per evaluation."""

    def __init__(
        self, items: pd.DataFrame | PreparedItems, fields: Mapping[str, FieldType]
    ) -> None:
        self.prepared: PreparedItems | None = None
        if isinstance(items, PreparedItems):
            # Its columns are read one by one: its DataFrame is not built for a rule.
            self.prepared = items
            self.factors: Mapping[str, tuple[np.ndarray, np.ndarray]] = items.factors
            self.frame: pd.DataFrame | None = None
            self.length = len(items)
        elif isinstance(items, pd.DataFrame):
            self.frame, self.factors, self.length = items, {}, len(items)
        else:
            raise RuleInputError(
                f"rules run on a DataFrame of items, not {type(items).__name__}",
                details=[{"field": "items", "reason": "not a table"}],
            )
        self.fields = fields
        self._cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._numbers: dict[str, np.ndarray] = {}

    def _has(self, name: str) -> bool:
        if self.prepared is not None:
            return name in self.prepared
        assert self.frame is not None
        return name in self.frame.columns

    def _column(self, name: str) -> pd.Series:
        if not self._has(name):
            raise RuleInputError(
                f"the items have no field {name!r}, which the rule reads",
                details=[{"field": name, "reason": "missing column"}],
            )
        if self.prepared is not None:
            # The series the prepared table's DataFrame would hold (same type inference).
            return pd.Series(self.prepared.column(name))
        assert self.frame is not None
        return self.frame[name]

    def coded(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Row codes and the distinct values (str, or int days; None when missing)."""
        if name in self._cache:
            return self._cache[name]
        kind = self.fields[name]
        if kind == "text" and name in self.factors:
            codes, uniques = self.factors[name]
            values = np.array([u or None for u in uniques], dtype=object)
        elif kind == "date" and self._has("day") and name == "date" and self.factors:
            codes, days = pd.factorize(self._column("day"))
            values = np.array([int(d) for d in days], dtype=object)
        else:
            codes, uniques = pd.factorize(self._column(name), use_na_sentinel=True)
            convert = (lambda v: text_value(v) or None) if kind == "text" else day_value
            values = np.array(
                [convert(u) for u in np.asarray(uniques, dtype=object)] + [None], dtype=object
            )
            codes = np.where(codes < 0, len(values) - 1, codes)
        result = (np.asarray(codes, dtype=np.int64), values)
        self._cache[name] = result
        return result

    def numbers(self, name: str) -> np.ndarray:
        if name not in self._numbers:
            col = self._column(name)
            if col.dtype.kind not in "iuf":
                col = pd.to_numeric(col, errors="coerce")
            values = col.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
            values[~np.isfinite(values)] = np.nan
            self._numbers[name] = values
        return self._numbers[name]

    def row_values(self, name: str) -> np.ndarray:
        """Per row, the comparable value (None when missing), for field-to-field comparisons."""
        if self.fields[name] == "number":
            out = self.numbers(name).astype(object)
            out[np.isnan(self.numbers(name))] = None
            return out
        codes, values = self.coded(name)
        return np.asarray(values[codes])


def _batch(node: Node, cols: _Columns, n: int) -> np.ndarray:
    if isinstance(node, And):
        out = np.ones(n, dtype=bool)
        for part in node.parts:
            out &= _batch(part, cols, n)
        return out
    if isinstance(node, Or):
        out = np.zeros(n, dtype=bool)
        for part in node.parts:
            out |= _batch(part, cols, n)
        return out
    if isinstance(node, Not):
        return ~_batch(node.part, cols, n)
    name = node.left.name
    kind = cols.fields[name]
    if isinstance(node, Compare) and isinstance(node.right, FieldRef):
        left, right = cols.row_values(name), cols.row_values(node.right.name)
        present = np.array(
            [a is not None and b is not None for a, b in zip(left, right, strict=True)], dtype=bool
        )
        result = np.zeros(n, dtype=bool)
        if present.any():
            compare = _COMPARE[node.op]
            result[present] = np.array(
                [bool(compare(a, b)) for a, b in zip(left[present], right[present], strict=True)],
                dtype=bool,
            )
        return result
    if kind == "number":
        values = cols.numbers(name)
        present = ~np.isnan(values)
        if isinstance(node, Compare):
            assert isinstance(node.right, Literal)
            with np.errstate(invalid="ignore"):
                hit = _COMPARE[node.op](values, float(node.right.value))
            return np.asarray(hit & present, dtype=bool)
        assert isinstance(node, InList)
        hit = np.isin(values, [float(v.value) for v in node.values])
        return np.asarray((~hit if node.negated else hit) & present, dtype=bool)
    codes, values = cols.coded(name)
    test = _test(node, kind)
    per_value = np.array([v is not None and test(v) for v in values], dtype=bool)
    return per_value[codes] if n else np.zeros(0, dtype=bool)


def evaluate_frame(
    node: Node, items: pd.DataFrame | PreparedItems, fields: Mapping[str, FieldType]
) -> np.ndarray:
    """One boolean per row: whether the item matches the rule."""
    cols = _Columns(items, fields)
    return _batch(node, cols, cols.length)
