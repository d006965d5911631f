"""The transits and alerts reports on data made by the product itself: transits created, armed,
watched by the ingest pipeline (which raises the long-stop and cable-cut alerts), handed over
and discharged; alerts acknowledged and resolved at known moments. Figures are checked against
what the story says, and the whole alerts table against a recomputation in Python from the
stored rows. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.reports import compute, parse_filters
from smartcustoms.tracking.alerts import acknowledge_alert, resolve_alert
from smartcustoms.tracking.records import SealEvent
from smartcustoms.tracking.tables import AlertRow
from smartcustoms.tracking.transits import cancel_transit
from tests.tracking.helpers import KAMPALA, MALABA_KE, VOI, import_packaged, position

from .builders import discharge, feed, frozen, new_transit, utc

YEAR = {"from": "2026-01-01", "to": "2026-02-28"}


@pytest.fixture
def story(ctx: AppContext) -> dict[str, int]:
    import_packaged(ctx)
    # R1: 49 h on the road, one long stop near Voi, 2.5 h at the Malaba border post, at
    # Kampala 3 h before discharge.
    r1 = new_transit(ctx, "R1", utc(2026, 1, 10, 8))
    feed(
        ctx,
        [
            position("R1", VOI, at=utc(2026, 1, 10, 12), speed=0),
            position("R1", VOI, at=utc(2026, 1, 10, 15), speed=0),
            position("R1", MALABA_KE, at=utc(2026, 1, 11, 10), speed=0),
            position("R1", MALABA_KE, at=utc(2026, 1, 11, 12, 30), speed=0),
            position("R1", KAMPALA, at=utc(2026, 1, 12, 6), speed=0),
        ],
    )
    discharge(ctx, r1, utc(2026, 1, 12, 9))
    # R2: 50 h, the cable cut at the border (1 h there), 2 h at Kampala before discharge.
    r2 = new_transit(ctx, "R2", utc(2026, 1, 20))
    feed(
        ctx,
        [
            position("R2", MALABA_KE, at=utc(2026, 1, 21), speed=0, events=(SealEvent.CABLE_CUT,)),
            position("R2", MALABA_KE, at=utc(2026, 1, 21, 1), speed=0),
            position("R2", KAMPALA, at=utc(2026, 1, 22), speed=0),
        ],
    )
    discharge(ctx, r2, utc(2026, 1, 22, 2))
    # R3: February, cancelled before it left.
    r3 = new_transit(ctx, "R3", utc(2026, 2, 5))
    with frozen(utc(2026, 2, 5, 1)), ctx.unit() as unit:
        cancel_transit(unit, r3, actor="officer", reason="truck broke down")
    with ctx.db.session() as session:
        alerts = {a.type: a for a in session.scalars(select(AlertRow))}
    stop, cut = alerts["long_stop"], alerts["cable_cut"]
    assert stop.raised_at == utc(2026, 1, 10, 15) and cut.raised_at == utc(2026, 1, 21)
    for alert, ack_min, resolve_min, outcome in (
        (stop, 10, 70, "authorised"),
        (cut, 5, 35, "tampering_confirmed"),
    ):
        with frozen(alert.raised_at + timedelta(minutes=ack_min)), ctx.unit() as unit:
            acknowledge_alert(unit, alert.id, actor="op")
        with frozen(alert.raised_at + timedelta(minutes=resolve_min)), ctx.unit() as unit:
            resolve_alert(unit, alert.id, actor="op", outcome=outcome)
    return {"r1": r1, "r2": r2, "r3": r3}


def test_transits_per_corridor_and_month(ctx: AppContext, story: dict[str, int]) -> None:
    with ctx.db.session() as session:
        report = compute(session, "transits", parse_filters(YEAR))
        rows = {
            (r["corridor"], r["month"]): r for r in report.table("by_corridor_month").as_dicts()
        }
        assert rows[("northern", "2026-01")] == {
            "corridor": "northern",
            "month": "2026-01",
            "transits": 2,
            "discharged": 2,
            "cancelled": 0,
            "duration_h": 49.5,  # (49 + 50) / 2
            "long_stops": 1,
            "border_dwell_h": 1.75,  # (2.5 + 1) / 2
            "to_discharge_h": 2.5,  # (3 + 2) / 2
        }
        february = rows[("northern", "2026-02")]
        assert (february["transits"], february["cancelled"], february["duration_h"]) == (1, 1, None)
        assert [(b.label, b.value) for b in report.charts[0].bars] == [
            ("2026-01", 2),
            ("2026-02", 1),
        ]
        # Filters: the date range, the corridor, the office (origin or destination).
        only_feb = compute(session, "transits", parse_filters({**YEAR, "from": "2026-02-01"}))
        assert [r[1] for r in only_feb.tables[0].rows] == ["2026-02"]
        central = compute(session, "transits", parse_filters({**YEAR, "corridor": "central"}))
        assert central.tables[0].rows == []
        kampala = compute(session, "transits", parse_filters({**YEAR, "office": "ugkla"}))
        assert sum(int(r[2]) for r in kampala.tables[0].rows) == 3  # type: ignore[call-overload]
        elsewhere = compute(session, "transits", parse_filters({**YEAR, "office": "TZDAR"}))
        assert elsewhere.tables[0].rows == []


def test_alerts_by_type_and_outcome(ctx: AppContext, story: dict[str, int]) -> None:
    with ctx.db.session() as session:
        report = compute(session, "alerts", parse_filters(YEAR))
        rows = {(r["type"], r["month"]): r for r in report.table("by_type_month").as_dicts()}
        assert rows[("long_stop", "2026-01")] == {
            "type": "long_stop",
            "month": "2026-01",
            "alerts": 1,
            "acknowledged": 1,
            "resolved": 1,
            "to_acknowledge_min": 10.0,
            "to_resolve_min": 70.0,
        }
        cut = rows[("cable_cut", "2026-01")]
        assert (cut["to_acknowledge_min"], cut["to_resolve_min"]) == (5.0, 35.0)
        outcomes = {(r["type"], r["outcome"]): r for r in report.table("outcomes").as_dicts()}
        assert outcomes[("long_stop", "authorised")]["alerts"] == 1
        assert outcomes[("cable_cut", "tampering_confirmed")]["share"] == 1.0
        # The whole table against the stored alerts, counted here in Python.
        stored = [
            a
            for a in session.scalars(select(AlertRow))
            if utc(2026, 1, 1) <= a.raised_at < utc(2026, 3, 1)
        ]
        expected: dict[tuple[str, str], list[float]] = {}
        for a in stored:
            e = expected.setdefault((a.type, a.raised_at.strftime("%Y-%m")), [0, 0, 0, 0.0, 0.0])
            e[0] += 1
            if a.acknowledged_at:
                e[1] += 1
                e[3] += (a.acknowledged_at - a.raised_at).total_seconds()
            if a.resolved_at:
                e[2] += 1
                e[4] += (a.resolved_at - a.raised_at).total_seconds()
        assert {k: (v["alerts"], v["acknowledged"], v["resolved"]) for k, v in rows.items()} == {
            k: (v[0], v[1], v[2]) for k, v in expected.items()
        }
        for key, v in expected.items():
            if v[1]:
                assert rows[key]["to_acknowledge_min"] == round(v[3] / v[1] / 60, 1)
        # The corridor filter joins through the transit.
        none = compute(session, "alerts", parse_filters({**YEAR, "corridor": "central"}))
        assert none.tables[0].rows == [] and none.tables[1].rows == []
