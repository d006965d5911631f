"""The concealment check on mixed goods ("not compared: mixed goods …") is a message code, so
French and Arabic pages show it in their language, with the goods named in it too."""

from __future__ import annotations

import pytest

from smartcustoms.core.messages import catalogue_translations
from smartcustoms.sandbox.scan_simulator import CargoKind, ConcealmentKind
from smartcustoms.scans.analyses.pipeline import analyze
from smartcustoms.scans.container_types import ContainerType
from smartcustoms.scans.messages import CATALOGUE
from tests.scans.helpers import simulated


@pytest.fixture(scope="module")
def check() -> dict[str, object]:
    sim = simulated(CargoKind.MACHINERY, ConcealmentKind.NONE, ContainerType.DRY_40, 1)
    report = analyze(sim.scan, hs_code="8474.20")
    (found,) = [c for c in report.checks if c.analysis == "concealment"]
    assert found.status == "not_applicable"
    assert found.message is not None
    return found.message


def test_mixed_goods_reason_is_a_message_code(check: dict[str, object]) -> None:
    assert check == {
        "code": "scans.concealment.mixed_goods",
        "params": {"goods": "machinery and electrical equipment"},
    }
    english = CATALOGUE.render_stored(check, "en", catalogue_translations("en"))
    assert english == (
        "regions not compared: machinery and electrical equipment: mixed goods, no single "
        "material to compare against"
    )


@pytest.mark.parametrize(
    ("language", "words"),
    [("fr", ("machines", "marchandises")), ("ar", ("الآلات", "بضائع مختلطة"))],
)
def test_mixed_goods_reason_reads_in_the_readers_language(
    check: dict[str, object], language: str, words: tuple[str, ...]
) -> None:
    text = CATALOGUE.render_stored(check, language, catalogue_translations(language))
    assert "mixed goods" not in text and "machinery" not in text
    for word in words:
        assert word in text, text
