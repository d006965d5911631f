"""Several processes on one PostgreSQL and one MQTT broker: 1 and 2 web workers, 1 and 2
listener processes, and a correctness check with 2 + 2 at once.

Set-up: a throwaway-emptied PostgreSQL database (``--postgres-url``; every table is emptied)
with the packaged corridors, an armed transit per seal, ``--history`` KCS declarations with
their outcomes, a model trained on them and active, and a declarant's API token.

* **web workers**: ``smartcustoms serve --workers W`` (W = 1, 2; device listeners off). Closed
  loop: ``--clients`` clients lodge declarations of 10 items back to back for ``--seconds``;
  then the same clients ``GET /health`` (the baseline: HTTP and routing only, measured in the
  same run). Throughput and p99 of each, and the 2-worker / 1-worker ratios.
* **listener processes**: ``smartcustoms tracking listen --workers M --mqtt …`` (M = 1, 2;
  no TCP listeners), subscribed to the broker with a shared subscription. ``--positions``
  positions, prepared beforehand as JSON messages of ``--batch`` records each, are published
  with QoS 1 as fast as the listeners store them (at most 400 messages ahead: a broker drops
  QoS 1 messages beyond its queue per subscriber, 1,000 by default in Mosquitto); end-to-end
  throughput is the positions stored (committed, rules run) per second from the first publish
  to the last row, and listener CPU per position is measured from ``/proc``. Ratios 2 / 1.
* **check** (``--check``): 2 web workers and 2 listener processes at once. Lodging through the
  web while the seals report through MQTT, each of ``--opened`` seals reporting "opened" twice
  in different messages. Then: every position stored once (none lost, none twice); exactly one
  seal-opened alert per opened seal, counting both reports, and no other seal alerted; every
  acknowledged lodging stored; each alert and each lane decision in the ledger exactly once;
  ``ledger fsck`` (one sequence: no gap, no fork). Exit 1 on any failure; ``--json`` prints the
  figures and findings as one object.

    .venv/bin/python bench/scale.py [--postgres-url URL] [--mqtt mqtt://127.0.0.1:1883]
        [--seconds 8] [--clients 16] [--positions 60000] [--batch 50] [--history 3000]
        [--check] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx2
import paho.mqtt.client as paho
import risk_api
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select
from tracking_common import cpu_seconds, family, free_port, machine, temporary_folder
from tracking_common import prepare as prepare_tracking

from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import load_settings
from smartcustoms.ledger.fsck import fsck
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.risk.tables import LaneDecisionRow
from smartcustoms.tracking.mqtt_scheme import positions_topic
from smartcustoms.tracking.tables import AlertRow, PositionRow, TransitRow

SEALS = 40
#: Messages published and not yet stored, at most: well under the broker's queue per subscriber.
MAX_BACKLOG_MESSAGES = 400
OPENED_ALERT = "seal_opened"


# -- set-up ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Setup:
    folder: Path
    env: dict[str, str]  # the processes' environment (database, data folder)
    token: str  # the declarant's
    next_time: datetime  # where the next ingest's device times start (after the last one's)

    def context(self) -> AppContext:
        return AppContext.from_settings(
            load_settings(
                None,
                data_dir=self.folder,
                database_url=self.env["SMARTCUSTOMS_DATABASE_URL"],
                secret_key=self.env["SMARTCUSTOMS_SECRET_KEY"],
            )
        )


def seal(n: int) -> str:
    return f"SCL{n:05d}"


def prepare(postgres_url: str, mqtt_url: str, history: int) -> Setup:
    folder = temporary_folder("smartcustoms-scale-")
    env = prepare_tracking(folder, [seal(n) for n in range(SEALS)], database_url=postgres_url)
    token = risk_api.prepare(folder, history, env["SMARTCUSTOMS_DATABASE_URL"])
    env.update(
        SMARTCUSTOMS_TRACKING_MQTT_URL=mqtt_url,
        SMARTCUSTOMS_TRACKING_LISTENERS="[]",
        SMARTCUSTOMS_TRACKING_LISTEN="false",
    )
    return Setup(folder, env, token, datetime.now(UTC).replace(microsecond=0))


# -- processes ---------------------------------------------------------------------------------


@contextlib.contextmanager
def process(
    setup: Setup,
    args: list[str],
    name: str,
    ready: Callable[[], bool],
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """``smartcustoms ARGS`` in its own process group, waited for until ``ready()``, stopped
    with SIGTERM (then SIGKILL) at the end."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SMARTCUSTOMS_")}
    environment.update(setup.env)
    environment.update(env or {})
    log = setup.folder / f"{name}.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "smartcustoms", *args],
            env=environment, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} stopped; see {log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} not ready in {timeout:g} s; see {log}")
            time.sleep(0.1)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextlib.contextmanager
