"""`smartcustoms risk` as an analyst runs it: import history, train, activate, rules, hit rates."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from smartcustoms.cli import app
from tests.risk.history import kcs_slice

runner = CliRunner()


def invoke(args: list[str], database_url: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, args, env={"SMARTCUSTOMS_DATABASE_URL": database_url, **(env or {})})


def test_train_activate_and_lodge(database_url: str, tmp_path: Path) -> None:
    history = kcs_slice(tmp_path, 0, 1200)
    imported = invoke(
        ["declarations", "import", str(history), "-f", "kcs", "--skip-invalid",
         "--rejects", str(tmp_path / "r.csv")],
        database_url,
    )  # fmt: skip
    assert imported.exit_code == 0, imported.output
    assert "past inspection results stored as history" in imported.output
    trained = invoke(["risk", "train", "--activate"], database_url)
    assert trained.exit_code == 0, trained.output
    assert '"auc"' in trained.output
    assert "active" in invoke(["risk", "models"], database_url).output
    fresh = kcs_slice(tmp_path, 1200, 100, labels=False)
    lodged = invoke(["declarations", "import", str(fresh), "-f", "kcs", "--skip-invalid",
                     "--rejects", str(tmp_path / "r2.csv")], database_url)  # fmt: skip
    assert lodged.exit_code == 0, lodged.output
    assert "lanes: green" in lodged.output
    rates = invoke(["risk", "hit-rates"], database_url)
    assert "no examination results recorded yet" in rates.output


def test_rules_from_the_command_line(database_url: str) -> None:
    made = invoke(
        ["risk", "rules", "propose", "tobacco", "--expression", 'hs4 = "2402"',
         "--lane", "red", "--reason", "Cigarettes"],
        database_url,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "waits for approval" in made.output
    # The same console account cannot approve what it wrote.
    own = invoke(["risk", "rules", "approve", "1"], database_url)
    assert own.exit_code == 1
    assert "someone other than its author" in str(own.exception)
    listed = invoke(["risk", "rules", "list"], database_url)
    assert "draft" in listed.output
    bad = invoke(
        ["risk", "rules", "propose", "x", "--expression", "hs4 = ", "--lane", "red",
         "--reason", "r"],
        database_url,
    )  # fmt: skip
    assert bad.exit_code == 1
    assert "column" in str(bad.exception)
    unknown_lane = invoke(
        ["risk", "rules", "propose", "x", "--expression", 'hs4 = "1"', "--lane", "purple",
         "--reason", "r"],
        database_url,
    )  # fmt: skip
    assert unknown_lane.exit_code == 2


def test_train_without_history(database_url: str) -> None:
    result = invoke(["risk", "train"], database_url)
    assert result.exit_code == 1
    assert "at least 200 inspected items" in str(result.exception)
