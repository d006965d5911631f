"""Corridor and zone geometry in metres, with a proper projection.

Buffers are measured on the ground, not in degrees (a degree of longitude is 111 km at the
equator and 0 km at the pole). Each shape is projected to a transverse Mercator centred on
itself — over the 1,500 km of a corridor the scale error stays below 0.5 %, metres off a 10 km
buffer — buffered there, densified so that straight edges stay straight on the ground, and
projected back to longitude/latitude. Points are then tested in longitude/latitude against the
prepared polygon, with no per-point projection on the hot path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import shapely
from pyproj import Geod, Transformer
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from smartcustoms.core.errors import ValidationFailed

__all__ = [
    "LINE_TYPES",
    "Shape",
    "circle",
    "distance_m",
    "line_length_km",
    "line_shape",
    "polygon_shape",
]

LINE_TYPES = frozenset({"LineString", "MultiLineString"})
_POLYGON_TYPES = frozenset({"Polygon", "MultiPolygon"})
_DENSIFY_M = 1000.0  # vertex spacing of buffers before projecting back
_DENSIFY_DEGREES = 0.01  # vertex spacing of routes before projecting (about 1 km)
_EARTH_RADIUS_M = 6_371_008.8
_WGS84 = Geod(ellps="WGS84")
_CIRCLE_POINTS = 64


def _apply(transformer: Transformer, geometry: BaseGeometry) -> BaseGeometry:
    result: BaseGeometry = shapely.transform(geometry, transformer.transform, interleaved=False)
    return result


def _projection(lon0: float, lat0: float) -> tuple[Transformer, Transformer]:
    local = f"+proj=tmerc +lat_0={lat0:.6f} +lon_0={lon0:.6f} +k=1 +x_0=0 +y_0=0 +ellps=WGS84"
    forward = Transformer.from_crs("EPSG:4326", local, always_xy=True)
    back = Transformer.from_crs(local, "EPSG:4326", always_xy=True)
    return forward, back


def _geometry(data: Mapping[str, Any], allowed: frozenset[str], what: str) -> BaseGeometry:
    kind = data.get("type")
    if kind not in allowed:
        raise ValidationFailed(
            f"{what}: expected a GeoJSON {' or '.join(sorted(allowed))}, got {kind!r}",
            details=[{"field": "geometry.type", "expected": sorted(allowed), "found": kind}],
        )
    try:
        geom = shape(data)
    except (ValueError, TypeError, AttributeError, IndexError) as exc:
        raise ValidationFailed(
            f"{what}: invalid GeoJSON coordinates ({exc})",
            details=[{"field": "geometry.coordinates", "problem": str(exc)}],
        ) from None
    if geom.is_empty:
        raise ValidationFailed(f"{what}: empty geometry", details=[{"field": "geometry"}])
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValidationFailed(
            f"{what}: coordinates must be [longitude, latitude] within ±180, ±90",
            details=[{"field": "geometry.coordinates", "found": [minx, miny, maxx, maxy]}],
        )
    return geom


@dataclass(frozen=True)
class Shape:
    """An area on the ground in longitude/latitude, ready for fast point tests.

    ``line`` is set for corridors: the route itself, kept to measure how far off route a point
    is (projected on demand, for the few points outside the buffer).
    """

    area: BaseGeometry
    line: BaseGeometry | None = None

    def __post_init__(self) -> None:
        shapely.prepare(self.area)

    def contains(self, longitude: float, latitude: float) -> bool:
        return bool(shapely.contains_xy(self.area, longitude, latitude))

    def contains_many(self, longitudes: Sequence[Any], latitudes: Sequence[Any]) -> list[bool]:
        """:meth:`contains` for many points in one call."""
        result: list[bool] = shapely.contains_xy(self.area, longitudes, latitudes).tolist()
        return result

    @cached_property
    def _projection(self) -> tuple[Transformer, Transformer]:
        centre = self.area.centroid
        return _projection(centre.x, centre.y)

    @cached_property
    def _line_m(self) -> BaseGeometry | None:
        if self.line is None:
            return None
        forward = self._projection[0]
        return _apply(forward, self.line.segmentize(_DENSIFY_DEGREES))

    def distance_to_line_m(self, longitude: float, latitude: float) -> float | None:
        """Metres from the point to the route (None for shapes without a route)."""
        if self._line_m is None:
            return None
        x, y = self._projection[0].transform(longitude, latitude)
        return float(self._line_m.distance(shapely.Point(x, y)))

    def geojson(self) -> dict[str, Any]:
        return dict(mapping(self.area))


def line_shape(route: Mapping[str, Any], buffer_m: float) -> Shape:
    """The corridor around a GeoJSON (Multi)LineString: every point within ``buffer_m``."""
    if not 10 <= buffer_m <= 100_000:
        raise ValidationFailed(
            f"corridor buffer of {buffer_m} m: expected 10 to 100000 m",
            details=[{"field": "buffer_m", "found": buffer_m}],
        )
    line = _geometry(route, LINE_TYPES, "corridor route")
    centre = line.centroid
    forward, back = _projection(centre.x, centre.y)
    # GeoJSON's edges are straight in longitude/latitude (RFC 7946, 3.1.1): densify them
    # before projecting, so the buffer follows the route as drawn, not its projected chord.
    projected = _apply(forward, line.segmentize(_DENSIFY_DEGREES))
    area = projected.buffer(buffer_m, quad_segs=8).segmentize(_DENSIFY_M)
    return Shape(_apply(back, area), line=line)


def polygon_shape(polygon: Mapping[str, Any]) -> Shape:
    """A zone given as a GeoJSON (Multi)Polygon."""
    area = _geometry(polygon, _POLYGON_TYPES, "zone")
    if not area.is_valid:
        raise ValidationFailed("zone: the polygon crosses itself", details=[{"field": "geometry"}])
    return Shape(area)


def circle(longitude: float, latitude: float, radius_m: float) -> Shape:
    """A zone of ``radius_m`` around a point: 64 points on the geodesic circle (WGS 84)."""
    if not 1 <= radius_m <= 100_000:
        raise ValidationFailed(
            f"zone radius of {radius_m} m: expected 1 to 100000 m",
            details=[{"field": "radius_m", "found": radius_m}],
        )
    _geometry({"type": "Point", "coordinates": [longitude, latitude]}, frozenset({"Point"}), "zone")
    azimuths = [360.0 * k / _CIRCLE_POINTS for k in range(_CIRCLE_POINTS)]
    lons, lats, _ = _WGS84.fwd(
        [longitude] * _CIRCLE_POINTS,
        [latitude] * _CIRCLE_POINTS,
        azimuths,
        [radius_m] * _CIRCLE_POINTS,
    )
    return Shape(shapely.Polygon(list(zip(lons, lats, strict=True))))


def line_length_km(route: Mapping[str, Any]) -> float:
    """Geodesic length of a GeoJSON (Multi)LineString on the WGS 84 ellipsoid, in kilometres."""
    line = _geometry(route, LINE_TYPES, "corridor route")
    return float(_WGS84.geometry_length(line)) / 1000


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the mean Earth sphere (haversine), in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