def web(setup: Setup, workers: int) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        with contextlib.suppress(httpx2.TransportError):
            return httpx2.get(base + "/health", timeout=1).status_code == 200
        return False

    with process(setup, ["serve", "--port", str(port), "--workers", str(workers)], "web", up):
        yield base


@contextlib.contextmanager
def listeners(setup: Setup, workers: int, prefix: str) -> Iterator[subprocess.Popen[bytes]]:
    """``workers`` listener processes on topics under ``prefix``, in a share group of their
    own: a stopped listener's persistent session stays in its group at the broker and is given
    its share of new messages, queued until a client of its ID comes back (Mosquitto), so the
    runs must not share a group."""
    log = setup.folder / "listen.log"
    start = log.stat().st_size if log.exists() else 0

    def subscribed() -> bool:
        """Each worker logs its subscription (INFO); a message published to a shared
        subscription that nobody holds yet would be dropped by the broker."""
        with log.open("rb") as text:
            text.seek(start)
            return text.read().count(b"connected, subscribing to") >= workers

    args = ["tracking", "listen", "--workers", str(workers)]
    env = {
        "SMARTCUSTOMS_LOG_LEVEL": "INFO",
        "SMARTCUSTOMS_TRACKING_MQTT_TOPIC_PREFIX": prefix,
        "SMARTCUSTOMS_TRACKING_MQTT_SHARE_GROUP": prefix,
    }
    with process(setup, args, "listen", subscribed, env=env) as proc:
        time.sleep(0.5)  # the SUBACK follows the log line
        yield proc


# -- web workers -------------------------------------------------------------------------------


