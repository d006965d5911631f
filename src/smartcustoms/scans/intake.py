"""Receiving a scan: read it, check it against its declaration, analyse it, store it.

One function for every way a scan arrives (``POST /api/scans``, ``smartcustoms scans import``,
the demo). Everything is checked before anything is stored; a problem raises a
:class:`~smartcustoms.core.errors.ValidationFailed` whose details name the field at fault:

- the file: unreadable, not TIFF or DICOS, pages or frames that disagree with the sidecar
  (the readers' :class:`~smartcustoms.scans.ScanReadError`), or larger than the store's limits
  allow, refused from its header before any pixel is decoded (413,
  :class:`~smartcustoms.scans.ScanTooLarge`);
- the container: not a valid ISO 6346 number, different in the file and the request, missing
  from both, or not one the declaration lists;
- the declaration: unknown, or not the one the file names (its LRN or MRN);
- the declared figures: a negative mass (:class:`~smartcustoms.scans.ScanInputError`).

The same file sent again (same SHA-256) is the same scan: the stored one is returned.

A scan that carries no calibration of its own is analysed with the one installed for its scanner
(:mod:`smartcustoms.scans.calibrations`); the report's ``scan.calibration`` names the one used.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from stdnum import iso6346

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, ValidationFailed
from smartcustoms.core.unit import Unit
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.scans.analyses.pipeline import analyze
from smartcustoms.scans.calibrations import calibrations_for
from smartcustoms.scans.declared import DeclaredGoods, analysis_masses, declared_goods
from smartcustoms.scans.events import ScanReceived
from smartcustoms.scans.findings import Report
from smartcustoms.scans.model import Scan
from smartcustoms.scans.profiles import heading_profile
from smartcustoms.scans.readers import read_scan
from smartcustoms.scans.storage import ScanStore, file_format, safe_name
from smartcustoms.scans.tables import ScanRow

__all__ = ["PRIORITY", "Received", "Upload", "receive_scan"]

PRIORITY = {"ALARM": 2, "UNKNOWN": 1, "CLEAR": 0}
MAX_NAME = 255


@dataclass(frozen=True)
class Upload:
    """A scan as it arrives: the file, its sidecar if separate, and what it is linked to."""

    data: bytes
    file_name: str
    declaration_id: int
    sidecar: bytes | None = None
    container_number: str | None = None
    tare_kg: float | None = None  # from the container's CSC plate
    goods_gross_kg: float | None = None  # this container's goods, when the CMS knows them
    declared_empty: bool | None = None


@dataclass(frozen=True)
class Received:
    scan: ScanRow
    created: bool  # False: this file was received before


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", details=[{"field": field, "problem": message}])


def _container(upload: Upload, scan: Scan, goods: DeclaredGoods) -> str:
    given = None
    if upload.container_number:
        given = iso6346.compact(upload.container_number)
        if not iso6346.is_valid(given):
            raise _invalid(
                "container_number",
                f"{upload.container_number!r} is not a valid ISO 6346 container number "
                "(owner code, serial number and check digit, e.g. MSCU1234566)",
            )
    in_file = scan.metadata.container_number
    if given and in_file and given != in_file:
        raise _invalid(
            "container_number", f"the request says {given} but the scan file says {in_file}"
        )
    number = given or in_file
    if number is None:
        raise _invalid(
            "container_number", "missing: the scan file names no container, so the request must"
        )
    if goods.containers and number not in goods.containers:
        raise _invalid(
            "container_number",
            f"{number} is not on declaration {goods.declaration_id}, which lists "
            f"{', '.join(goods.containers)}",
        )
    return number


def _check_reference(scan: Scan, goods: DeclaredGoods) -> None:
    ref = scan.metadata.declaration_ref
    if ref and ref not in {goods.lrn, goods.mrn}:
        known = f"LRN {goods.lrn!r}" + (f", MRN {goods.mrn!r}" if goods.mrn else "")
        raise _invalid(
            "declaration_id",
            f"the scan file names declaration {ref!r} but declaration {goods.declaration_id} "
            f"is {known}",
        )


def _analyse(
    unit: Unit, store: ScanStore, scan: Scan, upload: Upload, goods: DeclaredGoods
) -> tuple[Report, str | None]:
    heading = goods.hs_code[:4] if goods.hs_code else None
    history = heading_profile(unit.session, heading) if heading else None
    declared_gross, tare = analysis_masses(goods.goods_gross_kg, upload.tare_kg)
    report = analyze(
        scan,
        declared_gross_kg=declared_gross,
        hs_code=goods.hs_code,
        tare_kg=tare,
        declared_empty=upload.declared_empty,
        history=history,
        calibration=calibrations_for(store.root).for_scan(scan),
    )
    return report, heading


def report_sha256(report: dict[str, Any]) -> str:
    text = json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def receive_scan(
    unit: Unit, store: ScanStore, upload: Upload, *, actor: str, source: str
) -> Received:
    """Check, analyse and store one scan in ``unit``'s transaction; publish ``scans.received``."""
    if not upload.data:
        raise _invalid("file", "the file is empty")
    sha = hashlib.sha256(upload.data).hexdigest()
    existing = unit.session.scalar(select(ScanRow).where(ScanRow.file_sha256 == sha))
    if existing is not None:
        if existing.declaration_id != upload.declaration_id:
            raise Conflict(
                f"this file was received before as scan {existing.id}, linked to declaration "
                f"{existing.declaration_id}",
                details=[{"field": "declaration_id", "scan_id": existing.id}],
            )
        return Received(existing, created=False)
    declaration = unit.session.get(DeclarationRow, upload.declaration_id)
    if declaration is None:
        raise _invalid("declaration_id", f"no declaration {upload.declaration_id}")
    goods = declared_goods(declaration, upload.goods_gross_kg)
    fmt = file_format(upload.data[:132])
    name = safe_name(upload.file_name, fmt)
    with tempfile.TemporaryDirectory(dir=store.workspace()) as tmp:
        path = Path(tmp) / name
        path.write_bytes(upload.data)
        sidecar = None
        if upload.sidecar is not None:
            sidecar = path.with_suffix(".json")
            sidecar.write_bytes(upload.sidecar)
        # ScanReadError / ScanTooLarge name the file and the field at fault
        scan = read_scan(path, limits=store.limits)
        assert fmt is not None  # read_scan refuses anything that is neither
        container = _container(upload, scan, goods)
        _check_reference(scan, goods)
        report, heading = _analyse(unit, store, scan, upload, goods)
        stored = store.put(path, sha, fmt, sidecar)
    data = report.to_dict()
    data["scan"]["file"] = (upload.file_name or name)[:MAX_NAME]
    data["declared"]["mass_source"] = goods.mass_source
    threats = [f.probability for f in report.findings]
    meta = scan.metadata
    row = ScanRow(
        received_at=clock.now(),
        received_by=actor,
        source=source,
        file_sha256=sha,
        file_format=fmt,
        file_name=(upload.file_name or name)[:MAX_NAME],
        file_bytes=len(upload.data),
        separate_sidecar=upload.sidecar is not None,
        scanner_id=meta.scanner_id[:64],
        container_number=container,
        container_type=data["scan"].get("container_type"),
        declaration_id=declaration.id,
        declaration_ref=meta.declaration_ref[:70] if meta.declaration_ref else None,
        acquired_at=meta.acquired_at,
        rows=scan.shape[0],
        columns=scan.shape[1],
        dual_energy=scan.is_dual_energy,
        alarm_decision=report.alarm_decision,
        priority=PRIORITY[report.alarm_decision],
        max_score=max(threats, default=0.0),
        findings=len(report.findings),
        algorithm=report.algorithm[:120],
        hs_code=goods.hs_code,
        heading=heading,
        report=data,
        status="awaiting_review",
        decision=None,
    )
    try:
        unit.session.add(row)
        unit.session.flush()
    except Exception:
        if stored.created:  # nothing half-done: the file goes if its row does not come
            store.remove(sha, fmt)
        raise
    unit.emit(
        ScanReceived(
            actor=actor,
            scan_id=row.id,
            file_sha256=sha,
            declaration_id=declaration.id,
            container_number=container,
            scanner_id=row.scanner_id,
            alarm_decision=row.alarm_decision,
            findings=row.findings,
            max_score=f"{row.max_score:.4f}",
            algorithm=row.algorithm,
            report_sha256=report_sha256(data),
        )
    )
    return Received(row, created=True)
