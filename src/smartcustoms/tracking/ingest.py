"""The ingest writer: one thread that makes positions durable, then lets the devices know.

Listeners (TCP, UDP, HTTP, MQTT) decode frames in their own threads and :meth:`Ingestor.submit`
the records with a callback. The writer thread takes everything queued as one batch (group
commit: while one transaction commits, the next batch gathers), and in one transaction

1. stores the positions, finding which were new (:func:`.store.insert_positions`);
2. runs the pipeline on them (:data:`.pipeline.PIPELINE`) inside a savepoint;
3. commits;

and only then calls each submission's callback with ``True``, which is when listeners send the
device its acknowledgement. On SQLite (WAL, ``synchronous=NORMAL``) a committed transaction
survives the process being killed at any moment; on PostgreSQL it survives a power cut too.

If the pipeline fails (a bug, a bad corridor) the savepoint is rolled back and the positions are
still committed and acknowledged: storing what devices send must not depend on the rules. If the
store itself fails, nothing is acknowledged (callbacks get ``False``; TCP listeners close the
connection) and the devices send again.

Events (alerts raised) are recorded in the ledger's outbox inside the same transaction as the
alerts (``bus.record``), so an alert never exists without its ledger record; after the commit
they are published to the other subscribers (the log, the live stream) from a thread of their
own, in order, so the devices' acknowledgements never wait for them.

Between batches the writer thread refreshes what it monitors (:meth:`.monitor.Monitor.refresh`),
runs the clock rules (signal lost, deadline) and prunes the live feed, so the pipeline's memory
is only ever touched by this thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.events import Event
from smartcustoms.tracking.feed import prune_feed
from smartcustoms.tracking.monitor import Monitor
from smartcustoms.tracking.pipeline import (
    call_stored_hooks,
    call_written_hooks,
    positions_stored,
    process,
    run_clock_rules,
)
from smartcustoms.tracking.records import Position, valid_device_id
from smartcustoms.tracking.rules import Report
from smartcustoms.tracking.store import CopyRows, Incoming, insert_positions, position_rows
from smartcustoms.tracking.tables import DeviceRow

__all__ = ["IngestStats", "IngestTiming", "Ingestor"]

log = logging.getLogger("smartcustoms.tracking")

Done = Callable[[bool], None]


@dataclass(frozen=True)
class IngestTiming:
    """How often the writer does its chores between batches."""

    refresh_s: float = 1.0  # pick up lifecycle changes and corridor imports
    sweep_s: float = 15.0  # clock rules
    prune_s: float = 60.0  # live feed retention
    devices_s: float = 5.0  # registered devices, when unknown ones are refused


@dataclass
class IngestStats:
    batches: int = 0
    records: int = 0  # submitted
    stored: int = 0  # new rows
    duplicates: int = 0  # retransmissions not stored again
    alerts: int = 0
    write_errors: int = 0
    pipeline_errors: int = 0
    refused: int = 0  # records from invalid device ids
    largest_batch: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(slots=True)
class _Submission:
    """One frame's records (``records``, one arrival and protocol) or any ``items``."""

    records: Sequence[Position]
    received_at: datetime | None
    protocol: str
    items: Sequence[Incoming] | None
    device_id: str
    done: Done | None
    loop: asyncio.AbstractEventLoop | None

    def __len__(self) -> int:
        return len(self.records) if self.items is None else len(self.items)

    def copy_rows(self, out: CopyRows) -> None:
        """Append this submission's rows to ``out`` (PostgreSQL's COPY text)."""
        if self.items is None:
            assert self.received_at is not None
            out.add(self.records, self.device_id, self.received_at, self.protocol)
            return
        for item in self.items:
            out.add((item.position,), self.device_id, item.received_at, item.protocol)

    def rows(self, text_times: bool) -> list[tuple[Any, ...]]:
        if self.items is None:
            assert self.received_at is not None
            return position_rows(
                self.records, self.device_id, self.received_at, self.protocol, text_times=text_times
            )
        rows = []
        for item in self.items:
            rows += position_rows(
                (item.position,),
                self.device_id,
                item.received_at,
                item.protocol,
                text_times=text_times,
            )
        return rows

    def reports(self) -> list[Report]:
        if self.items is None:
            received_at, protocol, device_id = self.received_at, self.protocol, self.device_id
            assert received_at is not None
            return [Report(p, device_id, received_at, protocol) for p in self.records]
        return [Report(i.position, self.device_id, i.received_at, i.protocol) for i in self.items]