@dataclasses.dataclass
class Loop:
    latencies: list[float] = dataclasses.field(default_factory=list)  # ms, 2xx only
    errors: Counter[str] = dataclasses.field(default_factory=Counter)
    acknowledged: dict[int, str] = dataclasses.field(default_factory=dict)  # lodgings: id → lane
    seconds: float = 0.0

    @property
    def per_s(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0


async def closed_loop(
    base: str, clients: int, seconds: float, make: Callable[[], tuple[str, str, Any]], token: str
) -> Loop:
    """``clients`` clients, each sending its next request when the last is answered."""
    loop = Loop()
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx2.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx2.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        started = time.perf_counter()
        until = started + seconds

        async def one() -> None:
            while time.perf_counter() < until:
                method, path, body = make()
                sent = time.perf_counter()
                try:
                    r = await client.request(method, path, json=body, headers=headers)
                except httpx2.HTTPError as exc:
                    loop.errors[risk_api.error_kind(exc)] += 1
                    continue
                if r.status_code >= 400:
                    loop.errors[str(r.status_code)] += 1
                    continue
                loop.latencies.append((time.perf_counter() - sent) * 1000)
                if method == "POST":
                    answer = r.json()
                    loop.acknowledged[int(answer["id"])] = str(answer["lane"])

        await asyncio.gather(*(one() for _ in range(clients)))
        loop.seconds = time.perf_counter() - started
    return loop


class Bodies:
    """Declarations to lodge, made ahead so that the client costs little."""

    def __init__(self, count: int) -> None:
        self.items = risk_api.declarations(count)
        self.next = 0

    def __call__(self) -> tuple[str, str, Any]:
        body = self.items[self.next % len(self.items)]
        if self.next >= len(self.items):  # a second round: a new reference each time
            body = {**body, "lrn": f"{body['lrn']}-{self.next}"}
        self.next += 1
        return "POST", "/api/declarations", body


def measure_web(setup: Setup, args: argparse.Namespace, bodies: Bodies) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for workers in (1, 2):
        with web(setup, workers) as base:
            asyncio.run(closed_loop(base, args.clients, 2.0, bodies, setup.token))  # warm-up
            lodging = asyncio.run(
                closed_loop(base, args.clients, args.seconds, bodies, setup.token)
            )
            health = asyncio.run(
                closed_loop(
                    base, args.clients, args.seconds, lambda: ("GET", "/health", None), setup.token
                )
            )
        out[f"web_{workers}"] = {
            "lodgings_per_s": round(lodging.per_s, 1),
            "lodging_p99_ms": round(lodging.p99(), 1),
            "lodging_errors": dict(lodging.errors),
            "health_per_s": round(health.per_s, 1),
            "health_p99_ms": round(health.p99(), 1),
        }
        if not args.json:
            w = out[f"web_{workers}"]
            print(
                f"  {workers} web worker(s): {w['lodgings_per_s']:.1f} lodgings/s, p99 "
                f"{w['lodging_p99_ms']:.1f} ms ({lodging.errors.total()} errors); baseline "
                f"GET /health {w['health_per_s']:.0f}/s, p99 {w['health_p99_ms']:.1f} ms",
                flush=True,
            )
    return out


# -- listener processes ------------------------------------------------------------------------


class Publisher:
    """One MQTT client publishing prepared messages with QoS 1."""

    def __init__(self, mqtt_url: str) -> None:
        where = urlsplit(mqtt_url)
        self.client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"scale-pub-{secrets.token_hex(4)}",
            protocol=paho.MQTTv5,
        )
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        self.client.connect(where.hostname or "127.0.0.1", where.port or 1883)
        self.client.loop_start()

    def publish_all(
        self, messages: list[tuple[str, bytes]], backlog: Callable[[int], bool], chunk: int = 50
    ) -> None:
        """Publish ``messages`` ``chunk`` at a time, each chunk once ``backlog(sent)`` says the
        listeners have caught up enough: a broker keeps a bounded queue per subscriber
        (Mosquitto's ``max_queued_messages``, 1,000 by default) and drops QoS 1 messages beyond
        it, so a burst faster than the listeners store would measure the broker's limit."""
        for start in range(0, len(messages), chunk):
            while not backlog(start):
                time.sleep(0.005)
            infos = [
                self.client.publish(topic, payload, qos=1)
                for topic, payload in messages[start : start + chunk]
            ]
            for info in infos:
                info.wait_for_publish(120)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def messages(
    prefix: str, start: datetime, total: int, batch: int, opened: int
) -> list[tuple[str, bytes]]:
    """``total`` positions over the seals, ``batch`` per message, one a second per seal from
    ``start``, on the northern corridor near Mombasa; seals 0 … opened-1 report "opened" twice,
    in two messages."""
    per_seal: dict[int, list[dict[str, Any]]] = {n: [] for n in range(SEALS)}
    for i in range(total):
        n = i % SEALS
        k = len(per_seal[n])
        record: dict[str, Any] = {
            "time": int((start + timedelta(seconds=k)).timestamp() * 1000),
            "latitude": -3.39 + (n % 100) / 10_000,
            "longitude": 38.55,
            "speed_kmh": 55.0,
            "course": 300,
            "satellites": 9,
        }
        per_seal[n].append(record)
    for n in range(opened):  # in the first and the last message of the seal
        for k in (0, len(per_seal[n]) - 1):
            per_seal[n][k]["events"] = ["opened"]
            per_seal[n][k]["speed_kmh"] = 0.0
    out = []
    for chunk in range(0, max(len(v) for v in per_seal.values()), batch):
        for n in range(SEALS):
            records = per_seal[n][chunk : chunk + batch]
            if records:
                out.append((positions_topic(prefix, seal(n)), json.dumps(records).encode()))
    return out


def stored_positions(ctx: AppContext) -> int:
    with ctx.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(PositionRow)).scalar_one())


