"""Container types the analyses know: ISO 668 dimensions and typical tares by ISO 6346 code.

The analyses use these to find the load space in an image (frames, floor and roof are where the
type says) and to turn imaged mass into gross mass when no tare is given. Tares are typical
values; a container's CSC plate or the declaration gives the real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CONTAINERS", "ContainerSpec", "ContainerType", "spec_for_iso_code", "spec_for_length"]


class ContainerType(StrEnum):
    DRY_20 = "20ft"
    DRY_40 = "40ft"
    HIGH_CUBE_40 = "40ft-hc"
    REEFER_40 = "40ft-reefer"


@dataclass(frozen=True)
class ContainerSpec:
    """Dimensions (m) and typical tare (kg) of one container type."""

    kind: ContainerType
    iso_code: str  # ISO 6346 size-type code
    length: float
    width: float
    height: float
    inner_length: float
    inner_width: float
    inner_height: float
    floor_height: float  # from the container's underside to the top of its floor
    tare_kg: float
    max_gross_kg: float
    wall_areal_density: float  # both side walls together, g/cm², as the beam crosses them
    reefer: bool = False


CONTAINERS: dict[ContainerType, ContainerSpec] = {
    ContainerType.DRY_20: ContainerSpec(
        ContainerType.DRY_20,
        "22G1",
        6.058,
        2.438,
        2.591,
        5.898,
        2.352,
        2.393,
        0.160,
        2230,
        30480,
        2.9,
    ),
    ContainerType.DRY_40: ContainerSpec(
        ContainerType.DRY_40,
        "42G1",
        12.192,
        2.438,
        2.591,
        12.032,
        2.352,
        2.393,
        0.160,
        3750,
        30480,
        2.9,
    ),
    ContainerType.HIGH_CUBE_40: ContainerSpec(
        ContainerType.HIGH_CUBE_40,
        "45G1",
        12.192,
        2.438,
        2.896,
        12.032,
        2.352,
        2.698,
        0.160,
        3900,
        30480,
        2.9,
    ),
    ContainerType.REEFER_40: ContainerSpec(
        ContainerType.REEFER_40,
        "45R1",
        12.192,
        2.438,
        2.896,
        11.580,
        2.290,
        2.550,
        0.190,
        4800,
        34000,
        3.4,
        reefer=True,
    ),
}


def spec_for_iso_code(code: str | None) -> ContainerSpec | None:
    """The known type matching an ISO 6346 size-type code (size, height and type group)."""
    if not code or len(code) < 3:
        return None
    code = code.upper()
    size, height, group = code[0], code[1], code[2]
    reefer = group == "R"
    if size == "2":
        return None if reefer else CONTAINERS[ContainerType.DRY_20]
    if size == "4":
        if reefer:
            return CONTAINERS[ContainerType.REEFER_40]
        return CONTAINERS[ContainerType.HIGH_CUBE_40 if height == "5" else ContainerType.DRY_40]
    return None


def spec_for_length(length_m: float, height_m: float) -> ContainerSpec | None:
    """The dry type whose outer length and height are within 4 % of what the image shows."""
    for spec in CONTAINERS.values():
        if spec.reefer:
            continue
        if abs(length_m / spec.length - 1) < 0.04 and abs(height_m / spec.height - 1) < 0.04:
            return spec
    return None
