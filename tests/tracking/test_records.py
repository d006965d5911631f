from __future__ import annotations

from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta, timezone

import pytest

from smartcustoms.tracking.records import Position, SealEvent, events, trusted_position

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


def test_a_trusted_position_is_a_position() -> None:
    # Built with plain assignments on a twin class, then given Position's class: the same value,
    # hash and type as the checked constructor's, and just as frozen.
    values = (
        "D1",
        datetime(2026, 11, 26, 8, tzinfo=UTC),
        -3.4,
        38.5,
        62.0,
        300.0,
        9,
        True,
        1200.0,
        (SealEvent.OPENED,),
        {"io": {"239": 1}},
        ("speed",),
    )
    trusted = trusted_position(*values)
    checked = Position(*values)
    assert type(trusted) is Position
    assert trusted == checked and hash(trusted) == hash(checked)
    assert repr(trusted) == repr(checked)
    with pytest.raises(FrozenInstanceError):
        trusted.latitude = 0.0  # type: ignore[misc]