def ingest(setup: Setup, args: argparse.Namespace, workers: int, opened: int = 0) -> dict[str, Any]:
    """Publish ``--positions`` through ``workers`` listener processes; the figures."""
    # Device times from now on (the transits were armed at set-up, and a report from before its
    # transit was armed is not judged by its rules; clocks a day ahead are plausible), after
    # the last run's (the same times would be retransmissions, stored once).
    start = max(setup.next_time, datetime.now(UTC).replace(microsecond=0)) + timedelta(seconds=1)
    setup.next_time = start + timedelta(seconds=args.positions // SEALS + 1)
    prefix = f"scale{secrets.token_hex(4)}"
    msgs = messages(prefix, start, args.positions, args.batch, opened)
    ctx = setup.context()
    try:
        before = stored_positions(ctx)
        with listeners(setup, workers, prefix) as proc:
            pids = family(proc.pid)
            cpu0 = cpu_seconds(pids)
            publisher = Publisher(args.mqtt)
            started = time.perf_counter()
            try:
                sizes = [payload.count(b'"time"') for _, payload in msgs]
                sent_positions = [0]
                for size in sizes:
                    sent_positions.append(sent_positions[-1] + size)

                def caught_up(sent: int) -> bool:
                    waiting = sent_positions[sent] - (stored_positions(ctx) - before)
                    return waiting <= MAX_BACKLOG_MESSAGES * args.batch

                publisher.publish_all(msgs, caught_up)
                published = time.perf_counter() - started
                deadline = time.monotonic() + 300
                while stored_positions(ctx) - before < args.positions:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
                elapsed = time.perf_counter() - started
            finally:
                publisher.close()
            cpu = cpu_seconds(pids) - cpu0
            got = stored_positions(ctx) - before
    finally:
        ctx.close()
    return {
        "positions": args.positions,
        "stored": got,
        "positions_per_s": round(got / elapsed, 0),
        "publish_s": round(published, 2),
        "listener_cpu_us_per_position": round(cpu / max(got, 1) * 1e6, 1),
    }


def measure_listeners(setup: Setup, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for workers in (1, 2):
        figures = ingest(setup, args, workers)
        out[f"listeners_{workers}"] = figures
        if not args.json:
            print(
                f"  {workers} listener process(es): {figures['positions_per_s']:,.0f} positions/s "
                f"end to end ({figures['stored']:,} of {figures['positions']:,} stored), "
                f"{figures['listener_cpu_us_per_position']:.1f} µs listener CPU per position",
                flush=True,
            )
    return out


# -- the 2 + 2 check ---------------------------------------------------------------------------


def check(setup: Setup, args: argparse.Namespace, bodies: Bodies) -> dict[str, Any]:
    """2 web workers and 2 listener processes at once; what must hold afterwards."""
    findings: list[str] = []
    with web(setup, 2) as base:
        load: dict[str, Loop] = {}

        def lodge() -> None:
            load["lodging"] = asyncio.run(closed_loop(base, 8, args.seconds, bodies, setup.token))

        lodger = threading.Thread(target=lodge)
        lodger.start()
        figures = ingest(setup, args, 2, opened=args.opened)
        lodger.join()
    lodging = load["lodging"]
    ctx = setup.context()
    try:
        ledger = attach_ledger(ctx)
        ledger.flush(60)
        raised: Counter[int] = Counter()
        assigned: Counter[tuple[int, str]] = Counter()
        for index in range(ledger.size()):
            record = ledger.record(index)
            if record.get("type") == "tracking.alert_raised":
                raised[int(record["alert_id"])] += 1
            elif record.get("type") == "risk.lane_assigned":
                assigned[(int(record["declaration_id"]), str(record["lane"]))] += 1
        with ctx.db.engine.connect() as conn:
            twice = conn.execute(
                select(PositionRow.device_id, PositionRow.time, func.count())
                .group_by(PositionRow.device_id, PositionRow.time)
                .having(func.count() > 1)
            ).all()
            alerts = conn.execute(
                select(AlertRow.id, TransitRow.device_id, AlertRow.type, AlertRow.count).join(
                    TransitRow, TransitRow.id == AlertRow.transit_id
                )
            ).all()
            lanes = dict(
                conn.execute(select(LaneDecisionRow.declaration_id, LaneDecisionRow.lane)).all()
            )
        report = fsck(ctx.db, setup.folder, ctx.settings.ledger_origin)
    finally:
        ctx.close()
    if figures["stored"] != args.positions:
        findings.append(f"{figures['stored']} positions stored of {args.positions} published")
    if twice:
        findings.append(f"{len(twice)} positions stored more than once, e.g. {twice[:3]}")
    opened_seals = {seal(n) for n in range(args.opened)}
    per_seal: dict[str, list[tuple[int, int]]] = {}
    for alert_id, device, kind, count in alerts:
        if kind == OPENED_ALERT:
            per_seal.setdefault(device, []).append((alert_id, count))
    for device in sorted(opened_seals):
        found = per_seal.get(device, [])
        if len(found) != 1 or found[0][1] != 2:
            findings.append(f"seal {device}: seal-opened alerts (id, count) {found}, not one of 2")
    for device in sorted(set(per_seal) - opened_seals):
        findings.append(f"seal {device} never opened but has a seal-opened alert")
    for alert_id, *_ in alerts:
        if raised[alert_id] != 1:
            findings.append(f"alert {alert_id}: {raised[alert_id]} tracking.alert_raised records")
    for declaration_id, lane in lodging.acknowledged.items():
        if lanes.get(declaration_id) != lane:
            findings.append(f"declaration {declaration_id} acknowledged in lane {lane}, not stored")
        elif assigned[(declaration_id, lane)] != 1:
            findings.append(
                f"declaration {declaration_id}: {assigned[(declaration_id, lane)]} "
                "risk.lane_assigned records"
            )
    findings.extend(f"fsck: {p.message}" for p in report.problems)
    return {
        "lodgings_acknowledged": len(lodging.acknowledged),
        "lodging_errors": dict(lodging.errors),
        "positions_stored": figures["stored"],
        "alerts": len(alerts),
        "ledger_ok": not report.problems,
        "findings": findings,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("SMARTCUSTOMS_TEST_POSTGRES_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    )
    parser.add_argument("--mqtt", default="mqtt://127.0.0.1:1883")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--positions", type=int, default=60_000)
    parser.add_argument("--batch", type=int, default=50, help="positions per MQTT message")
    parser.add_argument("--history", type=int, default=3000, help="KCS rows the model learns")
    parser.add_argument("--opened", type=int, default=5, help="seals opened in --check")
    parser.add_argument("--check", action="store_true", help="only the 2 + 2 correctness check")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.json:
        print(f"machine: {machine()}")
    started = time.perf_counter()
    setup = prepare(args.postgres_url, args.mqtt, args.history)
    bodies = Bodies(2000)
    if not args.json:
        took = time.perf_counter() - started
        print(f"set-up: {args.history} KCS rows, model trained, in {took:.0f} s")
    if args.check:
        result = check(setup, args, bodies)
        if args.json:
            print(json.dumps(result))
        else:
            print(
                f"2 web workers + 2 listener processes: {result['lodgings_acknowledged']} "
                f"lodgings acknowledged, {result['positions_stored']:,} positions stored, "
                f"{result['alerts']} alerts; findings: {len(result['findings'])}"
            )
            for finding in result["findings"][:20]:
                print(f"  {finding}")
        return 1 if result["findings"] else 0
    if not args.json:
        print(
            f"PostgreSQL and Mosquitto; closed loop of {args.clients} clients, {args.seconds:g} s "
            f"per figure; {args.positions:,} positions in messages of {args.batch}"
        )
    figures = {**measure_web(setup, args, bodies), **measure_listeners(setup, args)}

    def ratio(a: float, b: float) -> float:
        return round(a / b, 2) if b else float("nan")

    figures["ratios"] = {
        "lodgings_2_over_1": ratio(
            figures["web_2"]["lodgings_per_s"], figures["web_1"]["lodgings_per_s"]
        ),
        "health_2_over_1": ratio(
            figures["web_2"]["health_per_s"], figures["web_1"]["health_per_s"]
        ),
        "positions_2_over_1": ratio(
            figures["listeners_2"]["positions_per_s"], figures["listeners_1"]["positions_per_s"]
        ),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        r = figures["ratios"]
        print(
            f"ratios 2 / 1: lodgings {r['lodgings_2_over_1']:.2f} (baseline GET /health "
            f"{r['health_2_over_1']:.2f}), positions {r['positions_2_over_1']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
