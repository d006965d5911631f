"""Running the listeners (and the simulator) as child processes of ``serve`` and the demo.

The listeners get a process of their own: the web workers and the device sockets then use
separate cores, a crash of one does not take the other down, and any number of web workers can
run without fighting over device ports. The child is told to stop when its parent goes
(``--exit-with-parent``), so it never outlives ``serve`` even after a ``kill -9``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from smartcustoms.core.errors import ServiceUnavailable

__all__ = ["read_ready", "start_listeners", "start_simulator", "stop_process"]


def _command(config: str | Path | None, args: Sequence[str]) -> list[str]:
    command = [sys.executable, "-m", "smartcustoms"]
    if config:
        command += ["--config", str(config)]
    return [*command, *args]


def start_listeners(
    *,
    config: str | Path | None = None,
    args: Sequence[str] = (),
    ready_file: Path | None = None,
    env: dict[str, str] | None = None,
    wait_s: float = 60.0,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``smartcustoms tracking listen``; with ``ready_file``, wait until it listens."""
    command = _command(config, ["tracking", "listen", "--exit-with-parent", *args])
    if ready_file is not None:
        ready_file.unlink(missing_ok=True)
        command += ["--ready-file", str(ready_file)]
    output = log.open("ab") if log is not None else None
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command,
        env={**os.environ, **(env or {})},
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
    )
    if output is not None:
        output.close()
    if ready_file is not None:
        deadline = time.monotonic() + wait_s
        while not ready_file.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                stop_process(process)
                raise ServiceUnavailable(
                    f"the device listeners did not start (exit {process.returncode})",
                    code="listeners_failed",
                )
            time.sleep(0.05)
    return process


def read_ready(ready_file: Path) -> dict[str, Any]:
    """The ready file a listener process wrote: ``{"pid", "listeners": {spec: {...port}}}``."""
    data: dict[str, Any] = json.loads(ready_file.read_text(encoding="utf-8"))
    return data


def start_simulator(
    args: Sequence[str],
    *,
    config: str | Path | None = None,
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``smartcustoms tracking simulate`` with ``args``."""
    output = log.open("ab") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        _command(config, ["tracking", "simulate", "--exit-with-parent", *args]),
        env={**os.environ, **(env or {})},
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    if log is not None and not isinstance(output, int):
        output.close()
    return process


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """SIGTERM (the child stops gracefully), then SIGKILL if it does not within ``timeout``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
