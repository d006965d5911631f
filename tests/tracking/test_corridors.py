"""Importing corridors and zones (GeoJSON), and the packaged Northern and Central corridors."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.events import Event
from smartcustoms.tracking.corridors import import_geojson
from smartcustoms.tracking.geometry import line_shape
from smartcustoms.tracking.packaged import packaged_geojson
from smartcustoms.tracking.tables import CorridorRow, ZoneRow
from smartcustoms.tracking.thresholds import AlertType, Severity, Thresholds

from .helpers import KAMPALA, MALABA_KE, MOMBASA, NEAR_VOI_OFF_ROUTE, VOI, import_packaged


def test_packaged_corridors(ctx: AppContext, events: list[Event]) -> None:
    import_packaged(ctx)
    with ctx.db.session() as session:
        corridors = {c.code: c for c in session.scalars(select(CorridorRow))}
        zones = {z.code: z for z in session.scalars(select(ZoneRow))}
    assert set(corridors) == {"northern", "central"}
    northern = corridors["northern"]
    # The waypoint sums in the source: 1,459 km main line + 124.7 km Busia branch.
    assert northern.length_km == pytest.approx(1459.0 + 124.7, abs=0.5)
    assert corridors["central"].length_km == pytest.approx(1301.6, abs=0.5)
    assert "GeoNames" in northern.source and "CC BY 4.0" in northern.source
    shape = line_shape(northern.route, northern.buffer_m)
    for point in (MOMBASA, VOI, MALABA_KE, KAMPALA):
        assert shape.contains(*point)
    assert not shape.contains(*NEAR_VOI_OFF_ROUTE)
    assert zones["KEMBA"].kind == "port" and zones["KEMBA"].office == "KEMBA"
    assert zones["UGMAL"].kind == "border_post" and zones["UGMAL"].radius_m == 2000
    assert all(z.source for z in zones.values())
    assert [e.type for e in events] == ["tracking.corridor_imported"]


def test_import_replaces_by_code_with_thresholds(ctx: AppContext) -> None:
    import_packaged(ctx)
    data = _collection(
        _line(
            "northern",
            buffer_m=3000,
            thresholds={"deviation_minutes": 5, "severity": {"long_stop": "high"}},
        ),
        _zone("YARD-1", kind="parking", radius_m=500),
    )
    with ctx.unit() as unit:
        result = import_geojson(unit, data, actor="admin")
    assert result.corridors == ("northern",) and result.zones == ("YARD-1",)
    with ctx.db.session() as session:
        northern = session.scalars(select(CorridorRow).where(CorridorRow.code == "northern")).one()
        assert northern.buffer_m == 3000
        assert northern.imported_by == "admin"
        assert len(session.scalars(select(CorridorRow)).all()) == 2
    thresholds = Thresholds.parse(northern.thresholds)
    assert thresholds.deviation_minutes == 5
    assert thresholds.long_stop_minutes == Thresholds().long_stop_minutes  # default kept
    assert thresholds.severity_of(AlertType.LONG_STOP) is Severity.HIGH
    assert thresholds.severity_of(AlertType.TAMPER) is Severity.CRITICAL


@pytest.mark.parametrize(
    ("feature", "field"),
    [
        (lambda: _line("bad code!"), "features[0].properties.code"),
        (lambda: _line("x", buffer_m="wide"), "features[0].properties.buffer_m"),
        (lambda: _line("x", thresholds={"deviation_minutes": -1}), "thresholds.deviation_minutes"),
        (lambda: _line("x", thresholds={"speed": 1}), "thresholds.speed"),
        (lambda: _zone("z", kind="cave"), "features[0].properties.kind"),
        (lambda: _zone("z", office="XXXXX"), "features[0].properties.office"),
        (lambda: {**_zone("z"), "properties": {"code": "z"}}, "features[0].properties.radius_m"),
    ],
)
def test_bad_features_are_named(ctx: AppContext, feature: Any, field: str) -> None:
    with ctx.unit() as unit, pytest.raises(ValidationFailed) as error:
        import_geojson(unit, _collection(feature()), actor="admin")
    assert field in error.value.message
    with ctx.db.session() as session:  # all or nothing
        assert session.scalars(select(CorridorRow)).first() is None


def test_not_a_feature_collection(ctx: AppContext) -> None:
    with ctx.unit() as unit, pytest.raises(ValidationFailed, match="FeatureCollection"):
        import_geojson(unit, {"type": "Feature"}, actor="admin")


def test_packaged_data_keeps_its_attribution() -> None:
    data = packaged_geojson()
    zones = [f for f in data["features"] if f["geometry"]["type"] == "Point"]
    assert all(f["properties"]["source"] for f in zones)
    assert any("Wikipedia" in f["properties"]["source"] for f in zones)


def _collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def _line(code: str, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[39.66, -4.05], [36.82, -1.28]]},
        "properties": {"code": code, **props},
    }


def _zone(code: str, **props: Any) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [38.5, -3.4]},
        "properties": {"code": code, "radius_m": 800, **props},
    }
