"""``smartcustoms scans``: the sub-application, driven as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smartcustoms.cli.scans import app

runner = CliRunner()


@pytest.fixture(scope="module")
def scan_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "scan.tif"
    result = runner.invoke(
        app,
        [
            "simulate",
            str(path),
            "--container",
            "20ft",
            "--cargo",
            "empty",
            "--concealment",
            "small-steel",
            "--seed",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "hidden: 1.0 kg of steel" in result.output
    return path


def test_simulate_then_analyze_as_json(scan_file: Path) -> None:
    result = runner.invoke(app, ["analyze", str(scan_file), "--empty", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["alarm_decision"] == "ALARM"
    assert report["threat_objects"][0]["assessment"]["category"] == "NOT_EMPTY"
    assert report["threat_objects"][0]["material_class"] == "metal"


def test_analyze_prints_a_summary(scan_file: Path) -> None:
    result = runner.invoke(app, ["analyze", str(scan_file), "--declared-gross-kg", "2230"])
    assert result.exit_code == 0, result.output
    assert "ALARM" in result.output and "object of ≈" in result.output and "empty" in result.output


def test_simulate_dicos_and_read_it_back(tmp_path: Path) -> None:
    path = tmp_path / "scan.dcm"
    assert (
        runner.invoke(
            app,
            ["simulate", str(path), "--container", "20ft", "--cargo", "bulk-bags", "--seed", "2"],
        ).exit_code
        == 0
    )
    result = runner.invoke(app, ["analyze", str(path), "--json", "--hs-code", "1006.30"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["scan"]["file"] == "scan.dcm"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["analyze", "missing.tif"], "missing.tif: file not found"),
        (["analyze", "{scan}", "--hs-code", "62x"], "HS code '62x' must be 4 to 10 digits"),
        (
            ["analyze", "{scan}", "--declared-gross-kg", "-3"],
            "declared_gross_kg must be a non-negative",
        ),
        (["simulate", "out.png"], "OUTPUT must end in .tif, .tiff or .dcm"),
        (["simulate", "nowhere/out.tif"], "no such directory"),
        (["simulate", "out.tif", "--concealment-kg", "0"], "--concealment-kg must be positive"),
        (["simulate", "out.tif", "--cargo", "gold"], "--cargo: one of empty, pallets"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(
    scan_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    args = [a.replace("{scan}", str(scan_file)) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_analyze_refuses_a_bomb_and_follows_the_settings(scan_file: Path, tmp_path: Path) -> None:
    from tests.scans.readers import bombs

    bomb = bombs.two_huge_deflate_pages(tmp_path)
    result = runner.invoke(app, ["analyze", str(bomb)])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "deflate-30000.tif: page 0 ImageLength is 30,000 pixels" in text
    # The limit is a setting: the small simulated scan is over a limit of 1,000 pixels.
    lowered = runner.invoke(
        app, ["analyze", str(scan_file)], env={"SMARTCUSTOMS_SCAN_MAX_PIXELS": "1000"}
    )
    assert lowered.exit_code == 2
    assert "above the limit of 1,000" in " ".join(lowered.output.split())


def test_help_explains_both_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "analyze" in result.output and "simulate" in result.output
    text = " ".join(runner.invoke(app, ["analyze", "--help"]).output.split())
    assert "--declared-gross-kg" in text and "DICOS" in text and "status 2" in text
