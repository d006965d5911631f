"""`smartcustoms declarations import` as an operator runs it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from typer.testing import CliRunner

from smartcustoms.cli import app
from tests.declarations.helpers import declaration, item

runner = CliRunner()


def invoke(args: list[str], database_url: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, args, env={"SMARTCUSTOMS_DATABASE_URL": database_url})


def test_import_all_or_nothing_then_skip_invalid(database_url: str, tmp_path: Path) -> None:
    bad = item(0, origin_country="ZZ")
    bad["lrn"] = "BAD"
    path = tmp_path / "batch.json"
    path.write_text(json.dumps([declaration(lrn="OK1"), bad, declaration(lrn="OK2")]))
    refused = invoke(["declarations", "import", str(path)], database_url)
    assert refused.exit_code == 1
    assert "1 of 3 declarations are invalid; nothing was imported" in str(refused.exception)
    rejects = tmp_path / "rejects.csv"
    result = invoke(
        ["declarations", "import", str(path), "--skip-invalid", "--rejects", str(rejects)],
        database_url,
    )
    assert result.exit_code == 0, result.output
    assert "3 read, 2 imported, 0 already present, 1 rejected" in result.output
    with rejects.open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows == [
        {
            "where": "declarations[1]",
            "field": "items[0].origin_country",
            "problem": "unknown country code 'ZZ'",
        }
    ]
    again = invoke(
        ["declarations", "import", str(path), "--skip-invalid", "--rejects", str(rejects)],
        database_url,
    )
    assert "0 imported, 2 already present" in again.output


def test_import_kcs_file_with_progress(database_url: str, tmp_path: Path) -> None:
    from importlib import resources

    source = resources.files("smartcustoms.risk") / "data" / "kcs" / "valid.csv"
    lines = source.read_text().splitlines()[:301]
    path = tmp_path / "kcs.csv"
    path.write_text("\n".join(lines) + "\n")
    result = invoke(
        ["declarations", "import", str(path), "-f", "kcs", "--skip-invalid",
         "--rejects", str(tmp_path / "r.csv")],
        database_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "300 read" in result.output


def test_missing_file_and_empty_file(database_url: str, tmp_path: Path) -> None:
    assert (
        invoke(["declarations", "import", str(tmp_path / "nope.json")], database_url).exit_code == 2
    )
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    assert invoke(["declarations", "import", str(empty)], database_url).exit_code == 1
