"""50,000 simulated seals connected at once, each reporting every 10 s.

    .venv/bin/python bench/tracking_connections.py [--seals 50000] [--interval 10]
        [--steady 60] [--windows 3] [--transits 2000] [--generators 2]

Each seal is a JT/T 808 e-lock with its own TCP connection to ``smartcustoms tracking listen``
(one process, as a user runs it), sending one location report (one record) every ``interval``
seconds and reading the platform's 0x8001 answer, which comes only after the commit. Reports go
out on a fixed schedule whatever the answers do (open loop), spread evenly over the interval;
latency is from a report's scheduled time to its answer. ``--transits`` of the seals are on
armed transits (the rules judge their reports); the others are only stored.

The open-file limit is raised for this process and its children (not system-wide); the load
generators spread their connections over several loopback source addresses (127.0.0.1–8) so as
not to run out of ephemeral ports. After all seals are connected, the steady phase is cut into
``--windows`` windows: the figures are the median (min, max) over them.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tracking_common import (
    Figures,
    family,
    free_port,
    machine,
    peak_rss_mb,
    prepare,
    raise_open_files,
    running_listener,
    temporary_folder,
)

from smartcustoms.sandbox.traffic_simulator.encoders import ENCODERS, device_id_for
from smartcustoms.tracking.records import Position

SOURCES = [f"127.0.0.{n}" for n in range(1, 9)]


def seal_id(n: int) -> str:
    return device_id_for("jt808", n)


class Seal(asyncio.Protocol):
    def __init__(self, shared: dict[str, Any]) -> None:
        self.shared = shared
        self.transport: asyncio.Transport | None = None
        self.sent: list[float] = []  # scheduled times of reports awaiting their answer
        self.flags = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.shared["connected"] += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.shared["connected"] -= 1
        self.shared["lost"] += 1
        self.transport = None

    def data_received(self, data: bytes) -> None:
        # Each 0x8001 answer is one frame between two 0x7E flags (escaping keeps 0x7E out of
        # the inside), so counting flags counts answers.
        self.flags += data.count(b"\x7e")
        now = time.monotonic()
        while self.flags >= 2 and self.sent:
            self.flags -= 2
            self.shared["latencies"].append(now - self.sent.pop(0))
            self.shared["acked"] += 1


def generator(first: int, count: int, port: int, args: dict[str, Any], queue: Any) -> None:
    raise_open_files(count + 1000)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        shared: dict[str, Any] = {"connected": 0, "lost": 0, "acked": 0, "latencies": []}
        seals: list[Seal] = []
        ramp = args["ramp_per_s"] / args["generators"]
        started = time.monotonic()
        for k in range(count):
            seal = Seal(shared)
            source = SOURCES[(first + k) % len(SOURCES)]
            try:
                await loop.create_connection(
                    lambda s=seal: s, "127.0.0.1", port, local_addr=(source, 0)
                )
            except OSError as error:
                queue.put(("error", f"connect {k}: {error}"))
            seals.append(seal)
            due = started + (k + 1) / ramp
            if (delay := due - time.monotonic()) > 0:
                await asyncio.sleep(delay)
        queue.put(("connected", shared["connected"]))
        begin = queue_get_go(args["go_queue"])  # one monotonic start for every generator
        encoder = ENCODERS["jt808"]
        spacing = args["interval"] / count  # report r is seal r % count's, at begin + r·spacing
        end = begin + args["duration"]
        sent = 0
        next_tick = begin + 1.0
        while (now := time.monotonic()) < end:
            while begin + sent * spacing <= now:
                k = sent % count
                seal = seals[k]
                if seal.transport is not None:
                    device = seal_id(first + k)
                    position = Position(
                        device_id=device,
                        time=datetime.now(UTC).replace(microsecond=0),
                        latitude=-3.39 + (k % 100) / 10_000,
                        longitude=38.55,
                        speed_kmh=55.0,
                        course=300.0,
                        satellites=9,
                        valid=True,
                        attributes={"battery_level": 80},
                    )
                    seal.sent.append(begin + sent * spacing)
                    seal.transport.write(encoder.report(device, [position], sent // count + 1))
                sent += 1
            if now >= next_tick:
                next_tick += 1.0
                tick = (now, shared["acked"], shared["connected"], list(shared["latencies"]))
                queue.put(("tick", tick))
                shared["latencies"].clear()
            await asyncio.sleep(0.005)
        queue.put(("done", shared["lost"]))
        for seal in seals:
            if seal.transport is not None:
                seal.transport.close()

    import uvloop

    uvloop.run(main())


def queue_get_go(queue: Any) -> float:
    value: float = queue.get()
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seals", type=int, default=50_000)
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between reports")
    parser.add_argument("--steady", type=float, default=60.0, help="seconds measured")
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--transits", type=int, default=2000, help="seals on armed transits")
    parser.add_argument(
        "--generators", type=int, help="load generator processes (default: one per 15,000)"
    )
    parser.add_argument(
        "--workers", type=int, help="listener processes (default: one per 15,000 seals)"
    )
    parser.add_argument("--ramp-per-s", type=float, default=4000, help="new connections a second")
    args = parser.parse_args()
    # A process may hold as many sockets as its open-file limit. Where the hard limit cannot be
    # raised (a container without CAP_SYS_RESOURCE), the seals are spread over several listener
    # workers (sharing the port, SO_REUSEPORT) and several generators.
    limit = raise_open_files(args.seals * 2 + 10_000)
    share = max(1, limit - 3000)
    args.workers = args.workers or -(-args.seals // min(share, 15_000))
    args.generators = args.generators or -(-args.seals // min(share, 15_000))
    print(f"machine: {machine()}")
    print(
        "settings: "
        + ", ".join(f"{k}={v}" for k, v in vars(args).items())
        + f", open_file_limit={limit}, date={datetime.now(UTC):%Y-%m-%d}"
    )
    folder = temporary_folder("smartcustoms-bench-seals-")
    env = prepare(folder, [seal_id(n) for n in range(args.transits)])
    ctx = multiprocessing.get_context("spawn")
    spec = f"jt808:tcp:{free_port()}"
    with running_listener(env, [spec], folder, workers=args.workers) as (listener, ports):
        port = ports[spec]
        queue = ctx.Queue()
        go_queue = ctx.Queue()
        per = args.seals // args.generators
        settings = {
            "interval": args.interval,
            "duration": args.steady + args.interval,
            "ramp_per_s": args.ramp_per_s,
            "generators": args.generators,
            "go_queue": go_queue,
        }
        processes = [
            ctx.Process(
                target=generator,
                args=(
                    g * per,
                    per if g < args.generators - 1 else args.seals - g * per,
                    port,
                    settings,
                    queue,
                ),
            )
            for g in range(args.generators)
        ]
        ramp_started = time.monotonic()
        for p in processes:
            p.start()
        connected = 0
        reported = 0
        while reported < args.generators:
            kind, value = queue.get(timeout=600)
            if kind == "connected":
                connected += value
                reported += 1
            elif kind == "error":
                print("generator:", value)
        ramp_s = time.monotonic() - ramp_started
        print(f"{connected:,} seals connected in {ramp_s:.1f} s")
        begin = time.monotonic() + 1.0
        for _ in processes:
            go_queue.put(begin)
        ticks: list[tuple[float, int, int, list[float]]] = []
        done = 0
        lost = 0
        while done < args.generators:
            kind, value = queue.get(timeout=args.steady + args.interval + 120)
            if kind == "tick":
                ticks.append(value)
            elif kind == "done":
                done += 1
                lost += value
        cpu = _cpu_seconds(listener.pid)
        rss = peak_rss_mb(listener.pid)
        for p in processes:
            p.join(60)
    # Skip the first interval: seals ramp into their phases. Then cut the rest in windows.
    start = begin + args.interval
    length = args.steady / args.windows
    rates: list[float] = []
    p50s: list[float] = []
    p99s: list[float] = []
    maxes: list[float] = []
    for w in range(args.windows):
        lo, hi = start + w * length, start + (w + 1) * length
        latencies: list[float] = []
        for at, _acked, _connected, lat in ticks:
            if lo <= at < hi:
                latencies.extend(lat)
        rates.append(len(latencies) / length)
        if latencies:
            latencies.sort()
            p50s.append(latencies[len(latencies) // 2] * 1000)
            p99s.append(latencies[int(len(latencies) * 0.99)] * 1000)
            maxes.append(latencies[-1] * 1000)
    expected = args.seals / args.interval
    print(f"expected reports/s: {expected:,.0f}")
    print(f"positions/s stored and acknowledged: {Figures(rates)}")
    print(f"answer latency p50, ms: {Figures(p50s)}")
    print(f"answer latency p99, ms: {Figures(p99s)}")
    print(f"answer latency max, ms: {Figures(maxes)}")
    print(f"connections lost during the run: {lost}")
    print(f"listener peak RSS, MiB: {rss:,.0f}; listener CPU over the run: {cpu:,.1f} s")


def _cpu_seconds(pid: int) -> float:
    total = 0.0
    for member in family(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / 100  # utime + stime, clock ticks
    return total


if __name__ == "__main__":
    main()
