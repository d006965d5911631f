"""The stored workflow without HTTP: the scan store, the review state machine, and the heading
history that cleared and examined scans feed and that later analyses use."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import Conflict, Forbidden, ValidationFailed
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.profiles import PROFILE_SIZE, heading_profile
from smartcustoms.scans.reviews import recheck_scan, record_examination, review_scan
from smartcustoms.scans.storage import ScanStore, safe_name, store_for
from smartcustoms.scans.tables import HistoryLoadRow, ScanRow
from tests.scans.stored import CLEAN, FLAGGED, case, declaration_for, lodge, write


def receive(ctx: AppContext, path: Path, declaration_id: int) -> ScanRow:
    with ctx.unit() as unit:
        return receive_scan(
            unit, store_for(ctx.settings), Upload(path.read_bytes(), path.name, declaration_id),
            actor="scanner", source="cli",
        ).scan  # fmt: skip


def test_store_names_files_by_hash_and_checks_them(tmp_path: Path) -> None:
    store = ScanStore(tmp_path / "scans")
    source = store.workspace() / "in.tif"
    source.write_bytes(b"II*\x00scan")
    sha = "ab" + "0" * 62
    first = store.put(source, sha, "tiff", None)
    assert first.created and first.path == tmp_path / "scans" / "ab" / f"{sha}.tif"
    again = store.workspace() / "again.tif"
    again.write_bytes(b"II*\x00scan")
    assert not store.put(again, sha, "tiff", None).created
    assert not store.verify(sha, "tiff")  # the bytes do not hash to this made-up name
    with pytest.raises(ValueError, match="not a SHA-256"):
        store.path("../../etc/passwd", "tiff")
    store.remove(sha, "tiff")
    assert not first.path.exists()
    assert safe_name("../../x y.TIF", "tiff") == "x_y.TIF"
    assert safe_name("scan", "dicos") == "scan.dcm"
    assert safe_name("meta.json", "tiff") == "meta.json.tif"


def test_review_state_machine(ctx: AppContext, tmp_path: Path) -> None:
    flagged, clean = case(FLAGGED), case(CLEAN)
    ids = lodge(ctx, declaration_for(flagged), declaration_for(clean))
    alarm = receive(ctx, write(flagged, tmp_path, "a"), ids[0])
    quiet = receive(ctx, write(clean, tmp_path, "b"), ids[1])
    assert (alarm.status, alarm.priority, quiet.priority) == ("awaiting_review", 2, 0)
    with ctx.unit() as unit, pytest.raises(Conflict, match="only a reviewed scan"):
        recheck_scan(unit, alarm.id, decision="clear", actor="sup")
    with ctx.unit() as unit:
        review_scan(unit, alarm.id, decision="suspect", actor="ana")
    with ctx.unit() as unit, pytest.raises(Forbidden):
        recheck_scan(unit, alarm.id, decision="clear", actor="ana")
    with ctx.unit() as unit:
        recheck_scan(unit, alarm.id, decision="clear", note="pallet jack", actor="sup")
    with ctx.db.session() as session:
        row = session.get(ScanRow, alarm.id)
        assert row is not None and (row.status, row.decision) == ("cleared", "clear")
        # Cleared after a re-check: its load joins the heading's history.
        assert session.get(HistoryLoadRow, alarm.id) is not None
    with ctx.unit() as unit:
        # The examination contradicts the clearance: the load leaves the history again.
        record_examination(unit, alarm.id, irregular=True, codes=["concealment"], actor="off")
    with ctx.db.session() as session:
        assert session.get(HistoryLoadRow, alarm.id) is None
        assert session.get(ScanRow, alarm.id).status == "examined"  # type: ignore[union-attr]
    with ctx.unit() as unit, pytest.raises(ValidationFailed, match="no finding"):
        record_examination(unit, quiet.id, irregular=False, codes=["quantity"], actor="off")
    with ctx.unit() as unit:
        record_examination(unit, quiet.id, irregular=False, actor="off")
    with ctx.db.session() as session:
        load = session.get(HistoryLoadRow, quiet.id)
        assert load is not None and load.basis == "examined"


def test_history_of_a_heading_is_used_by_the_next_analysis(ctx: AppContext, tmp_path: Path) -> None:
    """With 20 or more loads found as declared, a heading's own thresholds replace the
    defaults; the profile is the heading's latest loads."""
    clean = case(CLEAN)
    heading = clean.hs_code[:4]
    (declaration_id,) = lodge(ctx, declaration_for(clean))
    first = receive(ctx, write(clean, tmp_path, "first"), declaration_id)
    figures = next(c for c in first.report["checks"] if c["analysis"] == "concealment")["figures"]
    assert figures["threshold_source"] == "default"
    now = datetime.now(UTC)
    with ctx.unit() as unit:
        # Twenty-five past scans of the heading, found as declared (their files do not matter).
        for n in range(25):
            past = ScanRow(
                **{c.name: getattr(first, c.name) for c in ScanRow.__table__.columns
                   if c.name not in ("id", "file_sha256")},
                file_sha256=f"{n:064x}",
            )  # fmt: skip
            unit.session.add(past)
            unit.session.flush()
            unit.session.add(
                HistoryLoadRow(
                    scan_id=past.id, heading=heading, median_z=7.0 + n / 100,
                    median_areal_density=30.0 + n, composition_score=0.5 + n / 100,
                    density_score=0.4 + n / 100, basis="examined", added_at=now,
                )
            )  # fmt: skip
    with ctx.db.session() as session:
        profile = heading_profile(session, heading)
        assert profile.n_scans == 25 and profile.loads[-1].median_areal_density == 54.0
        assert PROFILE_SIZE >= 25
    with ctx.unit() as unit:
        unit.session.delete(unit.session.get(ScanRow, first.id))
    again = receive(ctx, write(clean, tmp_path, "again"), declaration_id)
    figures = next(c for c in again.report["checks"] if c["analysis"] == "concealment")["figures"]
    assert figures["threshold_source"] == f"heading {heading} history (25 scans)"
    assert "load_z_scores" in figures
