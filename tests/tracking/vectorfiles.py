"""The protocol vector files in data/vectors (see its README for their sources)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).parent / "data" / "vectors"


@dataclass(frozen=True)
class Vector:
    id: str
    message: bytes
    expected: dict[str, Any]
    raw: dict[str, Any]

    @property
    def is_text(self) -> bool:
        return "text" in self.raw


def load(name: str) -> list[Vector]:
    """Every vector of ``data/vectors/<name>.json``, its message as bytes."""
    document = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    vectors = []
    for raw in document["vectors"]:
        message = bytes.fromhex(raw["hex"]) if "hex" in raw else raw["text"].encode("ascii")
        vectors.append(Vector(raw["id"], message, raw["expected"], raw))
    return vectors


def facts(name: str) -> dict[str, Any]:
    document = json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8"))
    facts: dict[str, Any] = document["protocol_facts"]
    return facts


ALL_FILES = (
    "teltonika_codec8",
    "gt06",
    "jointech_jt701_elock",
    "jt808_elock",
    "osmand_http",
    "eseal_text",
)
PROTOCOL_OF_FILE = {
    "teltonika_codec8": "teltonika",
    "gt06": "gt06",
    "jointech_jt701_elock": "jt701",
    "jt808_elock": "jt808",
    "osmand_http": "osmand",
    "eseal_text": "eseal",
}