@dataclass
class _Queue:
    items: list[_Submission] = field(default_factory=list)
    records: int = 0


class Ingestor:
    """See the module documentation. Start it, submit to it, stop it (which drains it)."""

    def __init__(
        self,
        ctx: AppContext,
        *,
        max_batch: int = 20_000,
        high_water: int = 100_000,
        live_interval_s: float = 2.0,
        feed_retention_minutes: int = 60,
        accept_unknown_devices: bool = True,
        timing: IngestTiming | None = None,
    ) -> None:
        self.ctx = ctx
        self.max_batch = max_batch
        self.high_water = high_water
        self.live_interval = timedelta(seconds=live_interval_s)
        self.feed_retention = timedelta(minutes=feed_retention_minutes)
        self.accept_unknown_devices = accept_unknown_devices
        self.timing = timing or IngestTiming()
        self.stats = IngestStats()
        self.monitor = Monitor()
        self._writer: Engine = ctx.db.engine.execution_options(sqlite_immediate=True)
        # SQLite stores times as text: rows are made with it (once per frame for the arrival).
        self._text_times = self._writer.dialect.name == "sqlite"
        # The writer thread's own connection, kept between batches: checking one out of the
        # pool (and pinging the server) for every batch cost more than some batches' rows.
        # Dropped after any failure, so the next transaction starts on a fresh one.
        self._conn: Connection | None = None
        self._cond = threading.Condition()
        self._queue = _Queue()
        self._pending = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._known_devices: frozenset[str] = frozenset()
        self._next: dict[str, float] = {}
        self._sweep_now = threading.Event()
        self._events: queue.Queue[list[Event] | dict[int, list[Report]] | None] = queue.Queue()
        self._publisher: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Load what is monitored, then start the writer thread."""
        with self._writer.connect() as conn:
            self.monitor.load(conn, clock.now())
            self._load_devices(conn)
        now = time.monotonic()
        self._next = {
            "refresh": now + self.timing.refresh_s,
            "sweep": now,
            "prune": now + self.timing.prune_s,
            "devices": now + self.timing.devices_s,
        }
        self._thread = threading.Thread(target=self._run, name="tracking-writer", daemon=True)
        self._thread.start()
        self._publisher = threading.Thread(
            target=self._publish_events, name="tracking-events", daemon=True
        )
        self._publisher.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Store and acknowledge everything submitted so far, then end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self._publisher is not None:
            self._events.put(None)
            self._publisher.join(timeout)
            self._publisher = None

    # -- submitting ----------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """Records submitted and not yet stored (listeners stop reading above high water)."""
        return self._pending

    @property
    def overloaded(self) -> bool:
        return self._pending >= self.high_water

    def allows(self, device_id: str) -> bool:
        """Whether records from ``device_id`` are taken (see ``accept_unknown_devices``)."""
        return self.accept_unknown_devices or device_id in self._known_devices

    def submit(
        self,
        items: Sequence[Incoming],
        device_id: str,
        done: Done | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """Queue ``items`` (all from ``device_id``); ``done(stored)`` follows the commit.

        With ``loop``, ``done`` runs in that event loop (one hop per batch and loop, however
        many submissions); without, in the writer thread.
        """
        self._enqueue(_Submission((), None, "", items, device_id, done, loop))

    def submit_records(
        self,
        records: Sequence[Position],
        received_at: datetime,
        protocol: str,
        device_id: str,
        done: Done | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """:meth:`submit` for the records of one frame, all received at ``received_at`` by
        ``protocol`` (what listeners have), without an :class:`Incoming` per record."""
        self._enqueue(_Submission(records, received_at, protocol, None, device_id, done, loop))

    def _enqueue(self, submission: _Submission) -> None:
        if not valid_device_id(submission.device_id):
            # The same rule as the API's: a device id that no transit could name is refused
            # here, before it can reach (and fail) a batch of other devices' positions.
            log.warning("refusing positions from an invalid device id %r", submission.device_id)
            self.stats.refused += len(submission)
            self._notify([submission], False)
            return
        count = len(submission)
        with self._cond:
            if self._stopping and self._thread is None:
                raise RuntimeError("the ingest writer is stopped")
            self._queue.items.append(submission)
            self._queue.records += count
            self._pending += count
            self._cond.notify()

    def sweep_soon(self) -> None:
        """Run the clock rules at the writer's next turn (tests, and after a clock change)."""
        self._sweep_now.set()
        with self._cond:
            self._cond.notify()

    # -- the writer thread ---------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                wait = self._seconds_to_chore()
                if not self._queue.items and not self._stopping and wait > 0:
                    self._cond.wait(wait)
                batch = self._take()
                stopping = self._stopping
            if batch:
                self._write(batch)
            self._chores()
            if stopping and not batch:
                with self._cond:
                    if not self._queue.items:
                        break
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def _take(self) -> list[_Submission]:
        """The queue's head, up to ``max_batch`` records (always at least one submission)."""
        items = self._queue.items
        count = cut = 0
        for sub in items:
            size = len(sub)
            if cut and count + size > self.max_batch:
                break
            count += size
            cut += 1
        taken = items[:cut]
        del items[:cut]
        self._queue.records -= count
        return taken

    def _write(self, batch: list[_Submission]) -> None:
        rows = 0
        for sub in batch:
            rows += len(sub)
        stored, events = self._store(batch)
        if stored:
            self._notify(batch, True)
            self._publish(events)
        elif len(batch) == 1:
            self._notify(batch, False)
        else:
            # One bad frame (a value the database refuses) must not fail the other devices'
            # writes: store each submission on its own, refusing only the one that fails.
            for sub in batch:
                ok, events = self._store([sub])
                self._notify([sub], ok)
                self._publish(events)
        self.stats.batches += 1
        self.stats.records += rows
        self.stats.largest_batch = max(self.stats.largest_batch, rows)
        with self._cond:
            self._pending -= rows

    def _store(self, batch: list[_Submission]) -> tuple[bool, list[Event]]:
        """Store ``batch`` and run the pipeline on it in one transaction; whether it committed,
        and the events to publish."""
        now = clock.now()
        rows: list[tuple[Any, ...]] | CopyRows
        if self._text_times:  # SQLite: row tuples, times as the text it stores
            rows = []
            for sub in batch:
                rows += sub.rows(True)
        else:  # PostgreSQL: COPY text, written as the rows are made
            rows = CopyRows()
            for sub in batch:
                sub.copy_rows(rows)
        events: list[Event] = []
        stored: dict[int, list[Report]] | None = None
        try:
            with self._begin() as conn:
                new = insert_positions(conn, rows)
                # In the storing transaction, outside the rules' savepoint (see the hook).
                call_written_hooks(
                    self.ctx.services, conn, {s.device_id for s in batch}, self._new_of(batch, new)
                )
                reports = self._reports(batch, new)
                if reports:
                    try:
                        with conn.begin_nested():
                            result = process(
                                conn, self.monitor, reports, now, live_interval=self.live_interval
                            )
                            # The alerts' ledger records commit with the alerts (outbox).
                            self.ctx.bus.record(conn, result.events)
                        events = result.events
                        stored = positions_stored(result)
                        self.stats.alerts += result.alerts_raised
                    except Exception:
                        self.stats.pipeline_errors += 1
                        log.exception("tracking pipeline failed; positions stored without rules")
                        self.monitor.loaded = False
        except Exception:
            self._drop_connection()
            self.stats.write_errors += 1
            devices = sorted({sub.device_id for sub in batch})[:5]
            log.exception(
                "storing %d positions (devices %s) failed; not acknowledged", len(rows), devices
            )
            self.monitor.loaded = False
            return False, []
        fresh = sum(new)
        self.stats.stored += fresh
        self.stats.duplicates += len(rows) - fresh
        if stored is not None:
            self._events.put(stored)  # committed: the hooks run on the publishing thread
        return True, events

    @staticmethod
    def _new_of(batch: list[_Submission], new: list[bool]) -> Callable[[str], list[Report]]:
        """One device's new records in ``batch`` (for the positions-written hooks)."""

        def of(device_id: str) -> list[Report]:
            found: list[Report] = []
            at = 0
            for sub in batch:
                size = len(sub)
                if sub.device_id == device_id:
                    flags = new[at : at + size]
                    found += [r for r, n in zip(sub.reports(), flags, strict=True) if n]
                at += size
            return found

        return of

    def _reports(self, batch: list[_Submission], new: list[bool]) -> list[Report]:
        """What the pipeline sees: the new records of devices on a monitored transit (the
        pipeline's first two steps would drop the others)."""
        monitored = self.monitor.by_device
        reports: list[Report] = []
        at = 0
        for sub in batch:
            size = len(sub)
            if sub.device_id in monitored:
                flags = new[at : at + size]
                if all(flags):
                    reports += sub.reports()
                else:
                    reports += [r for r, n in zip(sub.reports(), flags, strict=True) if n]
            at += size
        return reports

    def _notify(self, batch: list[_Submission], stored: bool) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[Done]] = defaultdict(list)
        for sub in batch:
            if sub.done is None:
                continue
            if sub.loop is None:
                self._call(sub.done, stored)
            else:
                by_loop[sub.loop].append(sub.done)
        for loop, callbacks in by_loop.items():
            # A closed loop raises RuntimeError: its connections are gone anyway.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_run_all, callbacks, stored)

    @staticmethod
    def _call(done: Done, stored: bool) -> None:
        try:
            done(stored)
        except Exception:
            log.exception("an acknowledgement callback failed")

    def _publish(self, events: list[Event]) -> None:
        if events:
            self._events.put(events)

    def _publish_events(self) -> None:
        # One batch's events together, after their commit (the ledger already has them); and
        # the positions-stored hooks, in the same order as the batches.
        while (item := self._events.get()) is not None:
            if isinstance(item, dict):
                call_stored_hooks(item)
                continue
            try:
                self.ctx.bus.publish_all(item)
            except Exception:
                log.exception("publishing %d tracking events failed", len(item))

    # -- chores --------------------------------------------------------------------------------

    def _seconds_to_chore(self) -> float:
        if self._sweep_now.is_set():
            return 0.0
        return max(0.0, min(self._next.values()) - time.monotonic())

    def _chores(self) -> None:
        now_m = time.monotonic()
        due = {name for name, at in self._next.items() if at <= now_m}
        if self._sweep_now.is_set():
            self._sweep_now.clear()
            due |= {"refresh", "sweep"}
        if not due:
            return
        try:
            with self._begin() as conn:
                now = clock.now()
                if "refresh" in due or not self.monitor.loaded:
                    self.monitor.refresh(conn, now)
                if "devices" in due:
                    self._load_devices(conn)
                if "sweep" in due:
                    result = run_clock_rules(conn, self.monitor, now)
                    self.ctx.bus.record(conn, result.events)
                    self.stats.alerts += result.alerts_raised
                    events = result.events
                else:
                    events = []
                if "prune" in due:
                    prune_feed(conn, now - self.feed_retention)
            self._publish(events)
        except Exception:
            self._drop_connection()
            log.exception("tracking housekeeping failed; retrying")
            self.monitor.loaded = False
        for name in due:
            self._next[name] = now_m + getattr(self.timing, f"{name}_s")

    @contextlib.contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A transaction on the writer thread's connection (see ``_conn``)."""
        if self._conn is None or self._conn.closed:
            self._conn = self._writer.connect()
        with self._conn.begin():
            yield self._conn

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()  # its state after a failure is unknown: not back to the pool
                conn.close()

    def _load_devices(self, conn: Any) -> None:
        if self.accept_unknown_devices:
            return
        rows = conn.execute(select(DeviceRow.device_id).where(DeviceRow.disabled.is_(False)))
        self._known_devices = frozenset(r[0] for r in rows)


def _run_all(callbacks: list[Done], stored: bool) -> None:
    for done in callbacks:
        try:
            done(stored)
        except Exception:
            log.exception("an acknowledgement callback failed")
