"""The ingest writer and the pipeline on a real database: storing, de-duplicating, matching to
transits, rules to alerts, live state and feed, the clock rules, and failures."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.events import Event
from smartcustoms.tracking.alerts import resolve_alert
from smartcustoms.tracking.ingest import Ingestor, IngestTiming
from smartcustoms.tracking.pipeline import on_positions_stored
from smartcustoms.tracking.records import Position, SealEvent
from smartcustoms.tracking.rules import Report
from smartcustoms.tracking.tables import (
    AlertRow,
    AlertStepRow,
    CorridorRow,
    FeedRow,
    PositionRow,
    TransitLiveRow,
)
from smartcustoms.tracking.transits import arm_transit, discharge_transit
from tests.waiting import wait_for

from .helpers import (
    MALABA_KE,
    NEAR_VOI_OFF_ROUTE,
    VOI,
    import_packaged,
    incoming,
    make_transit,
    position,
)

# Chores on demand only: the tests decide when the clock rules run.
QUIET = IngestTiming(refresh_s=0.05, sweep_s=3600, prune_s=3600, devices_s=3600)


@pytest.fixture
def ingestor(ctx: AppContext) -> Iterator[Ingestor]:
    import_packaged(ctx)
    writer = Ingestor(ctx, timing=QUIET, live_interval_s=0)
    writer.start()
    yield writer
    writer.stop()


def send(writer: Ingestor, device: str, positions: Sequence[Position]) -> bool:
    done = threading.Event()
    result: list[bool] = []

    def stored(ok: bool) -> None:
        result.append(ok)
        done.set()

    writer.submit([incoming(p) for p in positions], device, stored)
    assert done.wait(10), "the writer did not answer"
    return result[0]


def alerts(ctx: AppContext) -> list[AlertRow]:
    with ctx.db.session() as session:
        return list(session.scalars(select(AlertRow).order_by(AlertRow.id)))


def positions_stored(ctx: AppContext) -> int:
    with ctx.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(PositionRow)) or 0)


def test_an_opening_raises_one_alert_and_repeats_count(
    ctx: AppContext, ingestor: Ingestor, events: list[Event]
) -> None:
    transit = make_transit(ctx, "E1")
    wait_for(lambda: "E1" in ingestor.monitor.by_device)
    now = datetime.now(UTC)
    assert send(ingestor, "E1", [position("E1", VOI, at=now)])
    assert alerts(ctx) == []
    assert send(
        ingestor,
        "E1",
        [position("E1", VOI, at=now + timedelta(seconds=10), events=(SealEvent.OPENED,))],
    )
    assert send(
        ingestor,
        "E1",
        [position("E1", VOI, at=now + timedelta(seconds=20), events=(SealEvent.OPENED,))],
    )
    (alert,) = alerts(ctx)
    assert (alert.type, alert.severity, alert.status, alert.count) == (
        "seal_opened",
        "critical",
        "open",
        2,
    )
    assert alert.transit_id == transit
    assert alert.occurred_at == (now + timedelta(seconds=10)).replace(microsecond=0)
    with ctx.db.session() as session:
        steps = session.scalars(select(AlertStepRow)).all()
    assert [(s.action, s.actor) for s in steps] == [("raised", "system:tracking")]
    wait_for(lambda: any(e.type == "tracking.alert_raised" for e in events))
    # Resolved, the next opening is a new alert.
    with ctx.unit() as unit:
        resolve_alert(unit, alert.id, actor="op", outcome="false_alarm")
    assert send(
        ingestor,
        "E1",
        [position("E1", VOI, at=now + timedelta(seconds=30), events=(SealEvent.OPENED,))],
    )
    assert [(a.status, a.count) for a in alerts(ctx)] == [("resolved", 2), ("open", 1)]


def test_retransmissions_are_stored_once_and_judged_once(
    ctx: AppContext, ingestor: Ingestor
) -> None:
    make_transit(ctx, "E2")
    wait_for(lambda: "E2" in ingestor.monitor.by_device)
    now = datetime.now(UTC)
    batch = [
        position("E2", VOI, at=now),
        position("E2", VOI, at=now + timedelta(seconds=5), events=(SealEvent.TAMPER,)),
    ]
    assert send(ingestor, "E2", batch)
    assert send(ingestor, "E2", batch)  # the device never saw our answer: it sends again
    assert send(ingestor, "E2", [batch[1], batch[1]])  # and again, twice in one packet
    assert positions_stored(ctx) == 2
    assert ingestor.stats.duplicates == 4
    (alert,) = alerts(ctx)
    assert alert.count == 1  # the retransmitted tamper was not counted again


def test_devices_without_a_transit_are_stored_only(ctx: AppContext, ingestor: Ingestor) -> None:
    assert send(
        ingestor, "LOOSE", [position("LOOSE", NEAR_VOI_OFF_ROUTE, events=(SealEvent.OPENED,))]
    )
    assert positions_stored(ctx) == 1
    assert alerts(ctx) == []


def test_reports_from_before_arming_are_not_judged(ctx: AppContext, ingestor: Ingestor) -> None:
    make_transit(ctx, "E3")
    wait_for(lambda: "E3" in ingestor.monitor.by_device)
    old = datetime.now(UTC) - timedelta(hours=2)
    assert send(ingestor, "E3", [position("E3", VOI, at=old, events=(SealEvent.OPENED,))])
    assert positions_stored(ctx) == 1
    assert alerts(ctx) == []


def test_deviation_with_corridor_thresholds_live_state_and_feed(
    ctx: AppContext, ingestor: Ingestor
) -> None:
    with ctx.unit() as unit:
        northern = unit.session.scalars(
            select(CorridorRow).where(CorridorRow.code == "northern")
        ).one()
        northern.thresholds = {"deviation_minutes": 2, "severity": {"route_deviation": "critical"}}
        northern.imported_at = clock.now()  # how the workers notice a changed corridor
    transit = make_transit(ctx, "E4")
    wait_for(lambda: "E4" in ingestor.monitor.by_device)
    wait_for(
        lambda: (
            ingestor.monitor.corridors
            and next(
                c for c in ingestor.monitor.corridors.values() if c.code == "northern"
            ).thresholds.deviation_minutes
            == 2
        )
    )
    now = datetime.now(UTC)
    assert send(ingestor, "E4", [position("E4", NEAR_VOI_OFF_ROUTE, at=now)])
    assert alerts(ctx) == []
    assert send(ingestor, "E4", [position("E4", NEAR_VOI_OFF_ROUTE, at=now + timedelta(minutes=2))])
    (alert,) = alerts(ctx)
    assert (alert.type, alert.severity) == ("route_deviation", "critical")
    assert alert.details["off_route_m"] > 40_000
    with ctx.db.session() as session:
        live = session.get(TransitLiveRow, transit)
        assert live is not None
        assert live.inside_corridor is False and live.zone is None
        assert live.latitude == NEAR_VOI_OFF_ROUTE[1]
        assert "route_deviation" in live.rule_state["alerted"]
        kinds = [
            (f.kind, json.loads(f.payload))
            for f in session.scalars(select(FeedRow).order_by(FeedRow.id))
        ]
    assert [k for k, _ in kinds] == ["transit", "transit", "position", "alert", "position"]
    assert kinds[3][1]["type"] == "route_deviation" and kinds[3][1]["reference"]
    # At the border post the truck is in an authorised zone.
    assert send(ingestor, "E4", [position("E4", MALABA_KE, at=now + timedelta(minutes=3))])
    with ctx.db.session() as session:
        live = session.get(TransitLiveRow, transit)
        assert live is not None and live.zone == "KE-MALABA" and live.inside_corridor


def test_lifecycle_changes_reach_the_writer(ctx: AppContext, ingestor: Ingestor) -> None:
    transit = make_transit(ctx, "E5", arm=False)
    assert send(ingestor, "E5", [position("E5", events=(SealEvent.OPENED,))])
    assert alerts(ctx) == []  # not armed: not monitored
    with ctx.unit() as unit:
        arm_transit(unit, transit, actor="officer")
    wait_for(lambda: "E5" in ingestor.monitor.by_device)
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert send(ingestor, "E5", [position("E5", at=later, events=(SealEvent.OPENED,))])
    assert len(alerts(ctx)) == 1
    with ctx.unit() as unit:
        discharge_transit(unit, transit, actor="officer", seal_intact=True)
    wait_for(lambda: "E5" not in ingestor.monitor.by_device)


def test_clock_rules_signal_lost_and_deadline(ctx: AppContext, ingestor: Ingestor) -> None:
    make_transit(ctx, "E6", hours=1)
    wait_for(lambda: "E6" in ingestor.monitor.by_device)
    assert send(ingestor, "E6", [position("E6")])
    real = datetime.now(UTC)
    clock.set_clock(lambda: real + timedelta(hours=2))
    try:
        ingestor.sweep_soon()
        wait_for(lambda: len(alerts(ctx)) == 2)
    finally:
        clock.set_clock(None)
    assert sorted(a.type for a in alerts(ctx)) == ["deadline_passed", "signal_lost"]


def test_a_pipeline_failure_still_stores_and_acknowledges(
    ctx: AppContext, ingestor: Ingestor
) -> None:
    make_transit(ctx, "E7")
    wait_for(lambda: "E7" in ingestor.monitor.by_device)
    with ctx.db.engine.begin() as conn:  # the alert tables are gone: the rules cannot write
        conn.execute(text("ALTER TABLE tracking_alert_steps RENAME TO tracking_alert_steps_away"))
    try:
        assert send(ingestor, "E7", [position("E7", events=(SealEvent.OPENED,))])
        assert positions_stored(ctx) == 1
        assert ingestor.stats.pipeline_errors == 1
    finally:
        with ctx.db.engine.begin() as conn:
            conn.execute(
                text("ALTER TABLE tracking_alert_steps_away RENAME TO tracking_alert_steps")
            )
    assert alerts(ctx) == []  # the whole pipeline rolled back, positions kept
    wait_for(lambda: ingestor.monitor.loaded)
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert send(ingestor, "E7", [position("E7", at=later, events=(SealEvent.OPENED,))])
    assert len(alerts(ctx)) == 1


def test_a_store_failure_acknowledges_nothing(ctx: AppContext, ingestor: Ingestor) -> None:
    with ctx.db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE tracking_positions RENAME TO tracking_positions_away"))
    try:
        assert send(ingestor, "E8", [position("E8")]) is False
        assert ingestor.stats.write_errors == 1
    finally:
        with ctx.db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE tracking_positions_away RENAME TO tracking_positions"))
    assert send(ingestor, "E8", [position("E8")]) is True


def test_positions_stored_hooks_hear_each_committed_batch(
    ctx: AppContext, ingestor: Ingestor
) -> None:
    transit = make_transit(ctx, "E9")
    wait_for(lambda: "E9" in ingestor.monitor.by_device)
    heard: list[tuple[dict[int, list[tuple[str, datetime]]], int]] = []

    def hook(stored: dict[int, list[Report]]) -> None:
        # Called after the commit: the positions it is told of are in the table already.
        seen = {t: [(r.device_id, r.position.time) for r in rs] for t, rs in stored.items()}
        heard.append((seen, positions_stored(ctx)))

    remove = on_positions_stored(hook)
    try:
        now = datetime.now(UTC).replace(microsecond=0)
        first = [position("E9", VOI, at=now), position("E9", VOI, at=now + timedelta(seconds=5))]
        assert send(ingestor, "E9", first)
        assert send(ingestor, "LOOSE9", [position("LOOSE9", VOI, at=now)])  # no transit: silent
        assert send(ingestor, "E9", [first[1]])  # a retransmission: nothing new to tell
        later = position("E9", VOI, at=now + timedelta(seconds=10))
        assert send(ingestor, "E9", [first[0], later])
        wait_for(lambda: len(heard) == 2)
    finally:
        remove()
    # (The hooks run on their own thread: later batches may have committed meanwhile.)
    assert heard[0][0] == {transit: [("E9", now), ("E9", now + timedelta(seconds=5))]}
    assert heard[0][1] >= 2
    assert heard[1][0] == {transit: [("E9", now + timedelta(seconds=10))]}
    assert heard[1][1] == 4
    assert send(ingestor, "E9", [position("E9", VOI, at=now + timedelta(seconds=15))])
    assert len(heard) == 2  # removed: told no more
