"""`smartcustoms declarations import` as an operator runs it."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
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


def _ledger_records(database_url: str, tmp_path: Path) -> list[dict[str, object]]:
    from smartcustoms.core.context import AppContext
    from smartcustoms.core.settings import load_settings
    from smartcustoms.ledger.service import attach_ledger

    settings = load_settings(None, data_dir=tmp_path / "data", database_url=database_url)
    ctx = AppContext.from_settings(settings)
    try:
        ledger = attach_ledger(ctx)
        ledger.flush()
        return [ledger.record(i) for i in range(ledger.size())]
    finally:
        ctx.close()


def test_chunked_import_assesses_every_chunk_and_records_it(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smartcustoms.declarations import intake

    monkeypatch.setattr(intake, "CHUNK", 2)
    bad = item(0, origin_country="ZZ")
    bad["lrn"] = "BAD"
    entries = [declaration(lrn=f"OK{i}") for i in range(5)]
    path = tmp_path / "batch.json"
    path.write_text(json.dumps([*entries[:3], bad, *entries[3:]]))
    rejects = tmp_path / "rejects.csv"
    # All or nothing: a bad declaration after two stored chunks leaves nothing behind.
    refused = invoke(["declarations", "import", str(path), "--rejects", str(rejects)], database_url)
    assert refused.exit_code == 1
    assert not rejects.exists() and not list(tmp_path.glob("*.part"))
    assert [r["type"] for r in _ledger_records(database_url, tmp_path)] == []
    result = invoke(
        ["declarations", "import", str(path), "--skip-invalid", "--rejects", str(rejects)],
        database_url,
    )
    assert result.exit_code == 0, result.output
    assert "6 read, 5 imported, 0 already present, 1 rejected" in result.output
    assert "lanes: " in result.output
    assert rejects.read_text().splitlines()[1].startswith("declarations[3],items[0].origin")
    records = _ledger_records(database_url, tmp_path)
    lanes = [r for r in records if r["type"] == "risk.lane_assigned"]
    assert len(lanes) == 5 and len({r["declaration_id"] for r in lanes}) == 5
    assert records[-1]["type"] == "admin.action"


@pytest.mark.slow
def test_import_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    """Peak RSS of the import command, as a user runs it, on a header-only file and on a
    6 MB one (about 8,000 declarations): today's batch import held the whole file, every
    record and every declaration, several hundred MB more for this file."""
    import os
    import subprocess
    import sys

    def peak_mb(path: Path, folder: Path) -> int:
        env = {
            **os.environ,
            "SMARTCUSTOMS_DATA_DIR": str(folder),
            "SMARTCUSTOMS_DATABASE_URL": f"sqlite:///{folder / 'db.sqlite'}",
            "SMARTCUSTOMS_LOG_LEVEL": "WARNING",
        }
        code = "from smartcustoms.cli import main; main()"
        argv = [sys.executable, "-c", code, "declarations", "import", str(path), "-f", "csv"]
        child = subprocess.Popen([*argv, "--skip-invalid"], env=env, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must know
        return usage.ru_maxrss // 1024

    from tests.declarations.test_streaming import HEADER, csv_row

    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(HEADER) + "\n")
    big = tmp_path / "big.csv"
    with big.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for n in range(8000):
            for sequence in (1, 2, 3):
                writer.writerow(csv_row(f"L{n:06d}", sequence, "ZZ" if n % 100 == 7 else "CN"))
    assert big.stat().st_size > 2_000_000
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    baseline = peak_mb(empty, tmp_path / "a")
    peak = peak_mb(big, tmp_path / "b")
    assert peak - baseline < 80, (baseline, peak)
