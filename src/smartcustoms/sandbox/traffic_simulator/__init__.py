"""The traffic simulator: trucks on the corridors speaking real device protocols over real
sockets, some of them misbehaving (``smartcustoms tracking simulate``; the demo, the tests and
the benchmarks use it).

``trucks``    a truck driving a route, and its incidents
``encoders``  reports in each device protocol, and how each device reads its answer
``fleet``     many devices at once against a listener (asyncio, one connection each)
"""

from __future__ import annotations

from smartcustoms.sandbox.traffic_simulator.fleet import Fleet, FleetConfig, FleetStats, make_trucks
from smartcustoms.sandbox.traffic_simulator.trucks import INCIDENTS, Route, Truck
from smartcustoms.tracking.packaged import packaged_geojson

__all__ = [
    "INCIDENTS",
    "Fleet",
    "FleetConfig",
    "FleetStats",
    "Route",
    "Truck",
    "make_trucks",
    "packaged_routes",
]


def packaged_routes(corridor: str | None = None) -> dict[str, Route]:
    """The main line of each packaged corridor (or of ``corridor`` alone) as a route."""
    routes = {}
    for feature in packaged_geojson()["features"]:
        props = feature["properties"]
        if feature["geometry"]["type"] != "MultiLineString":
            continue
        if corridor is not None and props["code"] != corridor:
            continue
        main = feature["geometry"]["coordinates"][0]
        routes[props["code"]] = Route([(float(x), float(y)) for x, y in main])
    return routes
