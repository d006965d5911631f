"""The scans report on scans received through the real intake (simulated scanner files checked
against their declarations and analysed), reviewed by an analyst and examined, at known
moments. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.reports import compute, parse_filters
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.reviews import record_examination, review_scan
from smartcustoms.scans.storage import store_for
from tests.scans.stored import CLEAN, FLAGGED, MASS, case, declaration_for, lodge, write

from .builders import frozen, utc

PERIOD = {"from": "2026-01-01", "to": "2026-02-28"}


def _receive(ctx: AppContext, path: Path, declaration: int) -> int:
    with ctx.unit() as unit:
        upload = Upload(path.read_bytes(), path.name, declaration)
        return receive_scan(
            unit, store_for(ctx.settings), upload, actor="scanner", source="cli"
        ).scan.id


@pytest.fixture
def scanned(ctx: AppContext, tmp_path: Path) -> dict[str, int]:
    flagged, clean, mass = case(FLAGGED), case(CLEAN), case((*MASS[:2], 3))
    declarations = lodge(
        ctx, declaration_for(flagged), declaration_for(clean), declaration_for(mass)
    )
    story = (
        # (case, received, minutes to review, decision, seconds open, examination)
        (flagged, utc(2026, 1, 10, 8), 30, "physical_examination", 120, ["concealment"]),
        (clean, utc(2026, 1, 12, 10), 10, "clear", 60, None),
        (mass, utc(2026, 2, 3, 9), 20, "suspect", None, []),
    )
    ids = {}
    for n, (item, received, minutes, decision, seconds, found) in enumerate(story):
        with frozen(received):
            scan = _receive(ctx, write(item, tmp_path, f"s{n}"), declarations[n])
        reviewed = received + timedelta(minutes=minutes)
        with frozen(reviewed), ctx.unit() as unit:
            review_scan(unit, scan, decision=decision, seconds_open=seconds, actor="ana")
        if found is not None:
            with frozen(reviewed + timedelta(hours=20)), ctx.unit() as unit:
                record_examination(unit, scan, irregular=bool(found), codes=found, actor="off")
        ids[decision] = scan
    return ids


def test_time_to_review_decisions_and_findings(ctx: AppContext, scanned: dict[str, int]) -> None:
    with ctx.db.session() as session:
        report = compute(session, "scans", parse_filters(PERIOD))
        later = compute(session, "scans", parse_filters({**PERIOD, "from": "2026-02-01"}))
        elsewhere = compute(session, "scans", parse_filters({**PERIOD, "office": "UGKLA"}))
        here = compute(session, "scans", parse_filters({**PERIOD, "office": "kemba"}))
    months = {r["month"]: r for r in report.table("by_month").as_dicts()}
    assert months["2026-01"] == {
        "month": "2026-01",
        "received": 2,
        "reviewed": 2,
        "to_review_min": 20.0,  # (30 + 10) / 2
        "seconds_open": 90.0,  # (120 + 60) / 2
        "clear": 1,
        "suspect": 0,
        "physical_examination": 1,
        "examined": 1,
        "irregular": 1,
        "hit_rate": 1.0,
    }
    february = months["2026-02"]
    assert (february["received"], february["suspect"], february["seconds_open"]) == (1, 1, None)
    assert (february["examined"], february["irregular"], february["hit_rate"]) == (1, 0, 0.0)
    findings = dict(report.table("findings").rows)  # type: ignore[arg-type]
    assert findings == {"as_declared": 1, "concealment": 1}
    assert [r[0] for r in later.tables[0].rows] == ["2026-02"]
    assert elsewhere.tables[0].rows == [] and dict(elsewhere.tables[1].rows) == {"as_declared": 0}  # type: ignore[arg-type]
    assert sum(int(r[1]) for r in here.tables[0].rows) == 3  # type: ignore[call-overload]
