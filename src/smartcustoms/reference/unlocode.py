"""UN/LOCODE points (sea ports, airports, border crossings) packaged with the product."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Location", "location", "locations"]


@dataclass(frozen=True)
class Location:
    code: str  # five characters: country + location
    name: str
    country: str
    is_port: bool
    is_airport: bool
    is_road: bool
    is_rail: bool
    is_border_crossing: bool
    latitude: float | None
    longitude: float | None


@cache
def locations() -> dict[str, Location]:
    path = resources.files("smartcustoms.reference") / "data" / "unlocode_customs_points.csv"
    table = {}
    for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")):
        table[row["unlocode"]] = Location(
            code=row["unlocode"],
            name=row["name"],
            country=row["country"],
            is_port=row["is_port"] == "1",
            is_airport=row["is_airport"] == "1",
            is_road=row["is_road"] == "1",
            is_rail=row["is_rail"] == "1",
            is_border_crossing=row["is_border_crossing"] == "1",
            latitude=float(row["lat"]) if row["lat"] else None,
            longitude=float(row["lon"]) if row["lon"] else None,
        )
    return table


def location(code: str) -> Location | None:
    return locations().get(code.replace(" ", "").upper())
