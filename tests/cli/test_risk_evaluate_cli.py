"""`smartcustoms risk evaluate`: labelled files in, figures in the issue's exact shape out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from smartcustoms.cli import app
from tests.risk.history import kcs_slice

runner = CliRunner()
RATES = ("1%", "2%", "5%", "10%")


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Two training files (early January 2020) and a later test file."""
    folder = tmp_path_factory.mktemp("kcs")
    return kcs_slice(folder, 0, 700), kcs_slice(folder, 700, 700), kcs_slice(folder, 1400, 600)


def evaluate(*args: str) -> Result:
    return runner.invoke(app, ["risk", "evaluate", *args])


def test_json_has_exactly_the_specified_shape(
    files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    first, second, test = files
    plot = tmp_path / "curve.png"
    result = evaluate("--train", str(first), "--train", str(second), "--test", str(test),
                      "--format", "kcs", "--seeds", "2", "--json", "--plot", str(plot))  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {"metrics", "rows", "seeds"}
    expected = {f"{m}@{k}" for m in ("precision", "recall") for k in RATES} | {"auc"}
    assert set(report["metrics"]) == expected  # KCS has no revenue column: no revenue@k
    for name, figures in report["metrics"].items():
        assert set(figures) == {"mean", "std"}, name
        assert 0.0 <= figures["mean"] <= 1.0 and figures["std"] >= 0.0
    assert report["rows"] == {"train": 1400, "test": 600}
    assert report["seeds"] == 2
    assert report["metrics"]["auc"]["mean"] > 0.5  # better than chance, even on 1,400 rows
    assert plot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_revenue_figures_when_the_test_file_has_revenue(
    files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    first, _, test = files
    lines = test.read_text().splitlines()
    with_revenue = tmp_path / "revenue.csv"
    with_revenue.write_text(
        "\n".join([lines[0] + ",Revenue", *(f"{x},{i % 7 * 100}" for i, x in enumerate(lines[1:]))])
    )
    result = evaluate("--train", str(first), "--test", str(with_revenue), "--seeds", "1", "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)["metrics"]
    assert {f"revenue@{k}" for k in RATES} <= set(metrics)


def test_readable_table_without_json(files: tuple[Path, Path, Path]) -> None:
    first, _, test = files
    result = evaluate("--train", str(first), "--test", str(test), "--seeds", "1")
    assert result.exit_code == 0, result.output
    assert "precision@5%" in result.stdout and "± 0.0000" in result.stdout
    assert "trained on 700 items, tested on 600" in result.stdout


def test_bad_file_exits_2_naming_file_and_row(
    files: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    first, _, test = files
    lines = test.read_text().splitlines()
    lines[5] = lines[5].replace("2020-01", "2020-99", 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    result = evaluate("--train", str(first), "--test", str(bad), "--seeds", "1", "--json")
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    assert str(bad) in result.stderr and "row 6" in result.stderr and "date" in result.stderr
    assert result.stdout == ""


def test_missing_files_and_columns_exit_2(files: tuple[Path, Path, Path], tmp_path: Path) -> None:
    first, _, test = files
    absent = evaluate("--train", str(tmp_path / "nope.csv"), "--test", str(test))
    assert absent.exit_code == 2 and "nope.csv: no such file" in absent.stderr
    unlabelled = kcs_slice(tmp_path, 0, 20, labels=False)
    missing = evaluate("--train", str(first), "--test", str(unlabelled))
    assert missing.exit_code == 2 and "no 'Fraud' column" in missing.stderr
    folder = evaluate(
        "--train", str(first), "--test", str(test), "--plot", str(tmp_path / "x" / "p.png")
    )
    assert folder.exit_code == 2 and "does not exist" in folder.stderr
