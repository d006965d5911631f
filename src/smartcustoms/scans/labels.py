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
results recorded in the review station (:func:`export_labelled_scans`). A bad row is reported
with its line and column and the others are read on.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from smartcustoms.core.errors import SmartCustomsError, ValidationFailed
from smartcustoms.scans.reviews import FINDING_CODES
from smartcustoms.scans.storage import SUFFIXES, ScanStore
from smartcustoms.scans.tables import ScanRow

__all__ = [
    "COLUMNS",
    "Label",
    "LabelProblem",
    "export_labelled_scans",
    "label_row",
    "labelled_scans",
    "read_labels",
    "write_labels",
]

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


def labelled_scans(session: Session, *, cleared_as_declared: bool = False) -> Sequence[ScanRow]:
    """The scans with an examination result (and, with ``cleared_as_declared``, those cleared
    without one), in the order they were received."""
    statuses = ["examined", "cleared"] if cleared_as_declared else ["examined"]
    return session.scalars(
        select(ScanRow).where(ScanRow.status.in_(statuses)).order_by(ScanRow.id)
    ).all()


def label_row(scan: ScanRow, name: str) -> dict[str, Any]:
    """A scan's row of the labels file, its file written as ``name``: the outcome, what it was
    analysed with and, when the officer recorded them, the weighed load and the finding."""
    declared = scan.report.get("declared", {})
    gross, tare = declared.get("gross_kg"), declared.get("tare_kg")
    exam = scan.examination
    row: dict[str, Any] = {
        "file": name,
        "outcome": "irregular" if exam is not None and exam.irregular else "as_declared",
        # Reports before 1.1 held the container's gross; since, the goods' own.
        "goods_gross_kg": None
        if gross is None
        else round(gross - (0.0 if declared.get("gross_kg_of") == "goods" else (tare or 0.0)), 3),
        "hs_code": declared.get("hs_code"),
        "tare_kg": tare or None,
        "declared_empty": "yes" if declared.get("empty") else "no",
    }
    if exam is not None:
        row["weighed_net_kg"] = exam.weighed_net_kg
        row["finding"] = exam.codes[0] if exam.codes else None
        if exam.regions:
            box = exam.regions[0]
            row.update({k: box[k] for k in ("col0", "row0", "col1", "row1")})
    return row


def export_labelled_scans(
    session: Session,
    store: ScanStore,
    output: Path,
    *,
    cleared_as_declared: bool = False,
    on_skipped: Callable[[ScanRow, SmartCustomsError], None] | None = None,
) -> list[dict[str, Any]]:
    """Copy the labelled scans' files into ``output`` (an existing folder) and write
    ``output/labels.csv``; return its rows. A scan whose file cannot be copied out is left
    out and given to ``on_skipped``."""
    rows: list[dict[str, Any]] = []
    for scan in labelled_scans(session, cleared_as_declared=cleared_as_declared):
        name = f"scan-{scan.id:06d}{SUFFIXES[scan.file_format]}"
        try:
            store.copy_out(scan.file_sha256, scan.file_format, output / name)
        except SmartCustomsError as exc:
            if on_skipped is not None:
                on_skipped(scan, exc)
            continue
        rows.append(label_row(scan, name))
    write_labels(output / "labels.csv", rows)
    return rows
