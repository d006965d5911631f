"""Shared by the scans benchmarks: run simulated scans through the analyses in parallel."""

from __future__ import annotations

import math
import os
import platform
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def machine() -> str:
    cores = os.cpu_count() or 1
    try:
        with open("/proc/meminfo") as fh:
            mem_kb = int(fh.readline().split()[1])
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        mem = "RAM unknown"
    return f"{platform.machine()}, {cores} cores, {mem}, Python {sys.version.split()[0]}"


def header(title: str, settings: str) -> None:
    print(f"# {title}")
    print(f"# {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on {machine()}")
    print(f"# {settings}")
    print(
        "# All figures are from SIMULATED scans (smartcustoms.sandbox.scan_simulator),"
        " not real cargo."
    )


def parallel_map(fn: Callable[[T], R], items: Iterable[T], workers: int) -> list[R]:
    items = list(items)
    if workers <= 1:
        return [fn(x) for x in items]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items, chunksize=2))


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate(successes: int, n: int) -> str:
    lo, hi = wilson(successes, n)
    share = 100 * successes / max(n, 1)
    return f"{successes}/{n} = {share:.1f} % (95 % CI {100 * lo:.1f}–{100 * hi:.1f} %)"
