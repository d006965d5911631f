"""Calibrations installed per scanner: stored as files, used by the intake for every scan of
that scanner that carries none of its own, recorded in the ledger when installed or removed."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smartcustoms.cli import app
from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import Settings
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.scans import Calibration, Scan, ScanInputError, write_tiff
from smartcustoms.scans.calibrations import (
    CalibrationStore,
    InstalledCalibrationError,
    calibration_from_json,
)
from smartcustoms.scans.intake import Upload, receive_scan
from smartcustoms.scans.storage import store_for
from tests.scans.stored import MASS, case, declaration_for, lodge

# Compton and photoelectric scaled up by 25 %: the model reads more attenuation per g/cm², so
# the same image weighs less. What a site's calibration does to a scanner the shipped spectra
# overestimate.
HEAVIER_MODEL = Calibration(high=(1.25, 1.25, 1.0), low=(1.25, 1.25, 1.0), calibration_id="X/1")


def _load_kg(report: dict[str, Any]) -> float:
    for check in report["checks"]:
        if check["analysis"] == "mass":
            return float(check["figures"]["imaged_net_kg"])
    raise AssertionError("no mass check in the report")


def _receive(ctx: AppContext, settings: Settings, scan: Scan, folder: Path, name: str) -> Any:
    path = write_tiff(scan, folder / f"{name}.tif")
    declaration = lodge(ctx, declaration_for(item, lrn=f"LRN-{name}"))[0]
    with ctx.unit() as unit:
        return receive_scan(
            unit,
            store_for(settings),
            Upload(
                data=path.read_bytes(),
                file_name=path.name,
                declaration_id=declaration,
                container_number=item.container,
            ),
            actor="test",
            source="test",
        ).scan


item = case(MASS)


def _from(scanner: str, calibration: Calibration | None = None) -> Scan:
    meta = dataclasses.replace(
        item.sim.scan.metadata, scanner_id=scanner, calibration=calibration, declaration_ref=None
    )
    return dataclasses.replace(item.sim.scan, metadata=meta)


def test_install_list_remove(tmp_path: Path) -> None:
    store = CalibrationStore(tmp_path / "calibrations")
    assert store.all() == [] and store.get("X") is None
    assert store.install("KE-MSA/01.a", HEAVIER_MODEL) is False
    assert store.install("KE-MSA/01.a", HEAVIER_MODEL) is True  # replaced, whole
    assert [p.name for p in store.root.iterdir()] == ["KE-MSA%2F01%2Ea.json"]
    [installed] = store.all()
    assert installed.scanner_id == "KE-MSA/01.a" and installed.calibration == HEAVIER_MODEL
    removed = store.remove("KE-MSA/01.a")
    assert removed is not None and removed.calibration.calibration_id == "X/1"
    assert store.all() == [] and store.remove("KE-MSA/01.a") is None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"high": [1, 1], "low": [1, 1, 1]}, "calibration.high"),
        ({"high": [1, 1, 1]}, "calibration.low"),
        ({"high": [1, 1, 1], "low": [1, 1, 1], "low_filter": 500}, "calibration.low_filter"),
        ([1, 2], "calibration"),
    ],
)
def test_a_bad_calibration_is_refused_naming_the_field(data: Any, field: str) -> None:
    with pytest.raises(ScanInputError) as err:
        calibration_from_json(data)
    assert err.value.field == field


def test_a_damaged_installed_file_is_refused_not_ignored(tmp_path: Path) -> None:
    store = CalibrationStore(tmp_path)
    store.install("A", HEAVIER_MODEL)
    record = json.loads(store.path("A").read_text())
    record["calibration"]["high"] = "1.25"
    store.path("A").write_text(json.dumps(record))
    with pytest.raises(InstalledCalibrationError) as err:
        store.for_scan(_from("A"))
    assert err.value.details[0]["field"] == "calibration.high"


def test_intake_uses_the_scanner_s_calibration(
    ctx: AppContext, settings: Settings, tmp_path: Path
) -> None:
    store = CalibrationStore(store_for(settings).root / "calibrations")
    store.install("SCANNER-X", HEAVIER_MODEL)
    x = _receive(ctx, settings, _from("SCANNER-X"), tmp_path, "x").report
    y = _receive(ctx, settings, _from("SCANNER-Y"), tmp_path, "y").report
    own = Calibration(calibration_id="IN-FILE")
    z = _receive(ctx, settings, _from("SCANNER-X", own), tmp_path, "z").report
    assert x["scan"]["calibration"] == "X/1"
    assert y["scan"]["calibration"] != "X/1"
    assert z["scan"]["calibration"] == "IN-FILE"  # the file's own wins
    # the heavier model weighs the same image lighter, by several per cent
    assert _load_kg(x) < 0.95 * _load_kg(y)
    assert _load_kg(z) == pytest.approx(_load_kg(y), rel=0.02)


def test_cli_install_list_remove_land_in_the_ledger(settings: Settings, tmp_path: Path) -> None:
    env = {
        "SMARTCUSTOMS_DATA_DIR": str(settings.data_dir),
        "SMARTCUSTOMS_DATABASE_URL": settings.database_url,
    }
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(app, ["scans", "calibration", *args], env=env)

    cal = tmp_path / "cal.json"
    cal.write_text(json.dumps(HEAVIER_MODEL.to_dict()))
    done = run("install", str(cal), "--scanner", "SCANNER-X")
    assert done.exit_code == 0, done.output
    assert json.loads(run("list", "--json").output)[0]["calibration"]["id"] == "X/1"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"high": [1, 1, "x"], "low": [1, 1, 1]}))
    refused = run("install", str(bad), "--scanner", "SCANNER-Y")
    assert refused.exit_code == 2 and "calibration.high" in refused.output
    assert run("remove", "SCANNER-X").exit_code == 0
    assert run("remove", "SCANNER-X").exit_code == 1
    assert json.loads(run("list", "--json").output) == []
    ctx = AppContext.from_settings(settings)
    try:
        ledger = attach_ledger(ctx)
        ledger.flush()
        records = [ledger.record(i) for i in range(ledger.size())]
    finally:
        ctx.close()
    ours = [r for r in records if r["type"].startswith("scans.calibration")]
    assert [(r["type"], r["scanner_id"], r["calibration_id"]) for r in ours] == [
        ("scans.calibration_installed", "SCANNER-X", "X/1"),
        ("scans.calibration_removed", "SCANNER-X", "X/1"),
    ]


def test_cli_analyze_with_a_calibration_file(settings: Settings, tmp_path: Path) -> None:
    env = {"SMARTCUSTOMS_DATA_DIR": str(settings.data_dir)}
    path = write_tiff(_from("SCANNER-Y"), tmp_path / "y.tif")
    cal = tmp_path / "cal.json"
    cal.write_text(json.dumps(HEAVIER_MODEL.to_dict()))
    runner = CliRunner()
    plain = runner.invoke(app, ["scans", "analyze", str(path), "--json"], env=env)
    given = runner.invoke(
        app, ["scans", "analyze", str(path), "--json", "--calibration", str(cal)], env=env
    )
    assert plain.exit_code == 0 and given.exit_code == 0, given.output
    before, after = json.loads(plain.stdout), json.loads(given.stdout)
    assert after["scan"]["calibration"] == "X/1" != before["scan"]["calibration"]
    assert _load_kg(after) < 0.95 * _load_kg(before)
    cal.write_text(json.dumps({"high": [1, 1, 1], "low": [1, 1, 1], "high_filter": "x"}))
    refused = runner.invoke(
        app, ["scans", "analyze", str(path), "--calibration", str(cal)], env=env
    )
    assert refused.exit_code == 2 and "calibration.high_filter" in refused.output
