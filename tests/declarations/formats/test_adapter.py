"""The adapter interface: the registry, and a format written against it in a few lines (the
shape an administration's own message takes)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from smartcustoms.declarations.formats import ADAPTERS, FORMATS, adapter_for
from smartcustoms.declarations.formats.adapter import MessageFormat, Places, checked
from smartcustoms.declarations.formats.base import SourceRecord
from tests.declarations.formats.examples import EXAMPLES
from tests.declarations.helpers import declaration


def test_every_adapter_is_registered_and_has_a_packaged_example() -> None:
    media = [m for adapter in ADAPTERS for m in adapter.media_types]
    assert len(media) == len(set(media))
    names = {path.name.split(".")[1] for path in EXAMPLES.iterdir() if path.name != "README.md"}
    for adapter in ADAPTERS:
        assert FORMATS[adapter.name] is adapter.read
        assert adapter_for(adapter.media_types[0].upper() + "; charset=utf-8") is adapter
        assert adapter.name.replace("wcoxml", "wco") in names
    assert adapter_for("application/json") is None  # JSON is the API's own


def test_places_fall_back_to_the_nearest_known_place() -> None:
    places = Places(message={"xpath": "/SAD", "line": 1})
    places.at("items[0]", xpath="/SAD/Item[1]", line=9)
    places.at("items[0].customs_value", xpath="/SAD/Item[1]/Value", line=12)
    assert places.locate("items[0].customs_value.currency")["line"] == 12
    assert places.locate("items[0].hs_code")["line"] == 9
    assert places.locate("importer.id") == {"xpath": "/SAD", "line": 1}


# A toy "key=value" message, as an administration's own format would be written: map onto our
# model's plain data, note where each field came from, and return checked records.


def _parse_pairs(data: bytes, name: str) -> Iterator[SourceRecord]:
    good = declaration()
    places = Places(message={"line": 1})
    for number, line in enumerate(data.decode().splitlines(), start=1):
        key, _, value = line.partition("=")
        if key == "hs":
            good["items"][0]["hs_code"] = value
            places.at("items[0].hs_code", line=number)
    yield checked(name, good, places)


def _read_pairs(path: Path) -> Iterator[SourceRecord]:
    yield from _parse_pairs(path.read_bytes(), path.name)


def test_a_new_format_is_one_module_and_one_test() -> None:
    pairs = MessageFormat("pairs", ("text/x-pairs",), _read_pairs, _parse_pairs)
    [ok] = list(pairs.parse(b"office=KEMBA\nhs=850440\n", "body"))
    assert ok.data is not None and ok.problems == []
    [bad] = list(pairs.parse(b"office=KEMBA\nhs=770000\n", "body"))
    problem: dict[str, Any] = bad.problems[0]
    assert problem["field"] == "items[0].hs_code"
    assert problem["line"] == 2
    assert problem["problem"] == "HS chapter 77 does not exist (line 2)"
