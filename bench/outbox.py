"""Benchmark of webhook delivery from the outbox: lane decisions → signed webhooks → a receiver.

    .venv/bin/python bench/outbox.py                          # SQLite in a temporary folder
    .venv/bin/python bench/outbox.py --seconds 10 --rate 2500
    .venv/bin/python bench/outbox.py --database-url postgresql+psycopg://postgres@127.0.0.1/db

Everything runs in this one run, on this machine, against the same local receiver (a separate
process: a minimal asyncio HTTP/1.1 server that answers 204 with keep-alive, notes the arrival
time, subject and ``webhook-id`` of each message, and checks the Standard Webhooks signature of
one message in 50 with the ``standardwebhooks`` package). It prints:

1. a raw HTTP POST loop: ``--concurrency`` threads posting a body of the same size through
   ``http.client`` keep-alive connections, as fast as they can — the ceiling for HTTP alone;
2. before/after, in ``--rounds`` interleaved rounds (the load of a shared machine drifts),
   medians printed with their ratio: the ledger's own durable append rate
   (``Ledger.append_many``, as ``bench/ledger_append.py``), and lodging's — decisions committed
   closed-loop by ``--writers`` threads through units of work (each ``risk.lane_assigned``
   event queued in the ledger outbox, and after, its delivery row, in the same transaction)
   then stored by the sequencer. *Before* is a database with no webhooks; *after* one with a
   subscription to the receiver and the deliverer sending, on the same CPUs, what lodging
   queues (SQLite only: two databases side by side);
3. the open loop: decisions committed at ``--rate`` per second (batches of ``--batch``, like a
   lodging request) for ``--seconds`` with the deliverer running; deliveries/s while they
   were produced and the decision → delivery latency (p50/p99/max, from the event's timestamp
   to its arrival at the receiver), duplicates, signatures checked.

"Decisions" here are the ledger/outbox part of lodging — the lane event committed in a unit of
work — not the risk model's scoring, which ``bench/risk_api.py`` measures.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from smartcustoms.core.context import AppContext
from smartcustoms.core.schema import upgrade
from smartcustoms.core.settings import load_settings
from smartcustoms.interop.webhooks import subscriptions
from smartcustoms.interop.webhooks.catalogue import EVENT_TYPES
from smartcustoms.interop.webhooks.service import attach_webhooks
from smartcustoms.interop.webhooks.tables import WebhookDelivery
from smartcustoms.ledger.service import attach_ledger
from smartcustoms.risk.events import LaneAssigned

# -- the receiver (its own process) ------------------------------------------------------------


def _receiver(port_out: Connection, control: Connection, secret_in: Connection) -> None:
    from standardwebhooks import Webhook

    seen: list[tuple[float, str, str, str]] = []  # arrival, subject, event timestamp, id
    state: dict[str, Any] = {"verifier": None, "checked": 0, "bad": 0, "n": 0}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                now = time.time()
                if "webhook-id" in headers:
                    state["n"] += 1
                    if state["verifier"] is None and secret_in.poll():
                        state["verifier"] = Webhook(secret_in.recv())
                    if state["verifier"] is not None and state["n"] % 50 == 0:
                        try:
                            state["verifier"].verify(body, headers)
                            state["checked"] += 1
                        except Exception:
                            state["bad"] += 1
                    doc = json.loads(body)
                    seen.append((now, doc["subject"], doc["timestamp"], headers["webhook-id"]))
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=512)
        port_out.send(server.sockets[0].getsockname()[1])
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, control.recv)
            if command == "take":
                control.send((list(seen), state["checked"], state["bad"]))
                seen.clear()
            elif command == "stop":
                server.close()
                return

    asyncio.run(main())


# -- helpers -----------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def decision(n: int) -> LaneAssigned:
    return LaneAssigned(
        actor="cms",
        declaration_id=n,
        document_sha256=f"{n:064x}",
        lane="red" if n % 7 == 0 else "green",
        score=f"0.{n * 7919 % 10000:04d}",
        threshold="0.5",
        model_version="bench",
        rules=("unit value below reference",) if n % 7 == 0 else (),
        random_control=False,
        exploration=False,
    )


class Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.n = 0

    def take(self, k: int) -> int:
        with self.lock:
            start, self.n = self.n, self.n + k
            return start


def commit_batch(ctx: AppContext, ids: range) -> None:
    with ctx.unit() as unit:
        for n in ids:
            unit.emit(decision(n))


def raw_post_loop(port: int, body: bytes, threads: int, seconds: float) -> float:
    stop = time.monotonic() + seconds
    counts = [0] * threads

    def run(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop:
            conn.request("POST", "/raw", body=body, headers={"content-type": "application/json"})
            conn.getresponse().read()
            counts[i] += 1
        conn.close()

    started = time.monotonic()
    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return sum(counts) / (time.monotonic() - started)


def lodging_rate(ctx: AppContext, ids: Counter, writers: int, batch: int, seconds: float) -> float:
    """Decisions committed closed-loop by ``writers`` threads (each with its ledger record and,
    when subscribed, its delivery row, in one transaction), then stored by the sequencer:
    records stored per second."""
    ledger = attach_ledger(ctx)
    ledger.flush()
    before = ledger.size()
    stop = time.monotonic() + seconds
    started = time.monotonic()

    def run() -> None:
        while time.monotonic() < stop:
            first = ids.take(batch)
            commit_batch(ctx, range(first, first + batch))

    workers = [threading.Thread(target=run) for _ in range(writers)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    ledger.flush(timeout=120)
    return (ledger.size() - before) / (time.monotonic() - started)


def pending(ctx: AppContext) -> int:
    with ctx.db.engine.connect() as conn:
        query = select(func.count()).where(WebhookDelivery.status == "pending")
        return int(conn.execute(query).scalar() or 0)


def ledger_rate(ctx: AppContext, batch: int, seconds: float) -> float:
    """The ledger's own durable append rate (``Ledger.append_many``, closed loop, records
    shaped like a decision), as ``bench/ledger_append.py`` measures it: records/s."""
    ledger = attach_ledger(ctx)
    records = [dict(decision(n).as_record(), v=1) for n in range(batch)]
    stop = time.monotonic() + seconds
    started = time.monotonic()
    n = 0
    while time.monotonic() < stop:
        ledger.append_many(records)
        n += len(records)
    return n / (time.monotonic() - started)


# -- the run -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: SQLite in a temporary folder")
    parser.add_argument("--seconds", type=float, default=10.0, help="open-loop duration")
    parser.add_argument("--rate", type=float, default=2500.0, help="decisions per second")
    parser.add_argument("--batch", type=int, default=50, help="decisions per transaction")
    parser.add_argument("--concurrency", type=int, default=16, help="webhook_concurrency")
    parser.add_argument("--writers", type=int, default=4, help="closed-loop lodging threads")
    parser.add_argument("--ledger-seconds", type=float, default=5.0)
    parser.add_argument("--raw-seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved before/after rounds")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    url = args.database_url or f"sqlite:///{tmp / 'bench.db'}"
    settings = load_settings(
        None,
        data_dir=tmp / "data",
        database_url=url,
        secret_key="bench-" + "x" * 40,
        webhook_concurrency=args.concurrency,
    )
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
        f"database {url.split('@')[-1]}"
    )

    mpctx = mp.get_context("spawn")
    port_in, port_out = mpctx.Pipe(duplex=False)
    control_here, control_there = mpctx.Pipe()
    secret_there, secret_here = mpctx.Pipe(duplex=False)
    receiver = mpctx.Process(target=_receiver, args=(port_out, control_there, secret_there))
    receiver.start()
    port = port_in.recv()
    sample = json.dumps({"type": "declaration.lane_decided", "data": decision(1).as_record()})

    # 1. raw HTTP POST loop
    raw_many = raw_post_loop(port, sample.encode(), args.concurrency, args.raw_seconds)
    raw_one = raw_post_loop(port, sample.encode(), 1, args.raw_seconds)
    print(
        f"raw HTTP POST loop: {raw_many:,.0f} req/s ({args.concurrency} threads), "
        f"{raw_one:,.0f} req/s (1 thread)"
    )

    plain = AppContext.from_settings(settings)  # "before": no webhooks at all
    upgrade(plain.db)
    other = settings.model_copy(
        update={"database_url": f"sqlite:///{tmp / 'hooks.db'}", "data_dir": tmp / "data-hooks"}
        if not args.database_url
        else {}
    )
    ctx = plain if args.database_url else AppContext.from_settings(other)
    if ctx is not plain:
        upgrade(ctx.db)
    ids = Counter()
    try:
        hooks = attach_webhooks(ctx)
        with ctx.unit() as unit:
            new = subscriptions.create_subscription(
                unit,
                hooks.sealer,
                url=f"http://127.0.0.1:{port}/hooks",
                event_types=list(EVENT_TYPES),
                actor="bench",
            )
        secret_here.send(new.secret)

        # 2. before/after, interleaved (the machine's load drifts): the ledger's own append
        # rate, and lodging's (decisions with their ledger record and delivery row)
        rounds: dict[str, list[float]] = {k: [] for k in ("lb", "la", "db", "da")}
        for _ in range(args.rounds):
            if ctx is not plain:
                rounds["lb"].append(ledger_rate(plain, 100, args.ledger_seconds))
                rounds["db"].append(
                    lodging_rate(plain, ids, args.writers, args.batch, args.ledger_seconds)
                )
            rounds["la"].append(ledger_rate(ctx, 100, args.ledger_seconds))
            rounds["da"].append(
                lodging_rate(ctx, ids, args.writers, args.batch, args.ledger_seconds)
            )
            while pending(ctx):
                time.sleep(0.1)
        control_here.send("take")
        control_here.recv()  # forget these deliveries: the open loop is measured on its own

        # 3. open loop with the deliverer running
        first_id = ids.take(0)
        interval = args.batch / args.rate
        total = int(args.rate * args.seconds)
        started = time.monotonic()
        next_at = started
        made = 0
        while made < total:
            now = time.monotonic()
            if now < next_at:
                time.sleep(next_at - now)
            k = min(args.batch, total - made)
            start = ids.take(k)
            commit_batch(ctx, range(start, start + k))
            made += k
            next_at += interval
        produced_for = time.monotonic() - started
        produced_until = time.time()
        deadline = time.monotonic() + 120
        arrivals: list[tuple[float, str, str, str]] = []
        checked = bad = 0
        while time.monotonic() < deadline:
            control_here.send("take")
            got, c, b = control_here.recv()
            arrivals += [a for a in got if int(a[1].split(":")[1]) >= first_id]
            checked, bad = c, b
            if len({a[3] for a in arrivals}) >= total:
                break
            time.sleep(0.2)
        drained_for = time.monotonic() - started
        lat = [a[0] - datetime.fromisoformat(a[2]).timestamp() for a in arrivals]
        in_window = sum(1 for a in arrivals if a[0] <= produced_until)
        unique = len({a[3] for a in arrivals})
        print(
            f"open loop: {total:,} decisions at {total / produced_for:,.0f}/s for "
            f"{produced_for:.1f} s (batches of {args.batch})"
        )
        print(
            f"  deliveries/s while producing: {in_window / produced_for:,.0f}; "
            f"all {unique:,} delivered after {drained_for:.1f} s; "
            f"duplicates {len(arrivals) - unique}"
        )
        print(
            f"  decision -> delivery latency: p50 {pct(lat, 0.5) * 1000:.0f} ms, "
            f"p99 {pct(lat, 0.99) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms"
        )
        print(f"  signatures checked by standardwebhooks: {checked} ok, {bad} bad")
        print(f"  raw HTTP POST loop at {args.concurrency} threads: {raw_many:,.0f} req/s")

        # 4. the ratios
        if rounds["lb"]:
            med = {k: statistics.median(v) for k, v in rounds.items()}
            print(
                f"ledger append rate, median of {args.rounds} interleaved rounds: before (no "
                f"webhooks) {med['lb']:,.0f} records/s, after (subscribed, deliverer "
                f"running) {med['la']:,.0f} records/s: ratio after/before "
                f"{med['la'] / med['lb']:.2f}"
            )
            print(
                f"lodging ({args.writers} writers, batches of {args.batch}), stored: before "
                f"{med['db']:,.0f} decisions/s, after {med['da']:,.0f} decisions/s with "
                f"each one's delivery queued and sent on the same CPUs: ratio "
                f"{med['da'] / med['db']:.2f}"
            )
    finally:
        ctx.close()
        if plain is not ctx:
            plain.close()
        control_here.send("stop")
        receiver.join(10)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
