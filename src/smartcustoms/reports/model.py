"""What a report is made of, independent of how it is shown: typed columns, tables of rows and
bar charts, so the page, the JSON API, CSV, XLSX and PDF all render the same figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

__all__ = ["Bar", "Chart", "Column", "Kind", "Report", "Table", "Value"]

#: How a column's values are typed: text, a count, a decimal figure (hours, minutes), a share
#: (0 to 1), money.
Kind = Literal["text", "count", "decimal", "share", "money"]
Value = str | int | float | Decimal | None


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # an untranslated message id (``N_``); renderers translate it
    kind: Kind = "text"
    #: For a column of codes (lanes, alert types, outcomes): each code's label, an untranslated
    #: message id. Renderers for people show the translated label; JSON keeps the code.
    labels: Mapping[str, str] | None = None

    def label_of(self, value: Value) -> str | None:
        if self.labels is None or value is None:
            return None
        return self.labels.get(str(value))


@dataclass(frozen=True)
class Table:
    key: str
    title: str  # untranslated message id
    columns: tuple[Column, ...]
    rows: Sequence[Sequence[Value]]

    def as_dicts(self) -> list[dict[str, Value]]:
        return [dict(zip((c.key for c in self.columns), row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Bar:
    label: str  # data (a month, a corridor code, a lane): shown as is
    value: float


@dataclass(frozen=True)
class Chart:
    key: str
    title: str  # untranslated message id
    unit: Kind
    bars: tuple[Bar, ...]
    labels: Mapping[str, str] | None = None  # as :attr:`Column.labels`, for the bars


@dataclass
class Report:
    name: str
    title: str  # untranslated message id
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def share(part: int, whole: int) -> float | None:
    """``part / whole`` rounded to 4 places, or None when nothing was counted."""
    return round(part / whole, 4) if whole else None


def hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(float(seconds) / 3600, 2)


def months(rows: Sequence[tuple[Value, ...]], index: int) -> list[str]:
    return sorted({str(r[index]) for r in rows})
