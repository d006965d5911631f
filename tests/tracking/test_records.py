from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from smartcustoms.tracking.records import Position, SealEvent, events

WHEN = datetime(2024, 5, 1, 12, tzinfo=UTC)


def test_time_must_be_aware_utc() -> None:
    with pytest.raises(ValueError, match="aware UTC"):
        Position("d", datetime(2024, 5, 1, 12), 0.0, 0.0)
    with pytest.raises(ValueError, match="aware UTC"):
        Position("d", datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=3))), 0.0, 0.0)
    assert Position("d", WHEN, None, None).valid is False


def test_events_are_unique_and_in_enum_order() -> None:
    found = [SealEvent.TAMPER, SealEvent.LOCKED, SealEvent.TAMPER, SealEvent.CABLE_CUT]
    assert events(found) == (SealEvent.LOCKED, SealEvent.CABLE_CUT, SealEvent.TAMPER)


def test_the_issue_names_every_event_it_lists() -> None:
    # Issue 5 names these normalised seal events; rules and the API rely on the spelling.
    named = {"locked", "unlocked", "opened", "cable_cut", "tamper", "low_battery", "power_cut"}
    assert named | {"gps_jamming"} <= {event.value for event in SealEvent}


def test_positions_compare_by_value_and_hash_without_attributes() -> None:
    a = Position("d", WHEN, 1.0, 2.0, attributes={"x": 1})
    b = Position("d", WHEN, 1.0, 2.0, attributes={"x": 1})
    c = Position("d", WHEN, 1.0, 2.0, attributes={"x": 2})
    assert a == b != c
    assert hash(a) == hash(c)  # attributes do not take part in the hash
    with pytest.raises(AttributeError):
        a.latitude = 3.0  # type: ignore[misc]
