"""The Northern and Central corridors packaged with smartcustoms, as importable GeoJSON.

``data/corridors.json`` (see ``data/README.md`` for sources and licences) lists waypoints with
their sources, the routes, border posts, ports and monitoring centres. This module adds what a
monitoring system needs and the file does not say: zone codes (the UN/LOCODE where one exists),
kinds and radii, and each corridor's buffer. Import it with
``smartcustoms tracking corridors import --packaged``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any, Final

__all__ = ["PACKAGED_CORRIDORS", "packaged_geojson"]

#: The corridors' buffer: the waypoints are town centres joined by straight lines, so a truck
#: on the real road can be several kilometres off them (see data/README.md).
PACKAGED_BUFFER_M: Final = 10_000

#: (code, name, routes in the file, thresholds)
PACKAGED_CORRIDORS: Final = (
    (
        "northern",
        "Northern Corridor (Mombasa–Kampala–Kigali)",
        (
            "northern_corridor_main_mombasa_kigali_via_malaba",
            "northern_corridor_alt_busia_crossing",
        ),
    ),
    (
        "central",
        "Central Corridor (Dar es Salaam–Rusumo–Kigali)",
        ("central_corridor_dar_es_salaam_kigali_via_rusumo",),
    ),
)

# (point in the file, zone code, kind, radius in metres, UN/LOCODE, name shown)
_ZONES: Final = (
    ("Mombasa", "KEMBA", "port", 4000, "KEMBA", "Mombasa port"),
    ("Dar es Salaam", "TZDAR", "port", 4000, "TZDAR", "Dar es Salaam port"),
    ("Nairobi", "KENBO", "office", 8000, "KENBO", "Nairobi (KRA)"),
    ("Kampala", "UGKLA", "office", 8000, "UGKLA", "Kampala (URA, Nakawa)"),
    ("Kigali", "RWKGL", "office", 8000, "RWKGL", "Kigali (RRA)"),
    ("Malaba (Kenya)", "KE-MALABA", "border_post", 2000, None, "Malaba OSBP (Kenya)"),
    ("Malaba (Uganda)", "UGMAL", "border_post", 2000, "UGMAL", "Malaba OSBP (Uganda)"),
    ("Busia (Kenya)", "KE-BUSIA", "border_post", 2000, None, "Busia OSBP (Kenya)"),
    ("Busia (Uganda)", "UG-BUSIA", "border_post", 2000, None, "Busia OSBP (Uganda)"),
    (
        "Katuna / Gatuna border (Uganda side)",
        "UG-KATUNA",
        "border_post",
        2000,
        None,
        "Katuna/Gatuna OSBP",
    ),
    ("Rusumo (Rwanda side)", "RW-RUSUMO", "border_post", 2000, None, "Rusumo OSBP (Rwanda)"),
    ("Rusumo International Bridge", "RUSUMO-BRIDGE", "border_post", 2000, None, "Rusumo bridge"),
    ("Mutukula (Uganda side)", "UG-MUTUKULA", "border_post", 2000, None, "Mutukula (Uganda)"),
    ("Mutukula (Tanzania side)", "TZ-MUTUKULA", "border_post", 2000, None, "Mutukula (Tanzania)"),
    ("Namanga (Tanzania side)", "TZ-NAMANGA", "border_post", 2000, None, "Namanga (Tanzania)"),
)


def _data() -> dict[str, Any]:
    path = resources.files("smartcustoms.tracking") / "data" / "corridors.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@cache
def _collection() -> str:
    data = _data()
    points = data["points"]
    routes = data["routes"]
    features: list[dict[str, Any]] = []
    for code, name, route_names in PACKAGED_CORRIDORS:
        lines = [routes[r]["geojson_linestring"]["coordinates"] for r in route_names]
        waypoints = [w for r in route_names for w in routes[r]["waypoints"]]
        sources = sorted({points[w]["source"] for w in waypoints})
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "MultiLineString", "coordinates": lines},
                "properties": {
                    "code": code,
                    "name": name,
                    "buffer_m": PACKAGED_BUFFER_M,
                    "source": "smartcustoms packaged data (town-centre waypoints, not road "
                    "geometry): " + "; ".join(sources),
                },
            }
        )
    for point, code, kind, radius, office, shown in _ZONES:
        p = points[point]
        country = p["country"] if len(p["country"]) == 2 else None
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]},
                "properties": {
                    "code": code,
                    "name": shown,
                    "kind": kind,
                    "radius_m": radius,
                    "office": office,
                    "country": country,
                    "authorised_stop": True,
                    "source": p["source"],
                },
            }
        )
    return json.dumps({"type": "FeatureCollection", "features": features})


def packaged_geojson() -> dict[str, Any]:
    """The packaged corridors and zones as a GeoJSON FeatureCollection (a fresh copy)."""
    result: dict[str, Any] = json.loads(_collection())
    return result
