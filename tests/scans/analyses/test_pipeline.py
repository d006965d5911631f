"""``analyze`` end to end, and the findings report's JSON shape."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from smartcustoms.core.messages import catalogue_translations
from smartcustoms.sandbox.scan_simulator import CargoKind, ConcealmentKind
from smartcustoms.scans import ScanInputError, analyze
from smartcustoms.scans.container_types import ContainerType
from smartcustoms.scans.findings import FINDINGS_FORMAT
from smartcustoms.scans.messages import CATALOGUE
from tests.scans.helpers import simulated

NOW = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)


def test_declared_empty_with_a_hidden_brick_alarms_with_its_region() -> None:
    sim = simulated(CargoKind.EMPTY, ConcealmentKind.SMALL_ORGANIC, ContainerType.DRY_20, 3)
    report = analyze(sim.scan, declared_gross_kg=0, now=NOW)
    assert report.declared["empty"] is True  # no goods' mass to speak of, no HS code
    assert report.alarm_decision == "ALARM"
    empty = report.check("empty")
    assert empty is not None and empty.status == "fail"
    (finding,) = report.findings
    assert finding.category == "NOT_EMPTY" and finding.flag == "THREAT" and finding.region
    assert finding.analysis_version == "empty/1.5" and finding.mass_kg == pytest.approx(
        2.0, rel=0.35
    )


def test_honest_load_is_clear_and_the_json_has_the_tdr_shape() -> None:
    sim = simulated(CargoKind.BULK_BAGS, ConcealmentKind.NONE, ContainerType.DRY_40, 1)
    gross = sim.scan.metadata.extra["declared_gross_kg"]
    report = analyze(sim.scan, declared_gross_kg=gross, hs_code=sim.truth.hs_code, now=NOW)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["format"] == FINDINGS_FORMAT and data["tdr_type"] == "MACHINE"
    assert data["alarm_decision"] in ("CLEAR", "ALARM")
    assert data["alarm_decision_time"] == "2025-01-06T12:00:00+00:00"
    assert data["number_of_total_objects"] == len(data["threat_objects"])
    assert {c["analysis"] for c in data["checks"]} >= {"mass", "concealment"}
    mass = next(c for c in data["checks"] if c["analysis"] == "mass")
    assert mass["status"] == "pass" and mass["version"] == "mass/1.7"
    # Bulk bags have no loaded area too dark to read: nothing there can hide mass.
    assert mass["figures"]["dark_area_fraction"] < 0.005
    assert mass["figures"]["hideable_fraction"] < 0.05 and mass["figures"]["lower_bound"] is False
    assert data["scan"]["container_number"] == sim.scan.metadata.container_number
    assert data["algorithm"].startswith("smartcustoms.scans/1.1")


def test_underdeclared_mass_is_a_finding() -> None:
    sim = simulated(CargoKind.BULK_BAGS, ConcealmentKind.NONE, ContainerType.DRY_40, 1)
    report = analyze(sim.scan, declared_gross_kg=8000, hs_code=sim.truth.hs_code, now=NOW)
    assert report.alarm_decision == "ALARM"
    (finding,) = [f for f in report.findings if f.analysis == "mass"]
    assert finding.category == "MASS_DISCREPANCY" and "heavier than declared" in finding.description
    data = finding.to_dict()
    assert data["assessment"]["flag"] == "THREAT" and data["region"] is None
    # The description is also kept as code + params, worded in the reader's language.
    said = data["assessment"]["message"]
    assert said["code"] == "scans.mass.heavier"
    assert said["params"]["detail"]["code"] == "scans.mass.compared"
    french = CATALOGUE.render(said["code"], said["params"], "fr", catalogue_translations("fr"))
    assert french.startswith("chargement plus lourd que déclaré\u00a0: chargement imagé de ")
    assert "8\u202f000\u202fkg" in french and "heavier" not in french
    assert CATALOGUE.render(said["code"], said["params"], "en", catalogue_translations("en")) == (
        finding.description
    )
    mass = next(c for c in report.to_dict()["checks"] if c["analysis"] == "mass")
    assert mass["message"] == said["params"]["detail"]


def test_dense_goods_cannot_be_cleared_on_mass() -> None:
    sim = simulated(CargoKind.MACHINERY, ConcealmentKind.NONE, ContainerType.DRY_40, 1)
    report = analyze(
        sim.scan, declared_gross_kg=sim.truth.gross_kg * 1.3, hs_code="8474.20", now=NOW
    )
    mass = report.check("mass")
    assert mass is not None and mass.figures["lower_bound"] is True
    # The report says why: a share of the loaded area too dark to read, which may hide 5 % of
    # the mass or more.
    assert mass.figures["dark_area_fraction"] > 0.02
    assert mass.figures["hideable_fraction"] >= 0.05
    # Machinery is compared where the beam crosses it; what is too dense is named as unchecked.
    concealment = report.check("concealment")
    assert concealment is not None and concealment.status == "pass"
    assert any("not checked there" in n for n in concealment.figures["notes"])


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"hs_code": "61"}, "hs_code"),
        ({"declared_gross_kg": -5.0}, "declared_gross_kg"),
        ({"tare_kg": float("nan")}, "tare_kg"),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], field: str) -> None:
    sim = simulated(CargoKind.EMPTY, ConcealmentKind.NONE, ContainerType.DRY_20, 1)
    with pytest.raises(ScanInputError) as info:
        analyze(sim.scan, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field and info.value.status_code == 422


def test_the_learned_detector_stands_aside_when_organic_goods_read_as_mixed() -> None:
    # A scanner whose spectra are not its calibration's reads textiles at Z_eff 14: every
    # feature the model learned from is shifted, so it must not judge; the classical check,
    # which compares the load with itself, still does.
    from smartcustoms.scans.analyses.concealment import ConcealmentResult
    from smartcustoms.scans.analyses.goods import goods_profile
    from smartcustoms.scans.analyses.history import LoadSummary
    from smartcustoms.scans.analyses.pipeline import _reads_off_calibration

    def result(z: float) -> ConcealmentResult:
        load = LoadSummary(
            median_z=z, median_areal_density=45.0, composition_score=0.0, density_score=0.0
        )
        return ConcealmentResult(True, "compared", (), (20.0, 24.0), "default", load, None)

    garments = goods_profile("6109.10")
    why = _reads_off_calibration(result(14.4), garments)
    assert why is not None and "14.4" in why and "calibration" in why
    assert _reads_off_calibration(result(6.2), garments) is None
    assert _reads_off_calibration(result(14.4), None) is None
    assert _reads_off_calibration(result(14.4), goods_profile("8483.40")) is None  # mixed goods
