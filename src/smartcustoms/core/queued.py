"""Whether this thread queued work for a background worker since it last asked.

A worker that sends what transactions queue (webhook deliveries, messages to partners) is
woken after a commit that queued something for it, not after every commit: at a hundred
lodgings a second, waking each worker for every lodging cost each a pass of queries (about a
millisecond of the interpreter a lodging, for nothing when no webhook or partner wants it).
The mark is kept per thread because a transaction queues, commits and has its events
published in the one thread (:func:`smartcustoms.core.unit.unit_of_work`). A mark left by a
transaction that rolled back wakes the worker once for nothing; work queued by another process
is found by the worker's poll.
"""

from __future__ import annotations

import threading

__all__ = ["QueuedMark"]


class QueuedMark:
    def __init__(self) -> None:
        self._local = threading.local()

    def mark(self) -> None:
        """This thread's open transaction queued work."""
        self._local.queued = True

    def take(self) -> bool:
        """Whether this thread queued work since the last call (and forget it)."""
        queued: bool = getattr(self._local, "queued", False)
        self._local.queued = False
        return queued
