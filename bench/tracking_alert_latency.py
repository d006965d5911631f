"""Alert latency: a seal opens on the road → the alert arrives on the command centre's live
stream. Target: p99 within 1 s.

    .venv/bin/python bench/tracking_alert_latency.py [--rates 2,10,30] [--seconds 15]
        [--repeat 3] [--background 1000] [--transits 600]

``smartcustoms serve`` runs as a user runs it (its own process, default worker settings, the
device listeners beside it with SMARTCUSTOMS_TRACKING_LISTEN=true); this process is the load
generator and the command centre. It keeps one TCP connection per e-seal (text e-seal protocol)
and sends, open loop on a fixed schedule: ``--background`` ordinary reports a second, and at each
rate under test that many seal openings a second, each on a different transit. The live stream
(``GET /api/tracking/stream``, server-sent events, an operator's API token) is read in a
thread; an opening's latency runs from its scheduled send time to the moment its alert event
is read. Between runs the alerts are resolved, so the next run's openings raise new ones.

Figures per rate: p50, p99 and max over each run, median (min, max) over ``--repeat`` runs; and
the highest rate whose p99 stays within 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx2
from sqlalchemy import text
from tracking_common import Figures, free_port, machine, peak_rss_mb, prepare, temporary_folder

from smartcustoms.core.context import AppContext
from smartcustoms.core.roles import Role
from smartcustoms.core.settings import load_settings
from smartcustoms.core.tokens import create_token
from smartcustoms.core.users import create_user, get_user
from smartcustoms.sandbox.traffic_simulator.encoders import ENCODERS
from smartcustoms.tracking.records import Position, SealEvent


def seal(n: int) -> str:
    return f"LAT{n:05d}"


class Stream(threading.Thread):
    """The command centre: reads the live stream, notes when each device's alert arrives."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.token = token
        self.arrivals: dict[str, float] = {}
        self.connected = threading.Event()
        self.stopping = False

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        while not self.stopping:
            try:
                with httpx2.stream("GET", self.url, headers=headers, timeout=None) as response:
                    self.connected.set()
                    kind = ""
                    for line in response.iter_lines():
                        if line.startswith("event: "):
                            kind = line[7:]
                        elif line.startswith("data: ") and kind == "alert":
                            alert = json.loads(line[6:])
                            if alert["status"] == "open" and alert["type"] == "seal_opened":
                                self.arrivals.setdefault(alert["device_id"], time.time())
                        if self.stopping:
                            return
            except httpx2.TransportError:
                time.sleep(0.2)


async def drive(
    port: int, devices: int, openings: list[tuple[float, int]], background: float, seconds: float
) -> int:
    """Send background reports and the scheduled openings; return reports sent."""
    encoder = ENCODERS["eseal"]
    streams = []
    for _ in range(devices):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        streams.append((reader, writer))

    async def drain(reader: asyncio.StreamReader) -> None:
        while await reader.read(65536):
            pass

    readers = [asyncio.create_task(drain(r)) for r, _ in streams]
    serial = 0

    def report(n: int, events: tuple[SealEvent, ...] = ()) -> bytes:
        nonlocal serial
        serial += 1
        position = Position(
            device_id=seal(n),
            time=datetime.now(UTC).replace(microsecond=0),
            latitude=-3.39 + (n % 100) / 10_000,
            longitude=38.55,
            speed_kmh=0.0 if events else 55.0,
            course=300.0,
            satellites=9,
            valid=True,
            events=events,
        )
        return encoder.report(seal(n), [position], serial)

    start = time.time()
    end = start + seconds
    sent = 0
    next_background = start
    pending = sorted(openings)
    while (now := time.time()) < end or pending:
        while pending and pending[0][0] <= now:
            _, n = pending.pop(0)
            streams[n][1].write(report(n, (SealEvent.OPENED,)))
            sent += 1
        while background and next_background <= now and now < end:
            n = sent % devices
            streams[n][1].write(report(n))
            sent += 1
            next_background += 1 / background
        await asyncio.sleep(0.002)
    await asyncio.sleep(2.0)  # the last answers and alerts
    for task in readers:
        task.cancel()
    for _, writer in streams:
        writer.close()
    return sent


