"""The labels file: what examinations found in a folder of scans, as a CSV.

One row per scan; the columns (a header row names them, in any order)::

    file              required  the scan, relative to the folder (a .tif with its .json
                                beside it, or a .dcm)
    outcome           required  as_declared or irregular: what the physical examination found
    goods_gross_kg    optional  declared gross mass of the goods, without the container
    hs_code           optional  declared HS code of the goods (4 to 10 digits)
    tare_kg           optional  the container's tare (CSC plate)
    declared_empty    optional  yes or no: the container was declared empty
    weighed_net_kg    optional  the load weighed (weighbridge less tare): for the mass error
    finding           optional  what was found (concealment, undeclared, prohibited, quantity,
                                misdescribed, not_empty)
    col0,row0,col1,row1  optional  where it was, in image pixels: an alarm then counts as a
                                detection only if one of its regions overlaps this box

``smartcustoms scans export-labels`` writes this file (with the scans) from the examination
results recorded in the review station. A bad row is reported with its line and column and
the others are read on.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.scans.reviews import FINDING_CODES

__all__ = ["COLUMNS", "Label", "LabelProblem", "read_labels", "write_labels"]

COLUMNS = (
    "file",
    "outcome",
    "goods_gross_kg",
    "hs_code",
    "tare_kg",
    "declared_empty",
    "weighed_net_kg",
    "finding",
    "col0",
    "row0",
    "col1",
    "row1",
)
_REQUIRED = ("file", "outcome")
_BOX = ("col0", "row0", "col1", "row1")


@dataclass(frozen=True)
class Label:
    line: int
    file: str
    irregular: bool
    goods_gross_kg: float | None = None
    hs_code: str | None = None
    tare_kg: float | None = None
    declared_empty: bool | None = None
    weighed_net_kg: float | None = None
    finding: str | None = None
    region: tuple[int, int, int, int] | None = None  # col0, row0, col1, row1


@dataclass(frozen=True)
class LabelProblem:
    line: int
    column: str
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.problem}"


@dataclass
class _Row:
    line: int
    values: dict[str, str]
    problems: list[LabelProblem] = field(default_factory=list)

    def text(self, column: str) -> str | None:
        value = (self.values.get(column) or "").strip()
        return value or None

    def kilograms(self, column: str) -> float | None:
        text = self.text(column)
        if text is None:
            return None
        try:
            value = float(text.replace(",", ""))
        except ValueError:
            value = -1.0
        if not value >= 0 or value == float("inf"):
            self.problems.append(LabelProblem(self.line, column, f"{text!r} is not a mass in kg"))
            return None
        return value


def _label(row: _Row) -> Label | None:
    file = row.text("file")
    if file is None:
        row.problems.append(LabelProblem(row.line, "file", "empty"))
    outcome = (row.text("outcome") or "").lower()
    if outcome not in ("as_declared", "irregular"):
        row.problems.append(
            LabelProblem(row.line, "outcome", f"{outcome!r}: want as_declared or irregular")
        )
    empty_text = (row.text("declared_empty") or "").lower()
    empty = {"yes": True, "true": True, "no": False, "false": False, "": None}.get(empty_text)
    if empty is None and empty_text:
        row.problems.append(
            LabelProblem(row.line, "declared_empty", f"{empty_text!r}: want yes or no")
        )
    finding = row.text("finding")
    if finding is not None and finding not in FINDING_CODES:
        row.problems.append(
            LabelProblem(
                row.line, "finding", f"{finding!r}: want one of {', '.join(FINDING_CODES)}"
            )
        )
    box = [row.text(c) for c in _BOX]
    region = None
    if any(v is not None for v in box):
        try:
            c0, r0, c1, r1 = (int(v or "") for v in box)
            if not (0 <= c0 < c1 and 0 <= r0 < r1):
                raise ValueError
            region = (c0, r0, c1, r1)
        except ValueError:
            row.problems.append(
                LabelProblem(
                    row.line, "col0..row1", "want four whole numbers, col0 < col1, row0 < row1"
                )
            )
    label = Label(
        line=row.line,
        file=file or "",
        irregular=outcome == "irregular",
        goods_gross_kg=row.kilograms("goods_gross_kg"),
        hs_code=row.text("hs_code"),
        tare_kg=row.kilograms("tare_kg"),
        declared_empty=empty,
        weighed_net_kg=row.kilograms("weighed_net_kg"),
        finding=finding,
        region=region,
    )
    return None if row.problems else label


def read_labels(path: Path) -> tuple[list[Label], list[LabelProblem]]:
    """The usable rows of a labels file, and the problems of the others.

    Raises :class:`ValidationFailed` when the file itself is unusable (missing, no header,
    a required column absent)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            f"{path}: cannot be read as UTF-8 text ({exc})", details=[{"file": str(path)}]
        ) from None
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in _REQUIRED if c not in header]
    if missing:
        raise ValidationFailed(
            f"{path.name}: the header row lacks {', '.join(missing)} "
            f"(columns: {', '.join(COLUMNS)})",
            details=[{"file": path.name, "field": c, "problem": "missing"} for c in missing],
        )
    labels: list[Label] = []
    problems: list[LabelProblem] = []
    for number, raw in enumerate(reader, start=2):
        row = _Row(number, {(k or "").strip(): v or "" for k, v in raw.items()})
        label = _label(row)
        problems.extend(row.problems)
        if label is not None:
            labels.append(label)
    return labels, problems


def write_labels(path: Path, rows: list[dict[str, Any]]) -> None:
    """Write a labels file (``rows`` keyed by :data:`COLUMNS`; absent values left empty)."""
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, extrasaction="raise")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: "" if row.get(c) is None else row[c] for c in COLUMNS})
    tmp.replace(path)
