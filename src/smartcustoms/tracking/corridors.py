"""Importing corridors and zones from GeoJSON.

One FeatureCollection carries both. A feature whose geometry is a (Multi)LineString is a
corridor; a Point (with ``radius_m``) or a (Multi)Polygon is a zone. Properties:

corridor  ``code`` (required), ``name``, ``buffer_m`` (default 2000), ``thresholds`` (see
          :mod:`.thresholds`), ``source``
zone      ``code`` (required), ``name``, ``kind`` (``port``, ``office``, ``border_post``,
          ``parking`` or ``checkpoint``), ``radius_m`` (Points), ``authorised_stop`` (default
          true: a truck may stop or be opened there), ``office`` (UN/LOCODE), ``country``,
          ``source``

An import is all or nothing; a feature with the code of a stored one replaces it. Errors name
the feature: ``features[3].properties.buffer_m``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select

from smartcustoms.core import clock
from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.unit import Unit
from smartcustoms.reference.unlocode import location
from smartcustoms.tracking.events import CorridorImported
from smartcustoms.tracking.geometry import LINE_TYPES, circle, line_length_km, line_shape
from smartcustoms.tracking.geometry import polygon_shape as zone_polygon
from smartcustoms.tracking.tables import CorridorRow, ZoneRow
from smartcustoms.tracking.thresholds import Thresholds

__all__ = ["ZONE_KINDS", "ImportResult", "import_geojson"]

ZONE_KINDS: Final = ("port", "office", "border_post", "parking", "checkpoint")
DEFAULT_BUFFER_M: Final = 2000
_CODE_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


@dataclass(frozen=True)
class ImportResult:
    corridors: tuple[str, ...]
    zones: tuple[str, ...]


def _fail(where: str, problem: str) -> ValidationFailed:
    return ValidationFailed(f"{where}: {problem}", details=[{"field": where, "problem": problem}])


def _code(props: Mapping[str, Any], where: str) -> str:
    code = props.get("code")
    if not isinstance(code, str) or not 1 <= len(code) <= 32 or not _CODE_CHARS.issuperset(code):
        raise _fail(f"{where}.code", "a code of 1 to 32 letters, digits, '-', '_' or '.'")
    return code


def _text(props: Mapping[str, Any], key: str, where: str, default: str, limit: int) -> str:
    value = props.get(key, default)
    if not isinstance(value, str) or len(value) > limit:
        raise _fail(f"{where}.{key}", f"text of at most {limit} characters")
    return value


def _number(props: Mapping[str, Any], key: str, where: str, default: float | None) -> float:
    value = props.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(f"{where}.{key}", "a number")
    return float(value)


def _wrap(where: str, error: ValidationFailed) -> ValidationFailed:
    return ValidationFailed(
        f"{where}: {error.message}",
        details=[{**d, "feature": where} for d in error.details] or [{"field": where}],
    )


def import_geojson(unit: Unit, data: Any, *, actor: str) -> ImportResult:
    """Store the corridors and zones of a GeoJSON FeatureCollection (see the module doc)."""
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        raise _fail("type", "expected a GeoJSON FeatureCollection")
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise _fail("features", "expected a non-empty list of features")
    now = clock.now()
    corridors: list[dict[str, Any]] = []
    zones: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for n, feature in enumerate(features):
        where = f"features[{n}]"
        if not isinstance(feature, Mapping) or not isinstance(feature.get("geometry"), Mapping):
            raise _fail(where, "expected a Feature with a geometry")
        geometry = feature["geometry"]
        props = feature.get("properties") or {}
        if not isinstance(props, Mapping):
            raise _fail(f"{where}.properties", "expected an object")
        pwhere = f"{where}.properties"
        code = _code(props, pwhere)
        is_line = geometry.get("type") in LINE_TYPES
        key = ("corridor" if is_line else "zone", code)
        if key in seen:
            raise _fail(f"{pwhere}.code", f"{code!r} appears twice")
        seen.add(key)
        try:
            if is_line:
                corridors.append(_corridor(geometry, props, pwhere, code))
            else:
                zones.append(_zone(geometry, props, pwhere, code))
        except ValidationFailed as error:
            if any(str(d.get("field", "")).startswith(where) for d in error.details):
                raise
            raise _wrap(where, error) from None
    session = unit.session
    for values in corridors:
        row = session.scalars(select(CorridorRow).where(CorridorRow.code == values["code"])).first()
        if row is None:
            row = CorridorRow(code=values["code"])
            session.add(row)
        for name, value in values.items():
            setattr(row, name, value)
        row.imported_at = now
        row.imported_by = actor
    for values in zones:
        zone = session.scalars(select(ZoneRow).where(ZoneRow.code == values["code"])).first()
        if zone is None:
            zone = ZoneRow(code=values["code"])
            session.add(zone)
        for name, value in values.items():
            setattr(zone, name, value)
        zone.imported_at = now
        zone.imported_by = actor
    session.flush()
    result = ImportResult(tuple(c["code"] for c in corridors), tuple(z["code"] for z in zones))
    unit.emit(CorridorImported(actor=actor, corridors=result.corridors, zones=result.zones))
    return result


def _corridor(
    geometry: Mapping[str, Any], props: Mapping[str, Any], where: str, code: str
) -> dict[str, Any]:
    buffer_m = _number(props, "buffer_m", where, DEFAULT_BUFFER_M)
    shape = line_shape(geometry, buffer_m)
    thresholds = props.get("thresholds") or {}
    if not isinstance(thresholds, Mapping):
        raise _fail(f"{where}.thresholds", "expected an object")
    try:
        parsed = Thresholds.parse(thresholds)
    except ValidationFailed as error:
        raise _wrap(where, error) from None
    return {
        "code": code,
        "name": _text(props, "name", where, code, 120),
        "route": dict(geometry),
        "buffer_m": round(buffer_m),
        "buffer": shape.geojson(),
        "length_km": round(line_length_km(geometry), 1),
        "thresholds": {k: v for k, v in parsed.as_json().items() if k in thresholds},
        "source": _text(props, "source", where, "", 20_000),
    }


def _zone(
    geometry: Mapping[str, Any], props: Mapping[str, Any], where: str, code: str
) -> dict[str, Any]:
    kind = props.get("kind", "parking")
    if kind not in ZONE_KINDS:
        raise _fail(f"{where}.kind", f"one of {', '.join(ZONE_KINDS)}")
    office = props.get("office")
    if office is not None and (not isinstance(office, str) or location(office) is None):
        raise _fail(f"{where}.office", "a UN/LOCODE the reference data knows")
    country = props.get("country")
    if country is not None and (not isinstance(country, str) or len(country) != 2):
        raise _fail(f"{where}.country", "an ISO 3166 alpha-2 code")
    authorised = props.get("authorised_stop", True)
    if not isinstance(authorised, bool):
        raise _fail(f"{where}.authorised_stop", "true or false")
    radius: float | None = None
    if geometry.get("type") == "Point":
        coords = geometry.get("coordinates")
        if not isinstance(coords, list | tuple) or len(coords) < 2:
            raise _fail(f"{where[:-11]}.geometry.coordinates", "[longitude, latitude]")
        radius = _number(props, "radius_m", where, None) if "radius_m" in props else None
        if radius is None:
            raise _fail(f"{where}.radius_m", "a radius in metres for a Point zone")
        longitude, latitude = float(coords[0]), float(coords[1])
        shape = circle(longitude, latitude, radius)
    else:
        shape = zone_polygon(geometry)
        centre = shape.area.centroid
        longitude, latitude = centre.x, centre.y
    return {
        "code": code,
        "name": _text(props, "name", where, code, 120),
        "kind": kind,
        "geometry": shape.geojson(),
        "latitude": latitude,
        "longitude": longitude,
        "radius_m": radius,
        "office": office,
        "country": country,
        "authorised_stop": authorised,
        "source": _text(props, "source", where, "", 20_000),
    }
