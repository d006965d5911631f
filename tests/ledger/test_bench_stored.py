"""The stored ledger's benchmark scripts keep working (tiny runs), so the README's figures
stay reproducible."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run(script: str, args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args.split()],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_append_bench_prints_every_figure() -> None:
    out = run(
        "ledger_append.py",
        "--appends 3000 --batch 1000 --reps 1 --threads 4 --rate 100 --seconds 1 --interval-ms 100",
    )
    for figure in (
        "raw hashlib SHA-256 leaf hashing",
        "raw sqlite3 batched insert",
        "ledger: durable appends (entries)",
        "ledger: durable appends (records)",
        "ledger: single appends, 4 threads",
        "of hashing",
        "append → covered by a signed checkpoint",
        "p99",
    ):
        assert figure in out, figure


def test_proof_bench_prints_every_figure() -> None:
    out = run("ledger_proofs.py", "--size 3000 --samples 50 --reps 1")
    for figure in (
        "raw sqlite3 read of one hash row (baseline)",
        "inclusion proof, in-memory hashes (baseline)",
        "inclusion proof from the store",
        "consistency proof from the store",
        "proof bundle (Ledger.proof_bundle)",
    ):
        assert figure in out, figure
