"""The declaration-item columns the risk engine reads, and how raw frames become them.

The declarations layer owns the full WCO-based declaration model; the risk engine needs only a
flat table with one row per declaration item. This module names those columns, says which KCS
column each comes from, and turns any frame carrying them into the typed form the features
expect (:func:`prepare_items`). Bad values are reported with the row and the field; nothing is
silently dropped.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment

from smartcustoms.core.errors import ValidationFailed

__all__ = [
    "DERIVED_FIELDS",
    "ITEM_FIELDS",
    "KCS_COLUMNS",
    "FieldSpec",
    "PreparedItems",
    "day_value",
    "from_kcs",
    "prepare_items",
    "prepare_rows",
    "text_value",
]

FieldKind = Literal["text", "number", "date"]


@dataclass(frozen=True)
class FieldSpec:
    """One column of the risk engine's item table."""

    name: str
    kind: FieldKind
    description: str
    kcs_column: str | None = None


ITEM_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("declaration_id", "text", "customs reference of the declaration", "Declaration ID"),
    FieldSpec("date", "date", "date of acceptance of the declaration", "Date"),
    FieldSpec("office", "text", "customs office of lodgement", "Office ID"),
    FieldSpec("process_type", "text", "clearance process", "Process Type"),
    FieldSpec("import_type", "text", "type of import", "Import Type"),
    FieldSpec("import_use", "text", "intended use of the goods", "Import Use"),
    FieldSpec("payment_type", "text", "duty payment method", "Payment Type"),
    FieldSpec("transport_mode", "text", "mode of transport at the border", "Mode of Transport"),
    FieldSpec("declarant_id", "text", "declarant (broker) identifier", "Declarant ID"),
    FieldSpec("importer_id", "text", "importer identifier", "Importer ID"),
    FieldSpec("seller_id", "text", "seller (exporter) identifier", "Seller ID"),
    FieldSpec("courier_id", "text", "express courier identifier", "Courier ID"),
    FieldSpec("hs6", "text", "HS subheading, 6 digits", "HS6 Code"),
    FieldSpec("origin", "text", "country of origin (ISO 3166 alpha-2)", "Country of Origin"),
    FieldSpec(
        "departure", "text", "country of departure (ISO 3166 alpha-2)", "Country of Departure"
    ),
    FieldSpec("tax_rate", "number", "duty rate in percent", "Tax Rate"),
    FieldSpec("tax_type", "text", "tariff treatment (preference) code", "Tax Type"),
    FieldSpec(
        "origin_indicator", "text", "how origin was established", "Country of Origin Indicator"
    ),
    FieldSpec("net_mass", "number", "net mass in kg", "Net Mass"),
    FieldSpec("item_price", "number", "customs value of the item", "Item Price"),
)

# Computed by prepare_items from the fields above; rules may use them like any other field.
DERIVED_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("hs4", "text", "HS heading, first 4 digits of hs6"),
    FieldSpec("hs2", "text", "HS chapter, first 2 digits of hs6"),
    FieldSpec("unit_value", "number", "item price per kg; missing when mass is zero or less"),
    FieldSpec("revenue_at_risk", "number", "item price x tax rate / 100"),
)

KCS_COLUMNS: Mapping[str, str] = {f.kcs_column: f.name for f in ITEM_FIELDS if f.kcs_column}

_TEXT = [f.name for f in ITEM_FIELDS if f.kind == "text"]
_NUMBER = [f.name for f in ITEM_FIELDS if f.kind == "number"]
_EPOCH = dt.date(1970, 1, 1)
_MAX_ROWS_NAMED = 10  # rows quoted in one error, so a bad file gives a readable message


