"""The demo step: simulated scans with their declarations in the review queue, quickly, and a
feeder that adds more until the context closes."""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from smartcustoms.core.context import AppContext
from smartcustoms.core.schema import upgrade
from smartcustoms.core.settings import load_settings
from smartcustoms.declarations.tables import DeclarationRow
from smartcustoms.sandbox.demo import scans as demo_data
from smartcustoms.scans.tables import ScanRow
from tests.waiting import wait_for


def test_demo_fills_the_queue_and_the_feeder_stops_with_the_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo_data, "FEED_EVERY_S", 0.05)
    settings = load_settings(
        None, data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'demo.db'}",
        secret_key=secrets.token_urlsafe(48),
    )  # fmt: skip
    ctx = AppContext.from_settings(settings)
    upgrade(ctx.db)
    started = time.perf_counter()
    demo_data.seed_scans_demo(ctx)
    try:
        assert time.perf_counter() - started < 30  # seconds, even on a busy two-core machine
        with ctx.db.session() as session:
            rows = session.execute(
                select(ScanRow, DeclarationRow).join(
                    DeclarationRow, DeclarationRow.id == ScanRow.declaration_id
                )
            ).all()
        assert len(rows) >= demo_data.INITIAL
        for scan, declaration in rows[: demo_data.INITIAL]:
            assert scan.status == "awaiting_review" and scan.source == "demo"
            assert declaration.lrn == scan.declaration_ref
            assert declaration.document["transport_equipment"][0]["container_id"] == (
                scan.container_number
            )
        decisions = [s.alarm_decision for s, _ in rows]
        assert decisions.count("ALARM") >= 2 and "CLEAR" in decisions
        categories = {
            f["assessment"]["category"] for s, _ in rows for f in s.report["threat_objects"]
        }
        assert {"CONCEALMENT", "NOT_EMPTY", "MASS_DISCREPANCY"} <= categories
        assert any(t.name == "demo-scans" for t in threading.enumerate())

        def fed() -> bool:
            with ctx.db.session() as session:
                count = session.scalar(select(func.count()).select_from(ScanRow)) or 0
            return count > len(rows)

        # The feeder adds a full-resolution scan.
        wait_for(fed, 60.0, interval=0.2, message="the feeder added no scan")
        with ctx.db.session() as session:
            newest = session.scalars(select(ScanRow).order_by(ScanRow.id.desc())).first()
        assert newest is not None and newest.id > len(rows) and newest.rows == 520
    finally:
        ctx.close()
    assert not any(t.name == "demo-scans" for t in threading.enumerate())
