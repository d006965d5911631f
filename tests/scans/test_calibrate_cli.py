"""``smartcustoms scans calibrate``: a step-wedge scan and its data sheet in, a calibration out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smartcustoms.cli.scans import app
from smartcustoms.sandbox.scan_simulator.reference import reference_scan
from smartcustoms.scans import write_tiff
from smartcustoms.scans.physics.calibration import Calibration, geant4_calibration

runner = CliRunner()


@pytest.fixture(scope="module")
def wedge(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("wedge")
    scan, objects = reference_scan(seed=2)
    path = write_tiff(scan, folder / "wedge.tif")
    sheet = {
        "objects": [
            {
                "material": o.material.name,
                "areal_density_g_cm2": o.areal_density,
                "box": list(o.box),
            }
            for o in objects
        ]
    }
    sheet_path = folder / "wedge.objects.json"
    sheet_path.write_text(json.dumps(sheet), encoding="utf-8")
    return path, sheet_path


def test_calibrate_writes_the_sidecar_calibration(wedge: tuple[Path, Path], tmp_path: Path) -> None:
    scan, sheet = wedge
    out = tmp_path / "calibration.json"
    result = runner.invoke(
        app, ["calibrate", str(scan), "--objects", str(sheet), "--id", "SITE/1", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "48 reference objects; largest α error after the fit" in result.output
    cal = Calibration.from_dict(json.loads(out.read_text(encoding="utf-8")))
    assert cal.calibration_id == "SITE/1" and cal.source == "reference scan wedge.tif"
    # The simulated site's scanner is the Geant4 one: a spectrum close to the shipped one, so
    # a small filtration, and factors close to the shipped fit.
    assert abs(cal.high_filter) < 5.0 and abs(cal.low_filter) < 5.0
    assert cal.high[1] == pytest.approx(geant4_calibration().high[1], abs=0.05)
    worst = float(result.output.split("largest α error after the fit ")[1].split(" %")[0])
    assert worst < 5.0


def test_calibrate_names_the_bad_field(wedge: tuple[Path, Path], tmp_path: Path) -> None:
    scan, sheet = wedge
    data = json.loads(sheet.read_text(encoding="utf-8"))
    for change, field in (
        ({"material": "unobtainium"}, "objects[0].material"),
        ({"areal_density_g_cm2": -3}, "objects[0].areal_density_g_cm2"),
        ({"box": [1, 2, 3]}, "objects[0].box"),
    ):
        bad = tmp_path / "bad.json"
        bad.write_text(
            json.dumps({"objects": [{**data["objects"][0], **change}, *data["objects"][1:]]}),
            encoding="utf-8",
        )
        result = runner.invoke(app, ["calibrate", str(scan), "--objects", str(bad)])
        assert result.exit_code == 2, result.output
        assert field in result.output
    # too few materials for the fit
    few = tmp_path / "few.json"
    few.write_text(json.dumps({"objects": data["objects"][:2]}), encoding="utf-8")
    result = runner.invoke(app, ["calibrate", str(scan), "--objects", str(few)])
    assert result.exit_code == 2 and "≥3 materials" in result.output


def test_calibrate_never_writes_over_the_scan(wedge: tuple[Path, Path]) -> None:
    scan, sheet = wedge
    before = scan.with_suffix(".json").read_bytes()
    result = runner.invoke(
        app, ["calibrate", str(scan), "--objects", str(sheet), "-o", str(scan.with_suffix(".json"))]
    )
    assert result.exit_code == 2
    assert scan.with_suffix(".json").read_bytes() == before