class PreparedItems:
    """A table that :func:`prepare_items` has checked and typed; pass it on to skip re-checking.

    ``factors`` holds, per text field, integer codes into an array of distinct values: lookups
    (vocabularies, rules) then work on the few distinct values instead of every row.

    The typed columns are plain numpy arrays (:meth:`column`); ``frame``, the same columns as a
    pandas DataFrame, is built only when something asks for it: building it cost about as much
    as scoring a lodged declaration, and the engine itself reads columns only.
    """

    __slots__ = ("_columns", "_frame", "_index", "factors")

    def __init__(
        self,
        columns: Mapping[str, np.ndarray],
        factors: Mapping[str, tuple[np.ndarray, np.ndarray]],
        index: pd.Index | None = None,
    ) -> None:
        self._columns = dict(columns)
        self.factors = factors
        self._index = index
        self._frame: pd.DataFrame | None = None

    @property
    def frame(self) -> pd.DataFrame:
        """The typed columns as a DataFrame (index: the input table's)."""
        if self._frame is None:
            self._frame = pd.DataFrame(self._columns, index=self._index)
        return self._frame

    def column(self, name: str) -> np.ndarray:
        """One typed column as a numpy array (``KeyError`` if there is no such column)."""
        return self._columns[name]

    def __contains__(self, name: object) -> bool:
        return name in self._columns

    def __len__(self) -> int:
        return len(self._columns["day"])

    def take(self, rows: np.ndarray) -> PreparedItems:
        """The rows at these positions (integer positions or a boolean mask)."""
        index = self._index if self._index is not None else pd.RangeIndex(len(self))
        return PreparedItems(
            {name: values[rows] for name, values in self._columns.items()},
            {name: (codes[rows], uniques) for name, (codes, uniques) in self.factors.items()},
            index[rows],
        )


def from_kcs(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename the KCS dataset's columns to the risk engine's names (labels are left out)."""
    missing = [c for c in KCS_COLUMNS if c not in frame.columns]
    if missing:
        raise ValidationFailed(
            f"not a KCS table: missing column(s) {', '.join(missing)}",
            details=[{"field": c, "reason": "missing column"} for c in missing],
        )
    return frame[list(KCS_COLUMNS)].rename(columns=dict(KCS_COLUMNS))


def text_value(value: object) -> str:
    """A code or identifier as the risk engine stores it: stripped text, "" when missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        # A numeric column with blanks is read as floats: office 30 must stay "30", not "30.0".
        return f"{value:.0f}"
    return str(value).strip()


_HS_NOISE = re.compile(r"[.\s]")
_HS_DIGITS = re.compile(r"[0-9]{6,10}")


def _hs_code(value: str) -> str | None:
    code = _HS_NOISE.sub("", value)
    if len(code) == 5:
        code = "0" + code  # read as an integer, "010121" lost its leading zero
    return code if _HS_DIGITS.fullmatch(code) else None


def day_value(value: object) -> int | None:
    """Days since 1970-01-01 of a date, a datetime or an ISO 8601 string; None otherwise.

    A datetime counts on the calendar day it is written in (its own time zone).
    """
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):  # pd.Timestamp included
        value = value.date()
    if isinstance(value, dt.date):
        return (value - _EPOCH).days
    return None


def _factor(
    col: pd.Series, normalise: Callable[[object], str] = text_value
) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct normalised values of a column; string work is done once per value."""
    if len(col) <= _SMALL:
        codes, values = _factor_small(col.tolist(), normalise)
    else:
        codes, uniques = pd.factorize(col, use_na_sentinel=True)
        values = [normalise(u) for u in np.asarray(uniques, dtype=object)]
    return _finish_factor(codes, values)


def _finish_factor(codes: np.ndarray, values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Missing values (code -1) as ``""``, and values equal once normalised merged."""
    if (codes < 0).any():
        codes = np.where(codes < 0, len(values), codes)
        values.append("")
    # Normalising can merge values ("A " and "A"): factorize the normalised ones again.
    merged, distinct = _factorize_text(values)
    return merged[codes], distinct


