"""What the command prints: whole identifiers in tables, lines not cut at 80 columns when the
output goes to a file or a pipe, one prefix on every error line (issue 15)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from smartcustoms.cli.risk import models_table


def test_a_model_version_is_never_cut_in_a_narrow_terminal() -> None:
    version = "20261206T150333Z-d254af76"
    model = SimpleNamespace(
        version=version,
        created_at=datetime(2026, 12, 6, 15, 3, tzinfo=UTC),
        created_by="risk-analyst",
        card={"training": {"rows": 5944}, "evaluation": {"holdout": {"auc": 0.7135}}},
        active=True,
    )
    out = io.StringIO()
    Console(file=out, width=50, color_system=None).print(models_table([model]))
    assert version in out.getvalue(), out.getvalue()


def test_piped_output_is_not_wrapped_at_80_columns(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TERMINAL_WIDTH")}
    done = subprocess.run(
        [sys.executable, "-m", "smartcustoms", "scans", "simulate", str(tmp_path / "s.tif"),
         "--container", "20ft", "--cargo", "empty", "--seed", "1"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (line,) = [x for x in done.stdout.splitlines() if x.strip().startswith("container ")]
    assert len(line) > 80 and line.rstrip().endswith("kg"), done.stdout


def test_every_error_line_starts_the_same_way(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")}
    env["SMARTCUSTOMS_DATA_DIR"] = str(tmp_path)
    for args, code in (
        (["ledger", "nope"], 2),  # usage, from the parser
        (["scans", "analyze", str(tmp_path / "missing.tif")], 2),  # the scans group's own
        (["ledger", "append", str(tmp_path / "missing.json")], 1),  # a command's failure
        (["--config", str(tmp_path / "none.toml"), "db", "status"], 2),  # settings
    ):
        done = subprocess.run(
            [sys.executable, "-m", "smartcustoms", *args],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
        lines = [x for x in done.stderr.splitlines() if x.strip()]
        assert done.returncode == code and len(lines) == 1, (args, done.stderr)
        assert lines[0].startswith("smartcustoms: error: "), lines[0]
