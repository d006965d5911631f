"""What the tracking benchmarks share: a throwaway database with corridors and armed transits,
the listener process as a user runs it, fast pre-encoded device frames, and figures."""

from __future__ import annotations

import os
import platform
import resource
import socket
import statistics
import struct
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from smartcustoms.core.context import AppContext
from smartcustoms.core.schema import target_metadata, upgrade
from smartcustoms.core.settings import load_settings
from smartcustoms.declarations.model import Amount, Declaration, Item, Party
from smartcustoms.declarations.store import store_declarations
from smartcustoms.sandbox.traffic_simulator import packaged_routes
from smartcustoms.tracking.corridors import import_geojson
from smartcustoms.tracking.listeners.process import read_ready, start_listeners, stop_process
from smartcustoms.tracking.packaged import packaged_geojson
from smartcustoms.tracking.protocols.checksums import crc16_ibm
from smartcustoms.tracking.transits import TransitRequest, arm_transit, create_transit

__all__ = [
    "Figures",
    "TeltonikaFrames",
    "cpu_seconds",
    "family",
    "free_port",
    "machine",
    "peak_rss_mb",
    "prepare",
    "raise_open_files",
    "running_listener",
]


def machine() -> str:
    cpus = os.cpu_count()
    with open("/proc/meminfo", encoding="ascii") as fh:
        total_kb = int(fh.readline().split()[1])
    load = os.getloadavg()[0]
    return (
        f"{platform.node()}: {cpus} cores, {total_kb / 1024 / 1024:.0f} GiB RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, "
        f"load average {load:.1f} at the start (a shared machine: other work competes)"
    )


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children (workers), in MiB."""
    total = 0.0
    for member in family(pid):
        try:
            with open(f"/proc/{member}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) / 1024
        except FileNotFoundError:
            continue
    return total


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU seconds used so far by ``pids`` (gone ones count 0)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def raise_open_files(wanted: int) -> int:
    """Raise this process's open-file limit (children inherit it), not the system's."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, max(hard, wanted)))
    except (ValueError, PermissionError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class Figures:
    """Repetitions of one figure: median, min and max."""

    values: list[float]

    def __str__(self) -> str:
        if not self.values:
            return "n/a"
        return (
            f"{statistics.median(self.values):,.0f} "
            f"(min {min(self.values):,.0f}, max {max(self.values):,.0f}, n={len(self.values)})"
        )

    @property
    def median(self) -> float:
        return statistics.median(self.values)


def prepare(
    folder: Path,
    devices: Sequence[str],
    *,
    database_url: str | None = None,
    corridor: str | None = "northern",
) -> dict[str, str]:
    """A database with the packaged corridors and an armed transit per device (all on
    ``corridor``, or alternating between the two); the environment for the listener."""
    url = database_url or f"sqlite:///{folder / 'bench.db'}"
    settings = load_settings(None, data_dir=folder, database_url=url, secret_key="b" * 48)
    ctx = AppContext.from_settings(settings)
    upgrade(ctx.db)
    if not ctx.db.is_sqlite:  # a database given for the benchmark: empty it (it says so)
        tables = ", ".join(f'"{t.name}"' for t in target_metadata().sorted_tables)
        with ctx.db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    with ctx.unit() as unit:
        import_geojson(unit, packaged_geojson(), actor="bench")
    corridors = list(packaged_routes())
    ends = {"northern": ("KEMBA", "RWKGL"), "central": ("TZDAR", "RWKGL")}
    declarations = [
        Declaration(
            lrn=f"BENCH-{n}",
            type_code="TR",
            office_of_declaration="KEMBA",
            declarant=Party(id="BRK001"),
            importer=Party(id="IMP001"),
            border_transport_mode="1",
            items=[
                Item(
                    sequence=1,
                    hs_code="850440",
                    origin_country="CN",
                    customs_value=Amount(value=Decimal(1000), currency="USD"),
                    net_mass_kg=Decimal(100),
                )
            ],
        )
        for n in range(len(devices))
    ]
    with ctx.unit() as unit:
        stored = store_declarations(unit.session, declarations, source="bench", submitted_by="b")
        ids = []
        for n, (device, s) in enumerate(zip(devices, stored.stored, strict=True)):
            route = corridor or corridors[n % len(corridors)]
            row = create_transit(
                unit,
                TransitRequest(
                    declaration_id=s.id,
                    device_id=device,
                    vehicle=f"BENCH {n}",
                    corridor=route,
                    origin=ends[route][0],
                    destination=ends[route][1],
                    deadline=datetime.now(UTC) + timedelta(days=5),
                    containers=[],
                ),
                actor="bench",
                administration="bench",
            )
            unit.session.flush()
            ids.append(row.id)
    with ctx.unit() as unit:
        for transit_id in ids:
            arm_transit(unit, transit_id, actor="bench")
    ctx.close()
    return {
        "SMARTCUSTOMS_DATA_DIR": str(folder),
        "SMARTCUSTOMS_DATABASE_URL": url,
        "SMARTCUSTOMS_TRACKING_MQTT_URL": "",
        "SMARTCUSTOMS_LOG_LEVEL": "WARNING",
        "SMARTCUSTOMS_SECRET_KEY": "b" * 48,
    }


@contextmanager
def running_listener(
    env: dict[str, str],
    listeners: Sequence[str],
    folder: Path,
    extra: Sequence[str] = (),
    *,
    workers: int = 1,
) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, int]]]:
    """``smartcustoms tracking listen`` in its own process(es), as a user runs it. With
    ``workers`` > 1 the ports must be fixed (the workers share them)."""
    args = ["--host", "127.0.0.1", "--no-mqtt", *extra]
    for spec in listeners:
        args += ["--listener", spec]
    if workers == 1:
        ready: Path | None = folder / "ready.json"
    else:
        args += ["--workers", str(workers)]
        ready = None
    process = start_listeners(args=args, ready_file=ready, env=env, log=folder / "listen.log")
    if ready is not None:
        ports = {k: v["port"] for k, v in read_ready(ready)["listeners"].items()}
    else:
        ports = {spec: int(spec.rsplit(":", 1)[1]) for spec in listeners}
        _wait_for_ports(process, ports.values(), workers)
    try:
        yield process, ports
    finally:
        stop_process(process, timeout=60)