def _factorize_text(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize`` of distinct-ish strings (codes in order of first appearance) with a
    dict: these lists hold a column's distinct values, a handful when a declaration is lodged,
    where pandas' per-call overhead was most of the cost."""
    first: dict[str, int] = {}
    codes = np.fromiter(
        (first.setdefault(v, len(first)) for v in values), dtype=np.int64, count=len(values)
    )
    return codes, np.asarray(list(first), dtype=object)


# Below this many rows (a lodged declaration), pandas' per-call overhead is most of the cost:
# the same factorisation is done with a dict (tests/risk/test_schema.py checks they agree).
_SMALL = 256


def _factor_small(
    column: list[object], normalise: Callable[[object], str]
) -> tuple[np.ndarray, list[str]]:
    """``pd.factorize`` with missing values as -1, for a short column given as a list."""
    first: dict[object, int] = {}
    codes = np.empty(len(column), dtype=np.int64)
    for row, value in enumerate(column):
        if value is None or value is pd.NA or value is pd.NaT or value != value:  # NaN
            codes[row] = -1
        else:
            code = first.get(value)
            if code is None:
                code = first[value] = len(first)
            codes[row] = code
    return codes, [normalise(u) for u in first]


def _bad_rows(mask: np.ndarray, index: pd.Index) -> list[object]:
    return [index[i] for i in np.flatnonzero(mask)[:_MAX_ROWS_NAMED]]


def _fail(field: str, reason: str, mask: np.ndarray, index: pd.Index) -> ValidationFailed:
    rows = _bad_rows(mask, index)
    count = int(mask.sum())
    return ValidationFailed(
        f"{field}: {reason} in {count} row(s), first at row {rows[0]}",
        details=[{"field": field, "row": _plain(r), "reason": reason} for r in rows],
    )


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def prepare_items(frame: pd.DataFrame | PreparedItems) -> PreparedItems:
    """Check and type a table of declaration items for the risk engine.

    Every name in :data:`ITEM_FIELDS` must be a column (values may be missing, except ``date``
    and ``hs6``). Text fields become strings with ``""`` for missing; ``hs6`` keeps its first six
    digits (national 8-10 digit codes are cut); numbers become floats, with NaN and infinities
    treated as missing. ``day`` (days since 1970-01-01) and the :data:`DERIVED_FIELDS` are added.
    Zero or negative mass or price leave ``unit_value`` missing instead of producing infinities.

    Raises :class:`ValidationFailed` naming the field and the first rows at fault.
    """
    if isinstance(frame, PreparedItems):
        return frame
    if not isinstance(frame, pd.DataFrame):
        raise ValidationFailed(
            f"declaration items must be a pandas DataFrame, got {type(frame).__name__}",
            details=[{"field": "items", "reason": "not a table"}],
        )
    missing = [f.name for f in ITEM_FIELDS if f.name not in frame.columns]
    if missing:
        raise ValidationFailed(
            f"missing item field(s): {', '.join(missing)}",
            details=[{"field": m, "reason": "missing column"} for m in missing],
        )
    index = frame.index
    factors = {name: _factor(frame[name]) for name in _TEXT}
    # Dates repeat a lot: parse each distinct value once.
    date_codes, date_uniques = pd.factorize(frame["date"], use_na_sentinel=True)
    unique_days = [day_value(u) for u in np.asarray(date_uniques, dtype=object)]
    numbers: dict[str, np.ndarray] = {}
    not_numbers: list[ValidationFailed] = []
    for name in _NUMBER:
        col = frame[name]
        if col.dtype.kind not in "iuf":
            num = pd.to_numeric(col, errors="coerce")
            bad = (num.isna() & col.notna() & (col.astype(str).str.strip() != "")).to_numpy()
            if bad.any():
                not_numbers.append(_fail(name, "not a number", bad, index))
            col = num
        numbers[name] = col.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
    return _assemble(factors, date_codes, unique_days, numbers, index, not_numbers)


def _assemble(
    factors: dict[str, tuple[np.ndarray, np.ndarray]],
    date_codes: np.ndarray,
    unique_days: list[int | None],
    numbers: dict[str, np.ndarray],
    index: pd.Index,
    not_numbers: Sequence[ValidationFailed] = (),
) -> PreparedItems:
    """The typed table from its factorised text fields, its dates (codes into the distinct
    days, -1 when missing) and its numbers: the work :func:`prepare_items` and
    :func:`prepare_rows` share, so both give the same table. ``not_numbers``: the errors of
    number fields found while reading them, raised after the hs6 and date checks (the order
    a table with several faults has always been reported in)."""
    out: dict[str, np.ndarray] = {}
    hs_codes, hs_uniques = factors["hs6"]
    hs = [_hs_code(u) for u in hs_uniques]
    bad_unique = np.array([h is None for h in hs], dtype=bool)
    if bad_unique.any():
        raise _fail("hs6", "expected 6 to 10 digits", bad_unique[hs_codes], index)
    for name, width in (("hs6", 6), ("hs4", 4), ("hs2", 2)):
        cut, distinct = _factorize_text([h[:width] for h in hs if h])
        factors[name] = (cut[hs_codes], distinct)
    for name, (codes, uniques) in factors.items():
        out[name] = uniques[codes]

    days = np.array([np.nan if d is None else d for d in unique_days] + [np.nan])[date_codes]
    bad_date = np.isnan(days)
    if bad_date.any():
        raise _fail("date", "missing or not an ISO 8601 date", bad_date, index)
    day = days.astype(np.int64)
    out["day"] = day
    out["date"] = day.astype("datetime64[D]").astype("datetime64[s]")
    if not_numbers:
        raise not_numbers[0]

    for name in _NUMBER:
        values = numbers[name]
        values[~np.isfinite(values)] = np.nan
        out[name] = values

    mass = out["net_mass"]
    price = out["item_price"]
    usable = (mass > 0) & (price > 0)
    unit_value = np.full(len(day), np.nan)
    with np.errstate(over="ignore"):
        # A tiny positive mass can still overflow the division; such a value is no evidence.
        np.divide(price, mass, out=unit_value, where=usable)
        revenue = price * out["tax_rate"] / 100.0
    unit_value[~np.isfinite(unit_value)] = np.nan
    revenue[~np.isfinite(revenue)] = np.nan
    out["unit_value"] = unit_value
    out["revenue_at_risk"] = revenue
    return PreparedItems(out, factors, index)


def prepare_rows(rows: Sequence[Mapping[str, object]]) -> PreparedItems:
    """:func:`prepare_items` of ``pd.DataFrame(rows, columns=ITEM_COLUMNS)``, the same table,
    errors included, without building the DataFrame when that is safe to skip.

    A lodged declaration's few rows cost more in pandas' per-call overhead than in the work
    itself. The plain path is taken for up to ``_SMALL`` rows whose text fields are all ``str``
    or missing (``None``), whose dates are ``str`` and whose numbers are ``float`` or missing:
    for those, the DataFrame's column types are known (text, float64) and the codes, values and
    errors below are exactly the DataFrame path's (``tests/risk/test_prepare_rows.py`` holds them
    to it). Anything else (ints read as text, other types, empty or large batches) goes through
    the DataFrame, whose type inference decides what such values mean.
    """
    if not 0 < len(rows) <= _SMALL or not all(_plain_row(row) for row in rows):
        return prepare_items(pd.DataFrame(list(rows), columns=[f.name for f in ITEM_FIELDS]))
    factors: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in _TEXT:
        codes, values = _factor_small([row.get(name) for row in rows], text_value)
        factors[name] = _finish_factor(codes, values)
    first: dict[object, int] = {}
    date_codes = np.fromiter(
        (first.setdefault(row["date"], len(first)) for row in rows), dtype=np.int64, count=len(rows)
    )
    unique_days = [day_value(u) for u in first]
    numbers = {
        name: np.array(
            [np.nan if row.get(name) is None else row[name] for row in rows], dtype=np.float64
        )
        for name in _NUMBER
    }
    return _assemble(factors, date_codes, unique_days, numbers, pd.RangeIndex(len(rows)))


def _plain_row(row: Mapping[str, object]) -> bool:
    """Whether a row's values are of the types :func:`prepare_rows` reads without pandas."""
    for name in _TEXT:
        value = row.get(name)
        if value is not None and type(value) is not str:
            return False
    if type(row.get("date")) is not str:
        return False
    for name in _NUMBER:
        value = row.get(name)
        if value is not None and type(value) is not float:
            return False
    return True
