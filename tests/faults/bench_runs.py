"""Running a fault benchmark of ``bench/`` from a test: its last JSON line is the result."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_json(script: str, args: list[str], timeout: float = 600) -> tuple[dict[str, Any], str]:
    """Run ``bench/<script>`` with ``args``; its last JSON line, and what it wrote to standard
    error (for the assertion message). Fails when it printed no JSON line."""
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stdout + done.stderr[-3000:]
    result: dict[str, Any] = json.loads(lines[-1])
    result["returncode"] = done.returncode
    return result, done.stderr[-2000:]
