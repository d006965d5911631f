"""What the concealment check says about mixed and inorganic goods is message codes, so French
and Arabic pages show it in their language, with the goods named in it too: machinery is now
compared where the beam crosses it, a load too dense to see through is named as not checked,
and an organic block among inorganic goods is a finding of its own."""

from __future__ import annotations

import pytest

from smartcustoms.core.messages import catalogue_translations
from smartcustoms.sandbox.scan_simulator import CargoKind, ConcealmentKind
from smartcustoms.scans.analyses.pipeline import analyze
from smartcustoms.scans.container_types import ContainerType
from smartcustoms.scans.messages import CATALOGUE
from tests.scans.helpers import simulated

TOO_DENSE = {
    "code": "scans.concealment.too_dense",
    "params": {"goods": "machinery and electrical equipment", "share": 0.62},
}
ORGANIC = {
    "code": "scans.concealment.organic",
    "params": {"goods": "stone, ceramics, glass, precious metals"},
}
OLD = {  # reports stored before machinery was compared still carry it
    "code": "scans.concealment.mixed_goods",
    "params": {"goods": "machinery and electrical equipment"},
}


def test_machinery_is_compared_and_says_so() -> None:
    sim = simulated(CargoKind.MACHINERY, ConcealmentKind.NONE, ContainerType.DRY_40, 1)
    report = analyze(sim.scan, hs_code="8474.20")
    (found,) = [c for c in report.checks if c.analysis == "concealment"]
    assert found.status == "pass"
    assert found.message == {"code": "scans.concealment.pass", "params": {"n": 0}}
    assert any("not checked there" in n for n in found.figures["notes"])


def test_english_wording() -> None:
    en = catalogue_translations("en")
    assert CATALOGUE.render_stored(TOO_DENSE, "en", en) == (
        "regions not compared: machinery and electrical equipment: 62% of the load is too "
        "dense to see through"
    )
    assert CATALOGUE.render_stored(ORGANIC, "en", en) == (
        "organic material among stone, ceramics, glass, precious metals (lower Z_eff than the "
        "load around it)"
    )


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("fr", ("machines", "trop dense", "matière organique", "marchandises mixtes")),
        ("ar", ("الآلات", "كثيفة جدًا", "مادة عضوية", "بضائع مختلطة")),
    ],
)
def test_each_reads_in_the_readers_language(language: str, words: tuple[str, ...]) -> None:
    translations = catalogue_translations(language)
    text = " | ".join(
        CATALOGUE.render_stored(m, language, translations) for m in (TOO_DENSE, ORGANIC, OLD)
    )
    assert "too dense" not in text and "organic material" not in text and "mixed goods" not in text
    for word in words:
        assert word in text, text
