"""The rules one by one, on reports whose location the test sets (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smartcustoms.tracking.geometry import circle
from smartcustoms.tracking.monitor import TransitState, ZoneInfo
from smartcustoms.tracking.pipeline import _advance
from smartcustoms.tracking.records import SealEvent
from smartcustoms.tracking.rules import Report, Trigger, evaluate, sweep
from smartcustoms.tracking.thresholds import AlertType, Severity, Thresholds

from .helpers import NEAR_VOI_OFF_ROUTE, VOI, position

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
BORDER = ZoneInfo("UGMAL", "Malaba", "border_post", True, circle(34.26, 0.64, 2000))
RULES = Thresholds()


def transit() -> TransitState:
    return TransitState(
        id=7,
        reference="T-7",
        device_id="D7",
        corridor_id=1,
        status="armed",
        deadline=T0 + timedelta(days=3),
        armed_at=T0,
        destination="UGKLA",
    )


def report(
    state: TransitState,
    minutes: float = 0,
    *,
    where: tuple[float, float] = VOI,
    inside: bool = True,
    zone: ZoneInfo | None = None,
    speed: float = 60.0,
    events: tuple[SealEvent, ...] = (),
    valid: bool = True,
    **attributes: object,
) -> Report:
    at = T0 + timedelta(minutes=minutes)
    p = position("D7", where, at=at, speed=speed, events=events, valid=valid, **attributes)
    r = Report(p, "D7", at, "test", transit=state, zone=zone)
    r.inside_corridor = inside if valid else None
    r.current = state.fix_time is None or at >= state.fix_time
    return r


def run(r: Report, thresholds: Thresholds = RULES) -> list[AlertType]:
    """Evaluate, then move the transit on, as the pipeline does."""
    assert r.transit is not None
    fired = evaluate(r, thresholds)
    _advance(r.transit, r)
    return [t.type for t in fired]


@pytest.mark.parametrize("event", [SealEvent.OPENED, SealEvent.UNLOCKED])
def test_seal_opened_outside_a_zone(event: SealEvent) -> None:
    state = transit()
    assert run(report(state, events=(event,))) == [AlertType.SEAL_OPENED]


def test_seal_opened_in_an_authorised_zone_is_no_alert() -> None:
    state = transit()
    assert run(report(state, events=(SealEvent.OPENED,), zone=BORDER)) == []


def test_seal_opened_without_a_fix_is_an_alert() -> None:
    state = transit()
    fired = evaluate(report(state, events=(SealEvent.OPENED,), valid=False), RULES)
    assert [t.type for t in fired] == [AlertType.SEAL_OPENED]
    assert fired[0].details["position_unknown"] is True


def test_lock_state_turning_unlocked_counts_as_an_opening() -> None:
    state = transit()
    assert run(report(state, 0, locked=True)) == []
    assert run(report(state, 1, locked=True)) == []
    assert run(report(state, 2, locked=False)) == [AlertType.SEAL_OPENED]
    assert run(report(state, 3, locked=False)) == []  # a state, not a new event


def test_cable_cut_event_and_cable_pulled_out() -> None:
    state = transit()
    assert run(report(state, events=(SealEvent.CABLE_CUT,))) == [AlertType.CABLE_CUT]
    other = transit()
    assert run(report(other, 0, cable_inserted=True)) == []
    assert run(report(other, 1, cable_inserted=False)) == [AlertType.CABLE_CUT]


@pytest.mark.parametrize(
    "event", [SealEvent.TAMPER, SealEvent.POWER_CUT, SealEvent.GPS_ANTENNA_CUT]
)
def test_tamper_events(event: SealEvent) -> None:
    assert run(report(transit(), events=(event,))) == [AlertType.TAMPER]


def test_gps_jamming() -> None:
    assert run(report(transit(), events=(SealEvent.GPS_JAMMING,))) == [AlertType.GPS_JAMMING]


def test_low_battery_once_per_episode() -> None:
    state = transit()
    assert run(report(state, 0, battery_level=50)) == []
    assert run(report(state, 1, battery_level=18)) == [AlertType.LOW_BATTERY]
    assert run(report(state, 2, battery_level=15)) == []  # still the same episode
    assert run(report(state, 3, battery_level=24)) == []  # within the hysteresis
    assert run(report(state, 4, battery_level=90)) == []  # charged: episode over
    assert run(report(state, 5, events=(SealEvent.LOW_BATTERY,))) == [AlertType.LOW_BATTERY]


def test_deviation_only_after_the_threshold() -> None:
    state = transit()
    assert run(report(state, 0)) == []
    off = {"where": NEAR_VOI_OFF_ROUTE, "inside": False}
    assert run(report(state, 1, **off)) == []  # type: ignore[arg-type]
    assert run(report(state, 10.9, **off)) == []  # type: ignore[arg-type]
    assert run(report(state, 11, **off)) == [AlertType.ROUTE_DEVIATION]  # type: ignore[arg-type]
    assert run(report(state, 30, **off)) == []  # type: ignore[arg-type]  # once per excursion
    assert run(report(state, 31)) == []  # back on the road
    assert run(report(state, 32, **off)) == []  # type: ignore[arg-type]  # a new excursion …
    assert run(report(state, 42, **off)) == [AlertType.ROUTE_DEVIATION]  # type: ignore[arg-type]


def test_deviation_threshold_per_corridor() -> None:
    state = transit()
    quick = Thresholds(deviation_minutes=2, severity={"route_deviation": "critical"})
    off = {"where": NEAR_VOI_OFF_ROUTE, "inside": False}
    assert run(report(state, 0, **off), quick) == []  # type: ignore[arg-type]
    assert run(report(state, 2, **off), quick) == [AlertType.ROUTE_DEVIATION]  # type: ignore[arg-type]
    assert quick.severity_of(AlertType.ROUTE_DEVIATION) is Severity.CRITICAL


def test_late_records_do_not_move_timers() -> None:
    state = transit()
    assert run(report(state, 20)) == []
    off = report(state, 5, where=NEAR_VOI_OFF_ROUTE, inside=False)  # older than the last fix
    assert not off.current
    assert run(off) == []
    assert state.rule.outside_since is None
    assert state.fix_time == T0 + timedelta(minutes=20)
    # but a late seal event still counts
    assert run(report(state, 6, events=(SealEvent.OPENED,))) == [AlertType.SEAL_OPENED]


def test_long_stop_outside_a_stop_zone() -> None:
    state = transit()
    assert run(report(state, 0, speed=0)) == []
    assert run(report(state, 119, speed=0)) == []
    assert run(report(state, 120, speed=0)) == [AlertType.LONG_STOP]
    assert run(report(state, 200, speed=0)) == []
    assert run(report(state, 201, speed=40)) == []  # moving: the stop is over


def test_stopping_in_an_authorised_zone_is_fine() -> None:
    state = transit()
    for minute in (0, 60, 180):
        assert run(report(state, minute, speed=0, zone=BORDER)) == []


def test_creeping_restarts_the_stop() -> None:
    state = transit()
    assert run(report(state, 0, speed=2)) == []
    moved = (VOI[0] + 0.01, VOI[1])  # about 1.1 km on: a new stop
    assert run(report(state, 100, speed=2, where=moved)) == []
    assert run(report(state, 200, speed=2, where=moved)) == []
    assert run(report(state, 220, speed=2, where=moved)) == [AlertType.LONG_STOP]


def test_signal_lost_and_back() -> None:
    state = transit()
    assert sweep(state, RULES, T0 + timedelta(minutes=29)) == []
    fired = sweep(state, RULES, T0 + timedelta(minutes=31))
    assert [t.type for t in fired] == [AlertType.SIGNAL_LOST]
    assert sweep(state, RULES, T0 + timedelta(minutes=60)) == []  # once per silence
    run(report(state, 61))  # heard again
    assert sweep(state, RULES, T0 + timedelta(minutes=70)) == []
    fired = sweep(state, RULES, T0 + timedelta(minutes=95))
    assert [t.type for t in fired] == [AlertType.SIGNAL_LOST]


def test_deadline_passed_once() -> None:
    state = transit()
    assert sweep(state, Thresholds(signal_lost_minutes=10_000), T0 + timedelta(days=2)) == []
    late = T0 + timedelta(days=3, minutes=1)
    fired: list[Trigger] = sweep(state, Thresholds(signal_lost_minutes=10_000), late)
    assert [t.type for t in fired] == [AlertType.DEADLINE_PASSED]
    assert sweep(state, Thresholds(signal_lost_minutes=10_000), late) == []
