"""The sequencer: the one writer of the tree, batching appends, then signing checkpoints.

One thread per :class:`Sequencer`. It first takes the database's sequencer lease
(:mod:`.leader`); while it holds it:

1. it takes every append queued in this process, plus the entries other processes handed off
   through ``ledger_pending`` (:mod:`.handoff`), as one batch;
2. stores the batch — entries, every new tree hash, the new tree head — in **one transaction**
   and only after the commit returns tells each caller its index. An acknowledged entry is
   committed: on SQLite in WAL mode with ``synchronous=NORMAL`` it survives a crash of the
   process at any moment (a power cut may lose the last transactions, never corrupt); on
   PostgreSQL it survives both;
3. signs a checkpoint of the stored tree when it has grown and ``interval`` has passed since
   the last one (so at most one per interval, and every entry is covered within about one
   interval), and once more when it stops, so nothing is left uncovered — through its
   :class:`~.fork_guard.ForkGuard`, which refuses to sign a tree that does not extend what the
   log published (a restored database): appends are still stored and acknowledged then.

A process without the lease hands its appends off (:func:`.handoff.hand_off`) and keeps trying
to take the lease, so a new sequencer starts when the old one stops or dies.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, select

from smartcustoms.core import clock
from smartcustoms.core.db import Database
from smartcustoms.core.errors import ServiceUnavailable, SmartCustomsError
from smartcustoms.ledger.checkpoints import SignedCheckpoint, latest_checkpoint
from smartcustoms.ledger.errors import LedgerError, SigningHeld
from smartcustoms.ledger.fork_guard import ForkGuard, Hold
from smartcustoms.ledger.handoff import assign, hand_off, purge_stale, take_pending
from smartcustoms.ledger.keystore import (
    current_log_key,
    key_label,
    load_log_signer,
    register_log_key,
)
from smartcustoms.ledger.leader import Lease, lease_for
from smartcustoms.ledger.store import Fenced, TreeWriter
from smartcustoms.ledger.tables import LedgerCheckpoint
from smartcustoms.ledger.tlog.keys import Ed25519Signer, Signer
from smartcustoms.ledger.tlog.rfc6962 import hash_leaves

__all__ = ["Sequencer", "SequencerConfig"]

log = logging.getLogger("smartcustoms.ledger")


@dataclass(frozen=True)
class SequencerConfig:
    origin: str
    data_dir: Path
    interval_s: float = 1.0
    max_batch: int = 16384
    handoff_timeout_s: float = 30.0
    pending_poll_s: float = 0.05
    lease_retry_s: float = 1.0
    lease_check_s: float = 1.0
    quorum: int = 0  # witness cosignatures that make a checkpoint witnessed (recorded with it)


@dataclass
class _Request:
    entries: Sequence[bytes]
    done: threading.Event = field(default_factory=threading.Event)
    first: int = -1
    error: BaseException | None = None


class _SteppedDown(Exception):
    """This sequencer lost the lease before storing the request: hand it off instead."""


class Sequencer:
    """Appends entries to the ledger's tree; see the module documentation."""

    def __init__(
        self,
        db: Database,
        config: SequencerConfig,
        *,
        on_checkpoint: Callable[[SignedCheckpoint], None] | None = None,
        guard: ForkGuard | None = None,
    ) -> None:
        self._db = db
        self._config = config
        self._on_checkpoint = on_checkpoint
        self._guard = guard or ForkGuard(config.data_dir, config.origin, config.quorum)
        self._lease: Lease = lease_for(db)
        self._cond = threading.Condition()
        self._queue: list[_Request] = []
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._leader = False
        self._writer: TreeWriter | None = None
        self._signer: Ed25519Signer | None = None
        self._retiring: Ed25519Signer | None = None
        self._checkpoint_size = 0
        self._checkpoint_at = 0.0  # time.monotonic() of the last checkpoint
        self._next_poll = 0.0
        self._next_lease_check = 0.0
        self._next_purge = 0.0
        self._conn: Connection | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        with self._cond:
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name="smartcustoms-ledger-sequencer", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Store what is queued, sign a last checkpoint if needed, give the lease back."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and not self._stopping

    @property
    def is_leader(self) -> bool:
        return self._leader

    @property
    def checkpoint_size(self) -> int:
        """Size of the last checkpoint this sequencer signed or found (0 if none)."""
        return self._checkpoint_size

    @property
    def hold(self) -> Hold | None:
        """Why this sequencer does not sign (None while it may)."""
        return self._guard.hold

    # -- appending -----------------------------------------------------------------------------

    def submit(self, entries: Sequence[bytes]) -> int:
        """Append ``entries`` durably; return the index of the first. Blocks until stored."""
        if not entries:
            raise LedgerError("nothing to append", code="empty_append")
        request = _Request(entries)
        with self._cond:
            if not self.running:
                raise ServiceUnavailable("the ledger is not running", code="ledger_unavailable")
            queued = self._leader
            if queued:
                self._queue.append(request)
                self._cond.notify_all()
        if queued:
            while not request.done.wait(1.0):
                if self._thread is None or not self._thread.is_alive():
                    raise ServiceUnavailable(
                        "the ledger sequencer stopped", code="ledger_unavailable"
                    )
            if request.error is None:
                return request.first
            if not isinstance(request.error, _SteppedDown):
                raise request.error
        return hand_off(self._db, entries, timeout=self._config.handoff_timeout_s)[0]

    def poke(self) -> None:
        """Something was just committed to the queue table: drain it now, not at the next
        poll."""
        with self._cond:
            self._next_poll = 0.0
            self._cond.notify_all()

    def wait_covered(self, index: int, timeout: float) -> bool:
        """Wait until a signed checkpoint covers entry ``index``; return whether one does."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if self._checkpoint_size > index:
                    return True
                if self._leader:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._cond.wait(min(left, 0.5))
                    continue
            with self._db.engine.connect() as conn:
                cp = latest_checkpoint(conn)
            if cp is not None and cp.size > index:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    # -- the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping and not self._queue:
                    break
            try:
                if self._leader:
                    self._pass()
                else:
                    self._try_to_lead()
            except Exception:  # a bug or a dead database: say so, step down, try again later
                log.exception("ledger sequencer failed; stepping down")
                self._abandon(ServiceUnavailable("the ledger failed", code="ledger_unavailable"))
                with self._cond:
                    if not self._stopping:
                        self._cond.wait(self._config.lease_retry_s)
        try:
            if self._leader:
                self._drain_pending()
                if self._writer is not None and self._writer.size > self._checkpoint_size:
                    self._sign()
        except Exception:
            log.exception("ledger sequencer could not finish cleanly")
        self._abandon(ServiceUnavailable("the ledger stopped", code="ledger_unavailable"))

    def _abandon(self, error: BaseException) -> None:
        """Step down and fail whatever is still queued in this process."""
        self._step_down()
        with self._cond:
            for request in self._queue:
                request.error = error
                request.done.set()
            self._queue.clear()

    def _try_to_lead(self) -> None:
        if self._lease.try_acquire():
            try:
                self._take_over()
                return
            except (SmartCustomsError, OSError) as exc:
                log.error("cannot act as the ledger sequencer: %s", exc)
                self._step_down()
            except Exception:
                log.exception("cannot act as the ledger sequencer")
                self._step_down()
        with self._cond:
            if not self._stopping:
                self._cond.wait(self._config.lease_retry_s)
            elif not self._queue:
                return

    def _take_over(self) -> None:
        signer = load_log_signer(self._config.data_dir, self._config.origin)
        with self._db.writer.begin() as conn:
            register_log_key(conn, signer)
            writer = TreeWriter.load(conn)
            cp = latest_checkpoint(conn)
            self._guard.on_start(conn, writer.size, writer.compact.root())
        self._signer, self._retiring, self._writer = signer, None, writer
        now_mono = time.monotonic()
        if cp is None:
            self._checkpoint_size, self._checkpoint_at = 0, now_mono - self._config.interval_s
        else:
            if cp.size > writer.size:
                raise LedgerError(
                    f"checkpoint at size {cp.size} is beyond the stored tree ({writer.size}): "
                    "run `smartcustoms ledger fsck`",
                    code="tree_mismatch",
                )
            age = max(0.0, (clock.now() - cp.created_at).total_seconds())
            self._checkpoint_size, self._checkpoint_at = cp.size, now_mono - age
        with self._cond:
            self._leader = True
        log.info("ledger sequencer started at size %d (key %s)", writer.size, self._label())

    def _connection(self) -> Connection:
        """The sequencer's own connection, kept between batches: a pool checkout per batch
        (with PostgreSQL's pre-ping) would cost about as much as the batch itself."""
        if self._conn is None:
            self._conn = self._db.writer.connect()
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # it may be the broken thing
                self._conn.close()
            self._conn = None

    def _step_down(self) -> None:
        with self._cond:
            was = self._leader
            self._leader = False
            self._writer = None
        self._drop_connection()
        self._lease.release()
        if was:
            log.info("ledger sequencer stopped")

    def _label(self) -> str:
        assert self._signer is not None
        return key_label(self._signer.name, self._signer.key_id)

    def _pass(self) -> None:
        cfg = self._config
        now = time.monotonic()
        due = self._checkpoint_due(now)
        with self._cond:
            if not self._queue and not self._stopping and not due:
                wait = max(0.0, self._next_poll - now)
                if self._writer is not None and self._writer.size > self._checkpoint_size:
                    wait = min(wait, self._checkpoint_at + cfg.interval_s - now)
                self._cond.wait(max(wait, 0.001))
            requests, total = [], 0
            while self._queue and total < cfg.max_batch:
                request = self._queue.pop(0)
                requests.append(request)
                total += len(request.entries)
        pending: list[tuple[int, bytes]] = []
        now = time.monotonic()
        if now >= self._next_poll:
            self._next_poll = now + cfg.pending_poll_s
            with self._db.engine.connect() as conn:
                pending = take_pending(conn, max(1, cfg.max_batch - total))
        if requests or pending:
            self._write(requests, pending)
        if self._leader and self._checkpoint_due(time.monotonic()):
            self._sign()
        if self._leader and now >= self._next_purge:
            self._next_purge = now + 60.0
            with self._db.writer.begin() as conn:
                purge_stale(conn)

    def _checkpoint_due(self, now: float) -> bool:
        writer = self._writer
        return (
            writer is not None
            and writer.size > self._checkpoint_size
            and now - self._checkpoint_at >= self._config.interval_s
        )

    def _drain_pending(self) -> None:
        while self._leader:
            with self._db.engine.connect() as conn:
                pending = take_pending(conn, self._config.max_batch)
            if not pending:
                return
            self._write([], pending)

    def _write(self, requests: list[_Request], pending: list[tuple[int, bytes]]) -> None:
        writer = self._writer
        assert writer is not None
        entries = [e for r in requests for e in r.entries]
        own = len(entries)
        entries.extend(data for _, data in pending)
        leaf_hashes = hash_leaves(entries)
        first = writer.size
        try:
            now = time.monotonic()
            if now >= self._next_lease_check:
                self._next_lease_check = now + self._config.lease_check_s
                if not self._lease.still_held():
                    raise Fenced("the sequencer lease was lost")
            conn = self._connection()
            with conn.begin():
                writer.write(conn, entries, leaf_hashes)
                assign(conn, [pid for pid, _ in pending], first + own)
        except Fenced as exc:
            log.warning("ledger sequencer stepping down: %s", exc)
            self._fail(requests, _SteppedDown())
            self._step_down()
            return
        except Exception as exc:
            log.error("ledger append of %d entries failed: %s", len(entries), exc)
            error = (
                exc
                if isinstance(exc, SmartCustomsError)
                else ServiceUnavailable(
                    f"the ledger could not store the entry: {exc.__class__.__name__}",
                    code="ledger_unavailable",
                )
            )
            self._fail(requests, error)
            self._drop_connection()
            self._reload()
            return
        position = first
        for request in requests:
            request.first = position
            position += len(request.entries)
            request.done.set()

    def _fail(self, requests: list[_Request], error: BaseException) -> None:
        for request in requests:
            request.error = error
            request.done.set()

    def _reload(self) -> None:
        try:
            with self._db.engine.connect() as conn:
                self._writer = TreeWriter.load(conn)
        except Exception as exc:
            log.error("ledger sequencer cannot reload the tree, stepping down: %s", exc)
            self._step_down()

    def _signers(self) -> list[Signer] | None:
        """The keys to sign the next checkpoint with, following a rotation made elsewhere."""
        assert self._signer is not None
        with self._db.engine.connect() as conn:
            current = current_log_key(conn)
        if current is not None and current.key != self._label():
            try:
                new = load_log_signer(self._config.data_dir, self._config.origin)
            except SmartCustomsError as exc:
                log.error("ledger key was rotated but cannot be loaded: %s", exc)
                return None
            if key_label(new.name, new.key_id) != current.key:
                log.error(
                    "ledger key in %s is not the current key %s: not signing",
                    self._config.data_dir,
                    current.key,
                )
                return None
            # The first checkpoint under the new key also carries the old key's signature, so
            # a verifier that trusts the old key can follow the rotation.
            self._retiring, self._signer = self._signer, new
            log.info("ledger key rotated to %s", current.key)
        signers: list[Signer] = [self._signer]
        if self._retiring is not None:
            signers.append(self._retiring)
        return signers

    def _sign(self) -> None:
        writer = self._writer
        assert writer is not None
        size, root = writer.size, writer.compact.root()
        signers = self._signers()
        if signers is None:
            self._checkpoint_at = time.monotonic()  # try again after one interval
            return
        try:
            conn = self._connection()
            with conn.begin():
                exists = conn.execute(
                    select(LedgerCheckpoint.size).where(LedgerCheckpoint.size == size)
                ).first()
                cp = (
                    None
                    if exists
                    else self._guard.sign(
                        conn, self._config.origin, size, root, signers, self._config.quorum
                    )
                )
        except SigningHeld:  # the guard said why (once); entries are still stored
            self._checkpoint_at = time.monotonic()  # look again after one interval
            return
        except Exception as exc:
            log.error("ledger checkpoint at size %d failed: %s", size, exc)
            self._drop_connection()
            self._checkpoint_at = time.monotonic()
            return
        self._retiring = None
        with self._cond:
            self._checkpoint_size, self._checkpoint_at = size, time.monotonic()
            self._cond.notify_all()
        if cp is not None and self._on_checkpoint is not None:
            self._on_checkpoint(cp)
