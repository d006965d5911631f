"""Labelled KCS files for offline work (evaluation, simulation): items, outcomes, revenue.

The declarations importer reads KCS files into the database one declaration at a time; the
evaluation and simulation commands need the whole file as one table instead, with its ``Fraud``
labels beside it. Every problem is a :class:`ValidationFailed` whose message starts with the
file name and names the row (numbered as the file's lines: the header is row 1) or the column,
so a command can print it as one line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.offline.datasets import KcsSplit, kcs_table
from smartcustoms.risk.schema import KCS_COLUMNS, from_kcs, prepare_items

__all__ = [
    "LABEL_COLUMN",
    "REVENUE_COLUMN",
    "LabelledTable",
    "join_tables",
    "packaged_kcs",
    "read_labelled_kcs",
    "split_by_date",
]

LABEL_COLUMN = "Fraud"
# KCS has no revenue column; a file that carries one (revenue raised by each inspection) gets
# revenue@k figures. Absent, they are left out rather than guessed.
REVENUE_COLUMN = "Revenue"
_FIRST_DATA_ROW = 2  # the header is row 1
_MAX_ROWS_NAMED = 10
_EPOCH = dt.date(1970, 1, 1)


@dataclass(frozen=True, eq=False)
class LabelledTable:
    """Items in the risk engine's column names, their outcomes and, if known, revenue."""

    source: str
    items: pd.DataFrame
    labels: np.ndarray
    revenue: np.ndarray | None

    def __len__(self) -> int:
        return len(self.items)

    def take(self, rows: np.ndarray) -> LabelledTable:
        """The rows at these positions (a boolean mask or integer positions)."""
        return LabelledTable(
            self.source,
            self.items.iloc[rows].reset_index(drop=True),
            self.labels[rows],
            None if self.revenue is None else self.revenue[rows],
        )


def _failed(path: Path, message: str, **detail: object) -> ValidationFailed:
    return ValidationFailed(f"{path}: {message}", details=[{"file": str(path), **detail}])


