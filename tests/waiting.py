"""Waiting on a condition, never for a fixed time: a test that sleeps is slow or flaky."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(
    condition: Callable[[], object],
    timeout: float = 10.0,
    *,
    interval: float = 0.02,
    message: str = "condition not met in time",
) -> None:
    """Return as soon as ``condition()`` is true; fail the test after ``timeout`` seconds.

    The condition is checked once more at the deadline, so a slow machine that meets it just
    then still passes.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            if condition():
                return
            raise AssertionError(f"{message} (after {timeout:g} s)")
        time.sleep(interval)
