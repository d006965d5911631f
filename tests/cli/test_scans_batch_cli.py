"""``smartcustoms scans analyze FOLDER``: a folder in one process, one JSON line per file, a bad
file named in its line and the batch going on (issue 14 item 6); and reports written only where
told, never over a scan or the sidecar beside it (item 7). On real files from the simulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smartcustoms.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small simulated scans (a TIFF with its sidecar, a DICOS file), a file named like a
    scan that is not one, and a note that is no scan at all."""
    where = tmp_path_factory.mktemp("batch")
    for name, extra in (
        ("steel.tif", ["--cargo", "empty", "--concealment", "small-steel", "--seed", "3"]),
        ("bags.dcm", ["--cargo", "bulk-bags", "--seed", "2"]),
    ):
        made = runner.invoke(
            app, ["scans", "simulate", str(where / name), "--container", "20ft", *extra]
        )
        assert made.exit_code == 0, made.output
    (where / "broken.tif").write_bytes(b"not a TIFF at all")
    (where / "README.txt").write_text("scans of the morning shift\n")
    return where


def lines_of(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_a_folder_is_analysed_file_by_file_and_a_bad_file_does_not_stop_it(
    folder: Path,
) -> None:
    result = runner.invoke(app, ["scans", "analyze", str(folder), "--empty", "--json-lines"])
    assert result.exit_code == 2, result.output  # one file failed
    by_file = {Path(str(line["file"])).name: line for line in lines_of(result.stdout)}
    assert sorted(by_file) == ["bags.dcm", "broken.tif", "steel.tif"]  # README skipped
    steel = by_file["steel.tif"]
    assert steel["alarm_decision"] == "ALARM"
    assert steel["report"]["threat_objects"][0]["assessment"]["category"] == "NOT_EMPTY"  # type: ignore[index]
    error = by_file["broken.tif"]["error"]
    assert isinstance(error, dict)
    assert error["code"] == "scan_unreadable"
    assert error["message"].startswith("broken.tif: ")
    assert error["details"][0]["file"] == "broken.tif"
    assert "3 files analysed, 1 failed, 1 skipped (not scans)" in result.stderr


def test_a_folder_with_nothing_wrong_exits_0_and_writes_its_lines_where_told(
    folder: Path, tmp_path: Path
) -> None:
    clean = tmp_path / "clean"
    clean.mkdir()
    for name in ("steel.tif", "steel.json"):
        (clean / name).write_bytes((folder / name).read_bytes())
    out = tmp_path / "reports.jsonl"
    result = runner.invoke(app, ["scans", "analyze", str(clean), "--json-lines", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert lines_of(result.stdout) == []  # the lines went where they were told, only there
    (line,) = lines_of(out.read_text())
    assert line["file"] == str(clean / "steel.tif") and "report" in line
    assert sorted(p.name for p in clean.iterdir()) == ["steel.json", "steel.tif"]


@pytest.mark.parametrize("target", ["steel.json", "steel.tif.json", "steel.tif", "bags.dcm"])
def test_a_report_never_replaces_a_scan_or_its_sidecar(folder: Path, target: str) -> None:
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    for args in (
        [str(folder / "steel.tif"), "--json"],
        [str(folder), "--json-lines"],
    ):
        result = runner.invoke(app, ["scans", "analyze", *args, "--output", str(folder / target)])
        assert result.exit_code == 2, result.output
        assert "smartcustoms: error: " in result.stderr
        assert "give another --output" in " ".join(result.stderr.split())
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_the_sidecar_survives_a_report_saved_beside_the_scan(folder: Path) -> None:
    sidecar = (folder / "steel.json").read_bytes()
    report = folder / "steel-report.json"
    try:
        result = runner.invoke(
            app, ["scans", "analyze", str(folder / "steel.tif"), "--empty", "-o", str(report)]
        )
        assert result.exit_code == 0, result.output
        assert "ALARM" in result.stdout  # the summary still printed
        assert json.loads(report.read_text())["alarm_decision"] == "ALARM"
        assert (folder / "steel.json").read_bytes() == sidecar
        again = runner.invoke(app, ["scans", "analyze", str(folder / "steel.tif"), "--json"])
        assert again.exit_code == 0, again.output  # and the scan still reads with it
    finally:
        report.unlink(missing_ok=True)


def test_evaluate_does_not_write_its_figures_over_a_sidecar(folder: Path, tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("file,outcome\nsteel.tif,irregular\n")
    sidecar = (folder / "steel.json").read_bytes()
    result = runner.invoke(
        app,
        ["scans", "evaluate", str(folder), "--labels", str(labels), "--output",
         str(folder / "steel.json")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "sidecar" in result.stderr
    assert (folder / "steel.json").read_bytes() == sidecar


def test_json_and_a_folder_ask_for_json_lines(folder: Path) -> None:
    result = runner.invoke(app, ["scans", "analyze", str(folder), "--json"])
    assert result.exit_code == 2
    assert "use --json-lines" in result.stderr


def test_analysing_a_scan_loads_no_risk_engine_nor_database(folder: Path, tmp_path: Path) -> None:
    # Issue 14 item 6: `scans analyze` loads the analyses it runs, nothing of the risk engine,
    # the ledger or the database layer.
    from tests.cli.test_cli_startup import loaded_by

    code, modules, printed = loaded_by(
        ["scans", "analyze", str(folder / "steel.tif"), "--json", "-o", str(tmp_path / "r.json")],
        tmp_path,
    )
    assert code in (0, None), printed
    assert "smartcustoms.scans.analyses.pipeline" in modules
    assert not [
        m
        for m in modules
        if m.startswith(("smartcustoms.risk", "smartcustoms.ledger", "sqlalchemy", "sklearn"))
    ]
