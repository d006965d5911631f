"""The benchmark script keeps working (a tiny run), so its figures stay reproducible."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "ledger_core.py"


def test_bench_runs_and_prints_every_figure() -> None:
    args = "--size 3000 --rate-leaves 3000 --reps 1 --samples 50 --tile-samples 10 --batch 700"
    out = subprocess.run(
        [sys.executable, str(SCRIPT), *args.split()],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    for figure in (
        "raw hashlib SHA-256 leaf hashing",
        "CompactRange.append (pre-hashed)",
        "ratio",
        "built in",
        "inclusion, in-memory hash reader",
        "consistency, in-memory hash reader",
        "inclusion, tile-backed reader",
    ):
        assert figure in out