def run_rate(
    port: int, stream: Stream, args: argparse.Namespace, rate: float, db_url: str
) -> tuple[float, float, float, int, int]:
    count = int(rate * args.seconds)
    begin = time.time() + 1.0
    openings = [(begin + k / rate, k % args.transits) for k in range(count)]
    scheduled = {seal(n): at for at, n in openings}
    stream.arrivals.clear()
    asyncio.run(drive(port, args.transits, openings, args.background, args.seconds + 1.0))
    deadline = time.time() + 10
    while len(stream.arrivals) < len(scheduled) and time.time() < deadline:
        time.sleep(0.1)
    latencies = sorted(
        stream.arrivals[d] - at for d, at in scheduled.items() if d in stream.arrivals
    )
    missing = len(scheduled) - len(latencies)
    _resolve_all(db_url)
    if not latencies:
        return float("nan"), float("nan"), float("nan"), 0, missing
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return p50, p99, latencies[-1] * 1000, len(latencies), missing


def _resolve_all(url: str) -> None:
    from smartcustoms.core.db import Database

    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE tracking_alerts SET status = 'resolved', open_key = NULL"))
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="2,10,30", help="openings a second, comma-separated")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--background", type=float, default=1000.0, help="ordinary reports/s")
    parser.add_argument("--transits", type=int, default=600)
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    print(f"machine: {machine()}")
    print(
        "settings: "
        + ", ".join(f"{k}={v}" for k, v in vars(args).items())
        + f", date={datetime.now(UTC):%Y-%m-%d}"
    )
    folder = temporary_folder("smartcustoms-bench-alerts-")
    env = prepare(folder, [seal(n) for n in range(args.transits)])
    settings = load_settings(None, data_dir=folder, database_url=env["SMARTCUSTOMS_DATABASE_URL"])
    ctx = AppContext.from_settings(settings)
    with ctx.unit() as unit:
        create_user(
            unit,
            username="operator",
            password="benchmark operator password",  # noqa: S106 - a throwaway database
            roles=[Role.COMMAND_CENTRE_OPERATOR],
            actor="bench",
        )
        token = create_token(
            unit, get_user(unit.session, "operator"), name="bench", days=1, max_days=1, actor="b"
        ).secret
    ctx.close()
    web_port, device_port = free_port(), free_port()
    server_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")},
        **env,
        "SMARTCUSTOMS_TRACKING_LISTEN": "true",
        "SMARTCUSTOMS_TRACKING_HOST": "127.0.0.1",
        "SMARTCUSTOMS_TRACKING_LISTENERS": f'["eseal:tcp:{device_port}"]',
    }
    log = (folder / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "smartcustoms", "serve", "--port", str(web_port)],
        env=server_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{web_port}"
    try:
        _wait(base, device_port, server)
        stream = Stream(base + "/api/tracking/stream", token)
        stream.start()
        assert stream.connected.wait(30), "no live stream"
        time.sleep(1.0)
        results: dict[float, list[tuple[float, float, float, int, int]]] = {}
        for rate in rates:
            results[rate] = [
                run_rate(device_port, stream, args, rate, env["SMARTCUSTOMS_DATABASE_URL"])
                for _ in range(args.repeat)
            ]
        stream.stopping = True
        rss = sum(peak_rss_mb(pid) for pid in [server.pid])
    finally:
        server.terminate()
        server.wait(60)
        log.close()
    best = None
    print(f"background reports/s: {args.background:,.0f}; poll interval: 250 ms (default)")
    for rate, runs in results.items():
        p50 = Figures([r[0] for r in runs])
        p99 = Figures([r[1] for r in runs])
        worst = Figures([r[2] for r in runs])
        seen = sum(r[3] for r in runs)
        missing = sum(r[4] for r in runs)
        print(f"openings/s {rate:>5g}: p50 {p50} ms | p99 {p99} ms | max {worst} ms")
        print(f"                 alerts seen {seen}, missing {missing}")
        if missing == 0 and p99.median <= 1000:
            best = rate
    print(f"highest rate with p99 <= 1 s: {best if best is not None else 'none'} openings/s")
    print(f"server (web + listeners) peak RSS, MiB: {rss:,.0f}")


def _wait(base: str, device_port: int, server: subprocess.Popen[bytes]) -> None:
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server stopped")
        try:
            if httpx2.get(base + "/health", timeout=1).status_code == 200:
                with socket.create_connection(("127.0.0.1", device_port), timeout=1):
                    return
        except (httpx2.TransportError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start")


if __name__ == "__main__":
    main()
