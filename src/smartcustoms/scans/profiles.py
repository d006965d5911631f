"""Per-heading history: the loads of past scans found as declared, which new scans are judged by.

A scan's load joins its heading's profile when an analyst clears it (and no re-check or
examination says otherwise) or when its examination finds it as declared; it leaves again if a
supervisor's re-check or the examination contradicts that. The profile passed to the analyses
is the heading's latest :data:`PROFILE_SIZE` loads, so it follows what the trade ships now.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.scans.analyses.history import HeadingProfile, LoadSummary
from smartcustoms.scans.tables import HistoryLoadRow, ScanRow

__all__ = ["PROFILE_SIZE", "forget_load", "heading_profile", "load_of", "remember_load"]

PROFILE_SIZE = 1000


def load_of(report: Mapping[str, Any]) -> LoadSummary | None:
    """The load summary a report's concealment check recorded (None when it did not run)."""
    for check in report.get("checks", []):
        if check.get("analysis") != "concealment":
            continue
        figures = check.get("figures", {})
        keys = ("load_median_z", "load_median_areal_density", "composition_score", "density_score")
        values = [figures.get(k) for k in keys]
        if all(isinstance(v, int | float) for v in values):
            learned = figures.get("learned_score")
            a, b, c, d = (float(v) for v in values)
            return LoadSummary(
                a, b, c, d, float(learned) if isinstance(learned, int | float) else None
            )
    return None


def heading_profile(session: Session, heading: str) -> HeadingProfile:
    """The heading's profile: its latest loads found as declared. The learned detector's score
    is not a column of the history table: it is read from each scan's stored report."""
    rows = session.execute(
        select(
            HistoryLoadRow.median_z,
            HistoryLoadRow.median_areal_density,
            HistoryLoadRow.composition_score,
            HistoryLoadRow.density_score,
            ScanRow.report,
        )
        .join(ScanRow, ScanRow.id == HistoryLoadRow.scan_id)
        .where(HistoryLoadRow.heading == heading)
        .order_by(HistoryLoadRow.scan_id.desc())
        .limit(PROFILE_SIZE)
    ).all()
    loads = []
    for *numbers, report in reversed(rows):
        stored = load_of(report) if report else None
        learned = stored.learned_score if stored is not None else None
        a, b, c, d = (float(v) for v in numbers)
        loads.append(LoadSummary(a, b, c, d, learned))
    return HeadingProfile.from_loads(heading, loads)


def remember_load(session: Session, scan: ScanRow, basis: str) -> bool:
    """Add ``scan``'s load to its heading's profile; False when it has none or is there."""
    load = load_of(scan.report)
    if load is None or scan.heading is None:
        return False
    if session.get(HistoryLoadRow, scan.id) is not None:
        return False
    session.add(
        HistoryLoadRow(
            scan_id=scan.id,
            heading=scan.heading,
            median_z=load.median_z,
            median_areal_density=load.median_areal_density,
            composition_score=load.composition_score,
            density_score=load.density_score,
            basis=basis,
            added_at=clock.now(),
        )
    )
    return True


def forget_load(session: Session, scan_id: int) -> None:
    """Take a scan's load out of its heading's profile (it was not as declared after all)."""
    session.execute(delete(HistoryLoadRow).where(HistoryLoadRow.scan_id == scan_id))
