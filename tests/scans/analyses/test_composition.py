"""The declared goods' composition and the areal density read along its curve."""

from __future__ import annotations

import numpy as np
import pytest

from smartcustoms.scans.analyses.composition import (
    CELLULOSIC,
    WATER_RICH,
    areal_density_as,
    composition_of,
)
from smartcustoms.scans.physics.calibration import (
    ReferenceMeasurement,
    geant4_calibration,
    model_alpha,
)
from smartcustoms.scans.physics.decompose import decomposer
from smartcustoms.scans.physics.materials import compound
from smartcustoms.scans.physics.spectra import Channel, default_spectra


@pytest.mark.parametrize(
    ("hs_code", "expected"),
    [
        ("0805.10", WATER_RICH),  # oranges
        ("0702", WATER_RICH),  # tomatoes
        ("0802.12", None),  # almonds: dry and fat-rich
        ("0806.20", None),  # raisins
        ("0806.10", WATER_RICH),  # fresh grapes
        ("6109.10", CELLULOSIC),  # T-shirts
        ("5208.52", CELLULOSIC),  # cotton fabric
        ("4819", CELLULOSIC),  # cartons
        ("8483.40", None),  # gears: no single composition
        ("6907.21", None),  # tiles
        ("2204", None),  # wine: water, but in glass bottles
        (None, None),
    ],
)
def test_the_hs_chapter_gives_the_goods_composition_where_it_is_known(
    hs_code: str | None, expected: object
) -> None:
    assert composition_of(hs_code) is expected


def test_water_rich_goods_carry_more_electrons_per_gram_than_cellulosic_ones() -> None:
    def electrons_per_gram(fractions: dict[int, float]) -> float:
        masses = {1: 1.008, 6: 12.011, 8: 15.999}
        return sum(w * z / masses[z] for z, w in fractions.items())

    water = electrons_per_gram(WATER_RICH.material.mass_fractions)
    cellulose = electrons_per_gram(CELLULOSIC.material.mass_fractions)
    assert water / cellulose == pytest.approx(1.036, abs=0.005)


@pytest.mark.parametrize("lam", [20.0, 60.0, 120.0])
@pytest.mark.parametrize("angle", [0.0, 12.0])
def test_water_is_weighed_right_along_its_own_curve_where_the_decomposition_reads_it_heavy(
    lam: float, angle: float
) -> None:
    water = compound("water", {1: 2, 8: 1}, 1.0)
    cal = geant4_calibration()
    ref = [ReferenceMeasurement(water, lam, 0.0, 0.0, angle)]
    high = float(model_alpha(ref, cal, Channel.HIGH)[0])
    low = float(model_alpha(ref, cal, Channel.LOW)[0])
    # The ratio cannot tell water from cellulose: the decomposition reads water ~4 % heavy.
    dual = float(decomposer(cal).areal_density_of(high, high / low, angle)[0])
    assert dual / lam - 1 > 0.03
    alpha = np.full((1, 3), high)
    read = areal_density_as(alpha, np.array([angle]), WATER_RICH.material, cal, default_spectra())
    # Fresh produce (85 % water) is within 0.7 % of water's electrons per gram.
    assert read == pytest.approx(np.full((1, 3), lam), rel=0.012)