def _wait_for_ports(process: subprocess.Popen[bytes], ports: Iterable[int], workers: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the listeners stopped")
        if len(family(process.pid)) > workers and all(_accepting(p) for p in ports):
            time.sleep(1.0)  # let every worker bind
            return
        time.sleep(0.1)
    raise RuntimeError("the listeners did not start")


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def family(pid: int) -> list[int]:
    """``pid`` and its descendants (the listener workers)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            found.extend(family(int(child)))
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class TeltonikaFrames:
    """Codec 8 AVL packets built from a template, fast enough not to slow the load generator.

    Each record has its own timestamp (one a second per device), so none is a retransmission.
    """

    _IO = bytes((0, 4, 2, 239, 1, 21, 4, 2, 66, 0x31, 0x38, 67, 0x0F, 0xA0, 0, 0))

    def __init__(self, imei: str, start: datetime, latitude: float, longitude: float) -> None:
        self.imei = imei
        self.next_ms = int(start.timestamp() * 1000)
        self.lat = round(latitude * 10_000_000)
        self.lon = round(longitude * 10_000_000)

    def login(self) -> bytes:
        return b"\x00\x0f" + self.imei.encode("ascii")

    def frame(self, records: int) -> bytes:
        parts = [bytes((0x08, records))]
        for _ in range(records):
            self.lat += 37  # a few metres a second
            parts.append(
                struct.pack(">QBiihHBH", self.next_ms, 0, self.lon, self.lat, 1200, 300, 9, 62)
            )
            parts.append(self._IO)
            self.next_ms += 1000
        parts.append(bytes((records,)))
        data = b"".join(parts)
        return (
            b"\x00\x00\x00\x00"
            + struct.pack(">I", len(data))
            + data
            + struct.pack(">I", crc16_ibm(data))
        )


def temporary_folder(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
