"""`smartcustoms risk simulate`: the weekly loop from the command line, on small KCS slices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from smartcustoms.cli import app
from smartcustoms.cli.risk import StrategyChoice
from smartcustoms.risk.exploration import STRATEGIES
from tests.risk.history import kcs_slice

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """History: the first 1,200 rows of 2020 (to 9 January); stream: the next 1,500."""
    folder = tmp_path_factory.mktemp("kcs")
    return kcs_slice(folder, 0, 1200), kcs_slice(folder, 1200, 1500)


def simulate(*args: str) -> Result:
    return runner.invoke(app, ["risk", "simulate", *args])


def test_json_report_and_plot(files: tuple[Path, Path], tmp_path: Path) -> None:
    history, stream = files
    plot = tmp_path / "loop.png"
    result = simulate("--history", str(history), "--stream", str(stream), "--inspect-rate", "0.1",
                      "--explore", "0.2", "--strategy", "band", "--weeks", "2", "--json",
                      "--full-feedback", "--plot", str(plot))  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["settings"]["strategy"] == "band" and report["settings"]["explore"] == 0.2
    assert report["rows"]["history"] == 1200 and report["rows"]["weeks"] == 2
    assert set(report["runs"]) == {"exploration", "no_exploration", "oracle", "full_feedback"}
    for figures in report["runs"].values():
        assert {"precision", "recall", "weekly_auc"} <= set(figures)
    assert report["runs"]["oracle"]["precision"]["mean"] == 1.0
    assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_history_until_moves_late_history_into_the_stream(files: tuple[Path, Path]) -> None:
    history, _ = files
    result = simulate("--history", str(history), "--stream", str(history),
                      "--history-until", "2020-01-06", "--weeks", "1", "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert rows["weeks"] == 1 and rows["history"] < 1200


def test_packaged_data_by_default_shown_as_a_table() -> None:
    result = simulate("--weeks", "1")
    assert result.exit_code == 0, result.output
    assert "with exploration" in result.stdout and "oracle" in result.stdout
    assert "exploration against none" in result.stdout


def test_bad_input_exits_2_naming_the_problem(files: tuple[Path, Path], tmp_path: Path) -> None:
    history, stream = files
    lines = stream.read_text().splitlines()
    cells = lines[9].split(",")
    cells[20] = "yes"  # Fraud
    lines[9] = ",".join(cells)
    bad = tmp_path / "stream.csv"
    bad.write_text("\n".join(lines) + "\n")
    result = simulate("--history", str(history), "--stream", str(bad), "--json")
    assert result.exit_code == 2
    assert str(bad) in result.stderr and "'yes' at row 10" in result.stderr
    only_one = simulate("--history", str(history))
    assert only_one.exit_code == 2 and "both --history and --stream" in only_one.stderr
    rate = simulate("--history", str(history), "--stream", str(stream), "--inspect-rate", "0")
    assert rate.exit_code == 2 and "inspection rate" in rate.stderr


def test_strategy_choices_match_the_library() -> None:
    assert tuple(c.value for c in StrategyChoice) == STRATEGIES
