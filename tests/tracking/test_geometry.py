"""Corridor buffers and zones are measured on the ground, in metres."""

from __future__ import annotations

import pytest
from pyproj import Geod

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.tracking.geometry import circle, distance_m, line_length_km, line_shape

# A straight east–west route along the equator, and one far from it (60° north), where a
# buffer drawn in degrees would be half as wide east–west as north–south.
EQUATOR = {"type": "LineString", "coordinates": [[30.0, 0.0], [31.0, 0.0]]}
NORTH = {"type": "LineString", "coordinates": [[10.0, 60.0], [12.0, 60.0]]}


WGS84 = Geod(ellps="WGS84")


def _moved(lon: float, lat: float, azimuth: float, metres: float) -> tuple[float, float]:
    """The point ``metres`` from (lon, lat) along ``azimuth``, on the WGS 84 ellipsoid."""
    x, y, _ = WGS84.fwd(lon, lat, azimuth, metres)
    return float(x), float(y)


@pytest.mark.parametrize(("metres", "inside"), [(9_900, True), (10_100, False)])
def test_buffer_is_in_metres_at_the_equator(metres: float, inside: bool) -> None:
    shape = line_shape(EQUATOR, 10_000)
    assert shape.contains(*_moved(30.5, 0.0, 0, metres)) is inside
    assert shape.contains(*_moved(30.5, 0.0, 180, metres)) is inside
    assert shape.contains(*_moved(31.0, 0.0, 90, metres)) is inside  # beyond the end


@pytest.mark.parametrize(("metres", "inside"), [(4_900, True), (5_100, False)])
def test_buffer_is_in_metres_far_from_the_equator(metres: float, inside: bool) -> None:
    # At 60°N a degree of longitude is half a degree of latitude on the ground: a buffer drawn
    # in degrees would be wrong one way or the other.
    shape = line_shape(NORTH, 5_000)
    assert shape.contains(*_moved(12.0, 60.0, 90, metres)) is inside
    assert shape.contains(*_moved(11.0, 60.0, 0, metres)) is inside
    assert shape.contains(*_moved(11.0, 60.0, 180, metres)) is inside


def test_distance_to_the_route() -> None:
    shape = line_shape(EQUATOR, 2_000)
    off = shape.distance_to_line_m(*_moved(30.5, 0.0, 0, 25_000))
    assert off == pytest.approx(25_000, rel=0.002)


@pytest.mark.parametrize(("metres", "inside"), [(1_950, True), (2_050, False)])
def test_circle_radius_in_metres(metres: float, inside: bool) -> None:
    zone = circle(34.28165, 0.63513, 2_000)
    for azimuth in (0, 90, 225):
        assert zone.contains(*_moved(34.28165, 0.63513, azimuth, metres)) is inside


def test_lengths_are_great_circle() -> None:
    assert distance_m(0, 30, 0, 31) == pytest.approx(111_195, rel=0.001)  # sphere
    assert line_length_km(EQUATOR) == pytest.approx(111.319, abs=0.001)  # WGS 84 equator


@pytest.mark.parametrize(
    ("route", "match"),
    [
        ({"type": "Point", "coordinates": [1, 2]}, "LineString"),
        ({"type": "LineString", "coordinates": [[200, 0], [201, 0]]}, "longitude, latitude"),
        ({"type": "LineString", "coordinates": "nope"}, "invalid GeoJSON"),
    ],
)
def test_bad_routes_say_what_is_wrong(route: dict[str, object], match: str) -> None:
    with pytest.raises(ValidationFailed, match=match):
        line_shape(route, 1000)


def test_buffer_bounds() -> None:
    with pytest.raises(ValidationFailed, match="buffer"):
        line_shape(EQUATOR, 5)
