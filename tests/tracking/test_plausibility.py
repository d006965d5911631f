from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from smartcustoms.tracking.errors import FrameError
from smartcustoms.tracking.plausibility import (
    EARLIEST_TIME,
    FUTURE_SLACK,
    MAX_SPEED_KMH,
    check_coordinates,
    implausible,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lat", "lon", "expected"),
    [
        (90.000001, 0.0, "latitude"),
        (-91.0, 0.0, "latitude"),
        (0.0, 180.5, "longitude"),
        (math.nan, 0.0, "latitude"),
        (0.0, math.inf, "longitude"),
    ],
)
def test_coordinates_off_the_globe_are_frame_errors(lat: float, lon: float, expected: str) -> None:
    with pytest.raises(FrameError) as caught:
        check_coordinates(lat, lon, 17)
    assert caught.value.offset == 17
    assert caught.value.expected.startswith(expected)


def test_coordinates_on_the_edges_pass() -> None:
    check_coordinates(90.0, -180.0, 0)
    check_coordinates(-90.0, 180.0, 0)


def test_plausible_report() -> None:
    assert implausible(NOW - timedelta(hours=1), 80.0, 359.0, NOW) == ()
    assert implausible(EARLIEST_TIME, None, None, NOW) == ()


@pytest.mark.parametrize(
    ("time", "speed", "course", "issues"),
    [
        (datetime(2000, 1, 1, tzinfo=UTC), 0.0, 0.0, ("time",)),
        (NOW + FUTURE_SLACK + timedelta(seconds=1), 0.0, 0.0, ("time",)),
        (NOW, MAX_SPEED_KMH + 1, 0.0, ("speed",)),
        (NOW, -1.0, 0.0, ("speed",)),
        (NOW, 0.0, 1023.0, ("course",)),
        (datetime(1999, 8, 22, tzinfo=UTC), 900.0, 400.0, ("time", "speed", "course")),
    ],
)
def test_implausible_fields_are_named(time, speed, course, issues) -> None:
    assert implausible(time, speed, course, NOW) == issues
