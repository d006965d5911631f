"""The notifier: one thread per running instance that reads the ledger, runs the escalation
chain and sends what is due.

Each tick, in order:

1. *Read*: the ledger records after the cursor (:mod:`.cursor`), up to 64 at a time; for
   each, the matters it raises and the waits it ends (:mod:`.triggers`); the notifications
   the rules call for are queued (:mod:`.planner`) and the cursor moved, in one transaction.
2. *Escalate*: every escalation step whose delay has passed on a matter still waiting
   (:mod:`.escalation`).
3. *Deliver*: every notification due, each claimed, sent with no transaction open, and its
   state written (:mod:`.delivery`).

Steps 1 and 2 first look with a read-only query and open a write transaction only when there
is work, so an idle notifier never takes SQLite's write lock. Several web workers each run a
notifier: the cursor is locked and moved by compare-and-set, each notification has a unique
key and each send is claimed, so none is queued twice and each is sent by one of them.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import ServiceUnavailable
from smartcustoms.core.settings import Settings
from smartcustoms.interop.notify.cursor import CURSOR, lock_cursor, move_cursor
from smartcustoms.interop.notify.delivery import Delivered, Sender, deliver_due, senders_from
from smartcustoms.interop.notify.escalation import close_watch, due_steps, fire_due, open_watch
from smartcustoms.interop.notify.planner import queue_matter
from smartcustoms.interop.notify.rules import Recipient
from smartcustoms.interop.notify.tables import NotifyCursor, NotifyRule
from smartcustoms.interop.notify.triggers import read_record
from smartcustoms.ledger.store import read_entries, read_tree_head
from smartcustoms.ledger.tlog.records import parse_record

__all__ = ["Notifier", "Tick", "attach_notifier", "notifier_of"]

log = logging.getLogger("smartcustoms.notify")

_SERVICE = "notifier"
#: Records read per transaction: small enough that the notifier holds SQLite's write lock
#: for a fraction of a second even when a burst of alerts each tells several people.
_BATCH = 64
#: Pause between two full batches, so that other writers (lodging, the ledger's sequencer)
#: get the write lock in between: SQLite's busy handler is not fair.
_YIELD_S = 0.02


@dataclass
class Tick:
    read: int = 0
    queued: int = 0
    escalated: int = 0
    cancelled: int = 0
    delivered: Delivered = field(default_factory=Delivered)


def _record_time(record: dict[str, object], fallback: datetime) -> datetime:
    at = record.get("at")
    if isinstance(at, str):
        try:
            parsed = datetime.fromisoformat(at)
        except ValueError:
            return fallback
        if parsed.tzinfo is not None:
            return parsed
    return fallback


class Notifier:
    def __init__(self, ctx: AppContext, senders: dict[str, Sender] | None = None) -> None:
        self.ctx = ctx
        self.settings: Settings = ctx.settings
        self.db = ctx.db
        self.senders = senders or senders_from(ctx.settings)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # -- one tick ---------------------------------------------------------------------------

    def tick(self) -> Tick:
        tick = Tick()
        tick.read, tick.queued, tick.cancelled = self.read_ledger()
        tick.escalated = self.escalate()
        tick.delivered = deliver_due(self.db, self.settings, self.senders, stop=self._stop.is_set)
        return tick

    def _behind(self) -> bool:
        with self.db.engine.connect() as conn:
            position = conn.execute(
                select(NotifyCursor.position).where(NotifyCursor.name == CURSOR)
            ).scalar()
            return position is not None and int(position) < read_tree_head(conn).size

    def read_ledger(self) -> tuple[int, int, int]:
        """Read the next records; return (records read, notifications queued, cancelled)."""
        if not self._behind():
            return 0, 0, 0
        try:
            return self._read_batch()
        except _Raced:
            return 0, 0, 0

    def _read_batch(self) -> tuple[int, int, int]:
        now = clock.now()
        queued = cancelled = 0
        with self.db.session() as session:
            conn = session.connection()
            position = lock_cursor(conn)
            size = read_tree_head(conn).size
            if position is None or position >= size:
                return 0, 0, 0
            count = min(size - position, _BATCH)
            entries = read_entries(conn, position, count, size)
            rules = [r for r in session.scalars(select(NotifyRule)).all() if r.after_minutes == 0]
            people: dict[tuple[int, tuple[str, ...]], list[Recipient]] = {}
            readings = []
            for offset, entry in enumerate(entries):
                try:
                    record = parse_record(entry)
                except Exception:  # not ours to judge: fsck reports bad entries
                    log.warning("ledger entry %s is not a record; skipped", position + offset)
                    continue
                readings.append((offset, entry, record, read_record(session, record)))
            # A matter settled later in the same batch (a rule proposed and approved in one
            # transaction, an alert raised and acknowledged at once) waits for nobody.
            settled = {
                close: offset for offset, _, _, reading in readings for close in reading.closes
            }
            for offset, entry, record, reading in readings:
                source = _sha256(entry)
                for trigger, subject in reading.closes:
                    cancelled += close_watch(session, trigger, subject, now)
                for matter in reading.matters:
                    if settled.get((matter.trigger, matter.subject), -1) > offset:
                        continue
                    if matter.watch:
                        open_watch(session, matter, source, _record_time(record, now))
                    mine = [r for r in rules if r.trigger == matter.trigger]
                    queued += len(
                        queue_matter(session, self.settings, matter, source, mine, now, people)
                    )
            if not move_cursor(conn, position, position + count):
                raise _Raced  # another notifier read these first: roll back what we queued
        return count, queued, cancelled

    def escalate(self) -> int:
        now = clock.now()
        with self.db.read_session() as session:
            if not due_steps(session, now):
                return 0
        with self.db.session() as session:
            return fire_due(session, self.settings, now)

    # -- the thread ---------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="smartcustoms-notify", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        interval = self.settings.notify_poll_ms / 1000
        while not self._stop.is_set():
            self._wake.clear()
            try:
                tick = self.tick()
                busy = tick.read == _BATCH
            except Exception:  # the notifier must outlive a bad moment of the database
                log.exception("notifier tick failed; trying again")
                busy = False
            self._wake.wait(_YIELD_S if busy else interval)


class _Raced(Exception):
    """Another notifier moved the cursor first (the compare-and-set failed): this batch rolls
    back; the other one queued the same notifications."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def attach_notifier(ctx: AppContext, *, start: bool = True) -> Notifier:
    """Give ``ctx`` its notifier (once); it stops when the context closes."""
    existing = ctx.services.get(_SERVICE)
    if isinstance(existing, Notifier):
        return existing
    notifier = Notifier(ctx)
    ctx.services[_SERVICE] = notifier
    ctx.on_close(notifier.stop)
    if start:
        notifier.start()
    return notifier


def notifier_of(ctx: AppContext) -> Notifier:
    notifier = ctx.services.get(_SERVICE)
    if not isinstance(notifier, Notifier):
        raise ServiceUnavailable(
            "no notifier is attached to this context", code="notify_unavailable"
        )
    return notifier
