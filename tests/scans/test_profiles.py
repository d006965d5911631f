"""Per-heading history: the learned detector's score travels in the stored reports."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from smartcustoms.core.context import AppContext
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.profiles import heading_profile, load_of
from smartcustoms.scans.storage import store_for
from smartcustoms.scans.tables import HistoryLoadRow, ScanRow
from tests.scans.stored import CLEAN, case, declaration_for, lodge, write


def _with_learned(report: dict[str, Any], score: float) -> dict[str, Any]:
    out = copy.deepcopy(report)
    for check in out["checks"]:
        if check["analysis"] == "concealment":
            check["figures"]["learned_score"] = score
    return out


def test_load_of_reads_the_learned_score() -> None:
    figures = {
        "load_median_z": 6.0,
        "load_median_areal_density": 80.0,
        "composition_score": 3.0,
        "density_score": 2.0,
    }
    report: dict[str, Any] = {"checks": [{"analysis": "concealment", "figures": figures}]}
    load = load_of(report)
    assert load is not None and load.learned_score is None
    load = load_of(_with_learned(report, 0.25))
    assert load is not None and load.learned_score == 0.25


def test_heading_profile_carries_learned_scores(ctx: AppContext, tmp_path: Path) -> None:
    clean = case(CLEAN)
    heading = clean.hs_code[:4]
    (declaration_id,) = lodge(ctx, declaration_for(clean))
    with ctx.unit() as unit:
        first = receive_scan(
            unit,
            store_for(ctx.settings),
            Upload(write(clean, tmp_path, "first").read_bytes(), "first.tif", declaration_id),
            actor="scanner",
            source="cli",
        ).scan
    now = datetime.now(UTC)
    with ctx.unit() as unit:
        for n in range(25):
            values = {
                c.name: getattr(first, c.name)
                for c in ScanRow.__table__.columns
                if c.name not in ("id", "file_sha256", "report")
            }
            past = ScanRow(
                **values,
                file_sha256=f"{n:064x}",
                report=_with_learned(first.report, n / 100) if n % 5 else first.report,
            )
            unit.session.add(past)
            unit.session.flush()
            unit.session.add(
                HistoryLoadRow(
                    scan_id=past.id,
                    heading=heading,
                    median_z=7.0,
                    median_areal_density=30.0,
                    composition_score=0.5,
                    density_score=0.4,
                    basis="examined",
                    added_at=now,
                )
            )
    with ctx.db.session() as session:
        profile = heading_profile(session, heading)
    scores = [load.learned_score for load in profile.loads]
    assert profile.n_scans == 25 and scores.count(None) == 5
    assert scores[-1] == 0.24  # oldest first, as before
    assert profile.learned_threshold(0.05) is not None  # 20 scans with a learned score