def _read_csv(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise _failed(path, "no such file", reason="not found")
    if not path.is_file():
        raise _failed(path, "not a regular file", reason="not a file")
    try:
        # Codes, not numbers: keep leading zeros, and read blank cells as missing.
        return pd.read_csv(
            path,
            dtype={
                "Declaration ID": str,
                "Office ID": str,
                "HS6 Code": str,
                "Import Type": str,
                LABEL_COLUMN: str,
            },
            keep_default_na=False,
            na_values={"Seller ID": [""], "Courier ID": [""]},
            encoding="utf-8-sig",
        )
    except UnicodeDecodeError as exc:
        raise _failed(path, f"not UTF-8 text (byte {exc.start})", reason="encoding") from None
    except pd.errors.EmptyDataError:
        raise _failed(path, "empty file, expected a KCS header and rows", reason="empty") from None
    except pd.errors.ParserError as exc:
        # pandas names the line, e.g. "Expected 22 fields in line 7, saw 23".
        text = str(exc).replace("Error tokenizing data. C error: ", "").strip()
        raise _failed(path, f"malformed CSV: {text}", reason="malformed") from None
    except OSError as exc:
        raise _failed(path, f"cannot read: {exc.strerror or exc}", reason="unreadable") from None


def _labels(path: Path, table: pd.DataFrame) -> np.ndarray:
    if LABEL_COLUMN not in table.columns:
        raise _failed(
            path,
            f"no {LABEL_COLUMN!r} column: every row needs its inspection outcome (0 or 1)",
            column=LABEL_COLUMN,
            reason="missing column",
        )
    text = table[LABEL_COLUMN].astype(str).str.strip()
    bad = ~text.isin(("0", "1")).to_numpy()
    if bad.any():
        rows = (np.flatnonzero(bad)[:_MAX_ROWS_NAMED] + _FIRST_DATA_ROW).tolist()
        first = text.iloc[int(np.flatnonzero(bad)[0])]
        raise ValidationFailed(
            f"{path}: column {LABEL_COLUMN!r} must be 0 or 1, got {first!r} at row {rows[0]} "
            f"({int(bad.sum())} row(s) in all)",
            details=[
                {"file": str(path), "row": r, "column": LABEL_COLUMN, "reason": "not 0 or 1"}
                for r in rows
            ],
        )
    return np.asarray((text == "1").to_numpy(dtype=np.int64))


def _revenue(path: Path, table: pd.DataFrame) -> np.ndarray | None:
    if REVENUE_COLUMN not in table.columns:
        return None
    values = np.asarray(
        pd.to_numeric(table[REVENUE_COLUMN], errors="coerce").to_numpy(dtype=np.float64)
    )
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + _FIRST_DATA_ROW
        raise _failed(
            path,
            f"column {REVENUE_COLUMN!r} must be a number ≥ 0, got "
            f"{table[REVENUE_COLUMN].iloc[row - _FIRST_DATA_ROW]!r} at row {row}",
            row=row,
            column=REVENUE_COLUMN,
            reason="not a non-negative number",
        )
    return values


def read_labelled_kcs(path: Path) -> LabelledTable:
    """Read a KCS CSV file with its ``Fraud`` labels, checked row by row.

    Raises :class:`ValidationFailed` naming the file and the row or column at fault: missing
    file, not UTF-8, malformed CSV, missing KCS columns, labels other than 0/1, values the risk
    engine cannot read (dates, HS codes, numbers), or a file with no rows.
    """
    table = _read_csv(path)
    missing = [c for c in KCS_COLUMNS if c not in table.columns]
    if missing:
        raise _failed(
            path,
            f"not a KCS file: missing column(s) {', '.join(repr(c) for c in missing)}",
            column=missing[0],
            reason="missing column",
        )
    if table.empty:
        raise _failed(path, "no rows after the header", reason="empty")
    labels = _labels(path, table)
    revenue = _revenue(path, table)
    items = from_kcs(table)
    items.index = pd.RangeIndex(_FIRST_DATA_ROW, _FIRST_DATA_ROW + len(items))
    try:
        prepare_items(items)  # checked here so the error can name the file; typed again later
    except ValidationFailed as exc:
        raise ValidationFailed(
            f"{path}: {exc.message} (rows numbered as lines of the file)",
            details=[{"file": str(path), **d} for d in exc.details],
        ) from None
    return LabelledTable(str(path), items.reset_index(drop=True), labels, revenue)


def join_tables(tables: Sequence[LabelledTable]) -> LabelledTable:
    """Several labelled files as one table, in the order given (revenue only if all have it)."""
    if not tables:
        raise ValidationFailed("no files given", details=[{"field": "files", "reason": "empty"}])
    if len(tables) == 1:
        return tables[0]
    revenues = [t.revenue for t in tables]
    revenue = (
        None
        if any(r is None for r in revenues)
        else np.concatenate([r for r in revenues if r is not None])
    )
    return LabelledTable(
        " + ".join(t.source for t in tables),
        pd.concat([t.items for t in tables], ignore_index=True),
        np.concatenate([t.labels for t in tables]),
        revenue,
    )


def packaged_kcs(split: KcsSplit) -> LabelledTable:
    """The packaged KCS ``train`` or ``valid`` file as a labelled table."""
    table = kcs_table(split)
    return LabelledTable(
        f"packaged KCS {split}.csv", from_kcs(table), table["Fraud"].to_numpy(np.int64), None
    )


def split_by_date(table: LabelledTable, first_day: dt.date) -> tuple[LabelledTable, LabelledTable]:
    """The rows dated before ``first_day``, and those on or after it."""
    day = prepare_items(table.items).frame["day"].to_numpy()
    later = day >= (first_day - _EPOCH).days
    return table.take(~later), table.take(later)
