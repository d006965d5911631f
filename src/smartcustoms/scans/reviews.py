"""The image review workflow: an analyst's decision, a supervisor's re-check, the examination.

    awaiting_review ──analyst: clear (machine did not alarm)──────────────▶ cleared
         │          ──analyst: clear on an alarm, or suspect──▶ awaiting_recheck
         │          ──analyst: physical examination──▶ awaiting_examination
    awaiting_recheck / cleared / awaiting_examination
                    ──supervisor (not the analyst): clear──▶ cleared
                    ──supervisor (not the analyst): physical examination──▶ awaiting_examination
    any but examined ──examining officer: result──▶ examined

An analyst who clears a scan the machine flagged overrides the machine, and a "suspect" scan
needs someone to settle it: both wait for a supervisor. The examination result is the scan's
label; cleared and as-declared loads join their heading's history (:mod:`.profiles`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from smartcustoms.core.i18n import N_
from smartcustoms.core.unit import Unit
from smartcustoms.scans.events import ScanExamined, ScanRechecked, ScanReviewed
from smartcustoms.scans.profiles import forget_load, remember_load
from smartcustoms.scans.tables import ExaminationRow, ReviewRow, ScanRow

__all__ = [
    "DECISIONS",
    "FINDING_CODES",
    "STATUSES",
    "parse_regions",
    "recheck_scan",
    "record_examination",
    "review_scan",
]

DECISIONS = {
    "clear": N_("Clear"),
    "suspect": N_("Suspect"),
    "physical_examination": N_("Physical examination"),
}
#: What an examination may find.
FINDING_CODES = {
    "concealment": N_("Concealed goods"),
    "undeclared": N_("Undeclared goods"),
    "prohibited": N_("Prohibited or restricted goods"),
    "quantity": N_("Quantity or mass differs"),
    "misdescribed": N_("Goods differ from the declaration"),
    "not_empty": N_("Container declared empty was not"),
}
STATUSES = {
    "awaiting_review": N_("Awaiting review"),
    "awaiting_recheck": N_("Awaiting re-check"),
    "cleared": N_("Cleared"),
    "awaiting_examination": N_("Awaiting examination"),
    "examined": N_("Examined"),
}
MAX_REGIONS = 50
MAX_NOTE = 2000
MAX_LABEL = 80


def _sha(note: str | None) -> str | None:
    return hashlib.sha256(note.encode()).hexdigest() if note else None


def _note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise ValidationFailed(
            f"the note is longer than {MAX_NOTE} characters", details=[{"field": "note"}]
        )
    return text or None


def _scan(unit: Unit, scan_id: int) -> ScanRow:
    row = unit.session.get(ScanRow, scan_id, with_for_update=True)
    if row is None:
        raise NotFound(f"no scan {scan_id}", details=[{"field": "scan_id"}])
    return row


def parse_regions(raw: Any, rows: int, columns: int) -> list[dict[str, Any]]:
    """Marked regions as stored: pixel boxes inside the image, each with an optional label.

    Each item is ``{"col0", "row0", "col1", "row1", "label"?}`` (end-exclusive, like the
    machine's boxes); every problem names its place, e.g. ``regions[2].col1``."""
    if raw is None:
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise ValidationFailed("regions must be a list", details=[{"field": "regions"}])
    if len(raw) > MAX_REGIONS:
        raise ValidationFailed(
            f"at most {MAX_REGIONS} regions", details=[{"field": "regions", "got": len(raw)}]
        )
    out = []
    for i, item in enumerate(raw):
        where = f"regions[{i}]"
        if not isinstance(item, Mapping):
            raise ValidationFailed(f"{where} must be an object", details=[{"field": where}])
        box = {}
        for key, limit in (("col0", columns), ("row0", rows), ("col1", columns), ("row1", rows)):
            value = item.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
                raise ValidationFailed(
                    f"{where}.{key} must be a whole number of pixels from 0 to {limit}",
                    details=[{"field": f"{where}.{key}", "got": value}],
                )
            box[key] = value
        if box["col1"] <= box["col0"] or box["row1"] <= box["row0"]:
            raise ValidationFailed(
                f"{where} is empty: col1 must exceed col0 and row1 row0",
                details=[{"field": where}],
            )
        label = item.get("label") or ""
        if not isinstance(label, str) or len(label) > MAX_LABEL:
            raise ValidationFailed(
                f"{where}.label must be text of at most {MAX_LABEL} characters",
                details=[{"field": f"{where}.label"}],
            )
        out.append({**box, "label": label.strip()})
    return out


def _decision(value: str, allowed: Sequence[str]) -> str:
    if value not in allowed:
        raise ValidationFailed(
            f"decision must be one of {', '.join(allowed)}, not {value!r}",
            details=[{"field": "decision", "got": value}],
        )
    return value


def review_scan(
    unit: Unit,
    scan_id: int,
    *,
    decision: str,
    regions: Any = None,
    note: str | None = None,
    seconds_open: int | None = None,
    actor: str,
) -> ReviewRow:
    """Record an image analyst's decision on a scan awaiting review."""
    scan = _scan(unit, scan_id)
    _decision(decision, list(DECISIONS))
    marks = parse_regions(regions, scan.rows, scan.columns)
    text = _note(note)
    if scan.status != "awaiting_review":
        why = (
            "its examination is already recorded"
            if not scan.reviews
            else f"it was already reviewed ({scan.status.replace('_', ' ')}); "
            "a supervisor may re-check it"
        )
        raise Conflict(f"scan {scan_id}: {why}", details=[{"field": "status", "got": scan.status}])
    if decision == "physical_examination":
        status = "awaiting_examination"
    elif decision == "suspect" or scan.alarm_decision == "ALARM":
        status = "awaiting_recheck"
    else:
        status = "cleared"
        remember_load(unit.session, scan, "cleared")
    row = ReviewRow(
        scan_id=scan.id,
        kind="review",
        decision=decision,
        regions=marks,
        note=text,
        reviewer=actor,
        reviewed_at=clock.now(),
        seconds_open=seconds_open if seconds_open is not None and seconds_open >= 0 else None,
    )
    scan.reviews.append(row)
    scan.status, scan.decision = status, decision
    unit.session.flush()
    unit.emit(
        ScanReviewed(
            actor=actor,
            scan_id=scan.id,
            decision=decision,
            machine_decision=scan.alarm_decision,
            regions=len(marks),
            status=status,
            note_sha256=_sha(text),
        )
    )
    return row


def recheck_scan(
    unit: Unit,
    scan_id: int,
    *,
    decision: str,
    regions: Any = None,
    note: str | None = None,
    actor: str,
) -> ReviewRow:
    """A supervisor settles a reviewed scan: clear, or physical examination (four eyes)."""
    scan = _scan(unit, scan_id)
    _decision(decision, ["clear", "physical_examination"])
    marks = parse_regions(regions, scan.rows, scan.columns)
    text = _note(note)
    if scan.status in ("awaiting_review", "examined"):
        raise Conflict(
            f"scan {scan_id} is {scan.status.replace('_', ' ')}: only a reviewed scan awaiting "
            "its outcome can be re-checked",
            details=[{"field": "status", "got": scan.status}],
        )
    analyst_review = next(r for r in reversed(scan.reviews) if r.kind == "review")
    if analyst_review.reviewer == actor:
        raise Forbidden(
            "a scan is re-checked by someone other than the analyst who reviewed it",
            code="four_eyes",
        )
    if decision == "clear":
        status = "cleared"
        remember_load(unit.session, scan, "cleared")
    else:
        status = "awaiting_examination"
        forget_load(unit.session, scan.id)
    row = ReviewRow(
        scan_id=scan.id,
        kind="recheck",
        decision=decision,
        regions=marks,
        note=text,
        reviewer=actor,
        reviewed_at=clock.now(),
        seconds_open=None,
    )
    scan.reviews.append(row)
    scan.status, scan.decision = status, decision
    unit.session.flush()
    unit.emit(
        ScanRechecked(
            actor=actor,
            scan_id=scan.id,
            decision=decision,
            analyst_decision=analyst_review.decision,
            analyst=analyst_review.reviewer,
            agrees=decision == analyst_review.decision,
            status=status,
            note_sha256=_sha(text),
        )
    )
    return row


def _kilograms(value: Decimal | None, field: str) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite() or value < 0 or value >= Decimal("1e9"):
        raise ValidationFailed(
            f"{field} must be a mass in kilograms (0 or more)", details=[{"field": field}]
        )
    return value.quantize(Decimal("0.001"))


def record_examination(
    unit: Unit,
    scan_id: int,
    *,
    irregular: bool,
    codes: Sequence[str] = (),
    regions: Any = None,
    found_kg: Decimal | None = None,
    weighed_net_kg: Decimal | None = None,
    note: str | None = None,
    actor: str,
) -> ExaminationRow:
    """Record what the physical examination of the scanned container found (once)."""
    scan = _scan(unit, scan_id)
    unknown = sorted(set(codes) - set(FINDING_CODES))
    if unknown:
        raise ValidationFailed(
            f"unknown finding code(s): {', '.join(unknown)} (known: {', '.join(FINDING_CODES)})",
            details=[{"field": "codes", "got": c} for c in unknown],
        )
    if irregular and not codes:
        raise ValidationFailed("say what was found", details=[{"field": "codes"}])
    if not irregular and (codes or found_kg):
        raise ValidationFailed(
            "a result as declared has no finding and no mass found",
            details=[{"field": "irregular", "problem": "contradicts codes or found_kg"}],
        )
    marks = parse_regions(regions, scan.rows, scan.columns)
    found = _kilograms(found_kg, "found_kg")
    weighed = _kilograms(weighed_net_kg, "weighed_net_kg")
    text = _note(note)
    if scan.examination is not None:
        raise Conflict(
            f"the examination of scan {scan_id} is already recorded",
            details=[{"field": "scan_id"}],
        )
    row = ExaminationRow(
        scan_id=scan.id,
        irregular=irregular,
        codes=sorted(set(codes)),
        regions=marks,
        found_kg=found,
        weighed_net_kg=weighed,
        note=text,
        recorded_by=actor,
        recorded_at=clock.now(),
    )
    scan.examination = row
    if irregular:
        forget_load(unit.session, scan.id)
    else:
        remember_load(unit.session, scan, "examined")
    scan.status = "examined"
    unit.session.flush()
    unit.emit(
        ScanExamined(
            actor=actor,
            scan_id=scan.id,
            declaration_id=scan.declaration_id,
            irregular=irregular,
            codes=tuple(row.codes),
            regions=len(marks),
            found_kg=None if found is None else str(found),
            weighed_net_kg=None if weighed is None else str(weighed),
            note_sha256=_sha(text),
        )
    )
    return row
