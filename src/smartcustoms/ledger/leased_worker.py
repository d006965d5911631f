"""A background thread that works only while it holds a lease (:mod:`.leader`).

What the outbox deliverers share (webhooks, federation): one thread per process, but only the
process holding the database's lease for that job does the work, so several workers neither
send twice nor in two orders. The thread:

* checks the lease at most every ``check_every`` seconds while it holds it (a cheap query on
  PostgreSQL), and tries to take it every second while it does not;
* runs ``work`` over and over while it holds the lease; ``work`` returns how much it did, and
  when that is nothing the thread waits up to ``idle_poll`` seconds or until :meth:`wake`;
* survives a failing pass (a database hiccup): logged, then a second's pause;
* tells ``on_lease_change(held)`` each time the lease is taken or lost (and lost on
  :meth:`stop`), so its owner can reset what only the holder may keep (back-off pauses) and
  export its leader gauge.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from smartcustoms.ledger.leader import Lease

__all__ = ["IDLE_POLL_S", "LeasedWorker"]

#: How often an idle worker looks for work queued by other processes. Work queued in its own
#: process wakes it at once (:class:`smartcustoms.core.queued.QueuedMark`); each look is a few
#: queries, so polling every 50 ms kept a quiet server's interpreter busy for nothing.
IDLE_POLL_S = 0.25


class LeasedWorker:
    def __init__(
        self,
        name: str,
        lease: Lease,
        work: Callable[[], int],
        *,
        log: logging.Logger,
        idle_poll: float = IDLE_POLL_S,
        check_every: float = 1.0,
        on_lease_change: Callable[[bool], None] | None = None,
    ) -> None:
        self._name = name  # the thread's name, and what the log calls it
        self._lease = lease
        self._work = work
        self._log = log
        self._idle_poll = idle_poll
        self._check_every = check_every
        self._on_lease_change = on_lease_change
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._leader = False
        self._next_check = 0.0

    @property
    def is_leader(self) -> bool:
        return self._leader

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called (a long pass checks it between steps)."""
        return self._stopping.is_set()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Work may be waiting: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float, *, before_release: Callable[[], None] | None = None) -> None:
        """Stop after the pass in flight (waiting at most ``timeout`` s), run
        ``before_release`` (what the pass used, closed), then give the lease back."""
        self._stopping.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if before_release is not None:
            before_release()
        self._lease.release()
        self._leader = False
        if self._on_lease_change is not None:
            self._on_lease_change(False)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                if not self._hold_lease():
                    self._stopping.wait(1.0)
                    continue
                done = self._work()
            except Exception:  # a database hiccup must not end the worker: log, wait, retry
                self._log.exception("%s: pass failed", self._name)
                self._stopping.wait(1.0)
                continue
            if done == 0:
                self._wake.wait(self._idle_poll)
                self._wake.clear()

    def _hold_lease(self) -> bool:
        now = time.monotonic()
        if self._leader and now < self._next_check:
            return True
        self._next_check = now + self._check_every
        held = self._lease.still_held() if self._leader else self._lease.try_acquire()
        if held != self._leader:
            self._log.info("%s %s", self._name, "elected" if held else "lost its lease")
            self._leader = held
            if self._on_lease_change is not None:
                self._on_lease_change(held)
        return held
