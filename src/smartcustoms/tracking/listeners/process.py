"""Running the listeners (and the simulator) as child processes of ``serve`` and the demo.

The listeners get a process of their own: the web workers and the device sockets then use
separate cores, a crash of one does not take the other down, and any number of web workers can
run without fighting over device ports. The child is told to stop when its parent goes
(``--exit-with-parent``, watched by :func:`watch_parent`), so it never outlives ``serve`` even
after a ``kill -9``. ``tracking listen --workers N`` starts its N listener processes here too
(:func:`run_listener_workers`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from smartcustoms.core.errors import ServiceUnavailable

__all__ = [
    "child_command",
    "read_ready",
    "run_listener_workers",
    "start_listeners",
    "start_simulator",
    "stop_process",
    "watch_parent",
]


def child_command(config: str | Path | None, args: Sequence[str]) -> list[str]:
    """``smartcustoms [--config CONFIG] ARGS`` run by this interpreter."""
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
    command = child_command(config, ["tracking", "listen", "--exit-with-parent", *args])
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
        child_command(config, ["tracking", "simulate", "--exit-with-parent", *args]),
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


def run_listener_workers(
    workers: int, *, config: str | Path | None = None, args: Sequence[str] = ()
) -> list[int]:
    """Run ``workers`` listener processes sharing the ports (``--reuse-port``) and the MQTT
    load (each its own client ID), each stopping when this process goes; SIGTERM and SIGINT
    here are passed on to them as SIGTERM. Returns their exit codes once they all ended."""
    base = child_command(
        config, ["tracking", "listen", "--reuse-port", "--exit-with-parent", *args]
    )
    name = socket.gethostname()
    children = [
        subprocess.Popen([*base, "--mqtt-client-id", f"smartcustoms-ingest-{name}-{n}"])  # noqa: S603
        for n in range(workers)
    ]

    def forward(signum: int, frame: object) -> None:
        for child in children:
            child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return [child.wait() for child in children]


def watch_parent(gone: Callable[[], None], *, interval_s: float = 1.0) -> Coroutine[Any, Any, None]:
    """A coroutine that calls ``gone`` once the process that started this one (the parent now,
    when this is called) has ended, checked every ``interval_s``: a child started with
    ``--exit-with-parent`` stops with its parent."""
    parent = os.getppid()

    async def watch() -> None:
        while os.getppid() == parent:
            await asyncio.sleep(interval_s)
        gone()

    return watch()
