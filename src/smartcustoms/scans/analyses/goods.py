"""What the declared goods should look like in a scan, by HS chapter.

Only what a dual-energy image can check: the material classes the goods are made of, whether
dense or metallic blocks are normal among them, and whether the load is expected as cartons of
one size stacked on a grid. Chapters are HS 2022; headings within a chapter share its
expectations unless listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from smartcustoms.core.i18n import N_
from smartcustoms.scans.errors import ScanInputError
from smartcustoms.scans.physics.materials import MaterialClass

__all__ = ["GoodsProfile", "goods_profile", "normalise_hs_code"]

_HS = re.compile(r"^\d{4,10}$")


@dataclass(frozen=True)
class GoodsProfile:
    """Expectations for goods of one HS chapter (or heading)."""

    hs_code: str
    heading: str
    description: str
    classes: frozenset[MaterialClass]
    light_organic: bool  # metal or dense blocks among these goods are suspicious
    # Shipped as cartons of one size stacked in columns on the floor, so that a scan shows the
    # cartons' grid (a block's sides off it are suspicious; see :mod:`.edges`).
    carton_grid: bool = False

    @property
    def organic_only(self) -> bool:
        return self.classes == frozenset({MaterialClass.ORGANIC})


_O, _M, _X = MaterialClass.ORGANIC, MaterialClass.METAL, MaterialClass.MIXED
# (first chapter, last chapter, description, classes, light organic); descriptions are marked
# for the catalogue because findings name the goods ("metal block among {goods:t}").
_CHAPTERS: list[tuple[int, int, str, frozenset[MaterialClass], bool]] = [
    (1, 24, N_("food, beverages and tobacco"), frozenset({_O}), True),
    (25, 27, N_("mineral products and fuels"), frozenset({_O, _X}), False),
    (28, 38, N_("chemical products"), frozenset({_O, _X}), False),
    (39, 40, N_("plastics and rubber"), frozenset({_O}), True),
    (41, 43, N_("hides, leather and furs"), frozenset({_O}), True),
    (44, 46, N_("wood and cork"), frozenset({_O}), True),
    (47, 49, N_("paper and printed matter"), frozenset({_O}), True),
    (50, 63, N_("textiles and clothing"), frozenset({_O}), True),
    (64, 67, N_("footwear, headgear, umbrellas"), frozenset({_O}), True),
    (68, 71, N_("stone, ceramics, glass, precious metals"), frozenset({_X, _M}), False),
    (72, 83, N_("base metals and articles"), frozenset({_M}), False),
    (84, 85, N_("machinery and electrical equipment"), frozenset({_M, _X, _O}), False),
    (86, 89, N_("vehicles, aircraft, vessels"), frozenset({_M, _X, _O}), False),
    (90, 92, N_("instruments, clocks, musical instruments"), frozenset({_M, _X, _O}), False),
    (93, 93, N_("arms and ammunition"), frozenset({_M}), False),
    (94, 96, N_("furniture, toys, miscellaneous"), frozenset({_O, _X, _M}), False),
    (97, 99, N_("works of art, special provisions"), frozenset({_O, _X, _M}), False),
]


# Clothing (HS 61–62) comes in cartons of one size stacked on the floor. Not fruit on pallets,
# nor rolls of fabric: their boxes' and rolls' own outlines break no grid and read as edges (on
# the independent scenes of development seed 6, honest fruit pallets and fabric rolls scored
# 80–130 against the density alarm's 24).
_CARTON_GRID_CHAPTERS = frozenset({61, 62})


def normalise_hs_code(code: str) -> str:
    """Digits only ("6309.00" → "630900"); at least the 4-digit heading, at most 10 digits."""
    digits = code.replace(".", "").replace(" ", "")
    if not _HS.match(digits):
        raise ScanInputError(
            f"HS code {code!r} must be 4 to 10 digits (dots and spaces allowed), e.g. 6309.00",
            field="hs_code",
        )
    if not 1 <= int(digits[:2]) <= 99:
        raise ScanInputError(f"HS code {code!r} has no chapter {digits[:2]}", field="hs_code")
    return digits


def goods_profile(code: str) -> GoodsProfile:
    """Expectations for the goods of ``code`` (raises :class:`ScanInputError` if malformed)."""
    digits = normalise_hs_code(code)
    chapter = int(digits[:2])
    for first, last, desc, classes, light in _CHAPTERS:
        if first <= chapter <= last:
            grid = chapter in _CARTON_GRID_CHAPTERS
            return GoodsProfile(digits, digits[:4], desc, classes, light, carton_grid=grid)
    raise ScanInputError(f"HS chapter {chapter:02d} is not in use", field="hs_code")  # chapter 77
