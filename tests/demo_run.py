"""Starting `smartcustoms demo` as a user would, for the tests that drive it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def start_demo(
    args: list[str], tmp_path: Path, *, until: str, timeout: float = 180, columns: int = 120
) -> tuple[subprocess.Popen[str], str]:
    """Run the demo with ``args`` and none of the caller's SMARTCUSTOMS_* settings, its
    throwaway folder under ``tmp_path``; return the process and what it printed up to the line
    holding ``until`` (or up to ``timeout`` seconds)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")}
    env["TMPDIR"] = str(tmp_path)  # the throwaway folder lands here, so we can see it go
    env["COLUMNS"] = str(columns)
    process = subprocess.Popen(
        [sys.executable, "-m", "smartcustoms", "demo", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if until in line:
            break
    return process, "".join(lines)
