"""SQLite WAL checkpoints on a thread of their own, not in the commit of whoever wrote last.

In WAL mode SQLite copies the log back into the database file (a *checkpoint*) inside the
COMMIT that takes the log past ``wal_autocheckpoint`` pages (1,000 by default). That commit
then writes megabytes and syncs the file, every few dozen lodgings, while every other writer
of the process waits for its turn behind it: lodging-shaped transactions committed at a p99
of 20–24 ms so, 7–10 ms with the checkpoints on a thread (``bench/sqlite_checkpoints.py``).

A process that serves requests hands that work to a :class:`Checkpointer`: its connections
stop checkpointing on commit (``PRAGMA wal_autocheckpoint=0``) and one thread runs a
``PASSIVE`` checkpoint every ``interval_s`` on a connection of its own. A passive checkpoint
never takes the write lock and copies what no reader still needs, so writers and readers go
on while it runs; Python's sqlite3 releases the interpreter lock for it.

The log only starts again from its beginning for a writer that begins after it was *wholly*
copied back; under a steady stream of commits, writers begin while a checkpoint runs beside
them and append, and the log would grow without end. So a second pass copies what was
appended meanwhile with this process's writers kept out (``writers_out``, the process's write
turns): a few pages and a sync, not the megabytes the first pass copied. Should the log still
grow past ``truncate_bytes`` (a reader that never lets go, another process writing all the
time), a ``TRUNCATE`` checkpoint, writers kept out too, waits up to ``busy_timeout_s`` for a
quiet moment to write everything back and empty it.

Durability is unchanged: a committed transaction is in the log whether or not it has been
copied back, and SQLite replays the log when it next opens the database after a crash. Other
processes on the same file (the command line, a listener process without a checkpointer)
still checkpoint on their own commits, as SQLite does by default.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CheckpointResult", "Checkpointer"]

log = logging.getLogger(__name__)

#: Seconds between two checkpoints: the log grows by what the process commits meanwhile (at
#: 100 lodgings a second about 10 MB).
DEFAULT_INTERVAL_S = 1.0
#: A log larger than this after a passive checkpoint is written back and emptied at once.
DEFAULT_TRUNCATE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class CheckpointResult:
    """What one checkpoint found: ``busy`` when it could not finish (a reader or writer in the
    way), the log's frames and how many of them are now in the database file."""

    busy: bool
    log_frames: int
    checkpointed_frames: int


class Checkpointer:
    """Checkpoints the SQLite database at ``path`` every ``interval_s`` until :meth:`stop`."""

    def __init__(
        self,
        path: Path,
        *,
        interval_s: float = DEFAULT_INTERVAL_S,
        truncate_bytes: int = DEFAULT_TRUNCATE_BYTES,
        busy_timeout_s: float = 1.0,
        writers_out: Callable[[float], AbstractContextManager[bool]] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be positive, not {interval_s!r}")
        self.path = Path(path)
        self.interval_s = interval_s
        self.truncate_bytes = truncate_bytes
        self.busy_timeout_s = busy_timeout_s
        self._writers_out = writers_out
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None

    @property
    def wal_path(self) -> Path:
        return self.path.with_name(self.path.name + "-wal")

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
        return self._conn

    def checkpoint(self, mode: str = "PASSIVE") -> CheckpointResult:
        """One checkpoint now, ``PASSIVE`` or ``TRUNCATE``."""
        if mode not in ("PASSIVE", "TRUNCATE"):
            raise ValueError(f"checkpoint mode must be PASSIVE or TRUNCATE, not {mode!r}")
        # fetchall, not fetchone: a statement left unfinished would hold a read snapshot of
        # its own, and the log could never start again from its beginning.
        rows = self._connection().execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
        busy, frames, done = rows[0] if rows else (1, -1, -1)
        return CheckpointResult(bool(busy), int(frames), int(done))

    def _quiet(self) -> AbstractContextManager[bool]:
        if self._writers_out is None:
            return nullcontext(True)
        return self._writers_out(self.busy_timeout_s)

    def run_once(self) -> CheckpointResult:
        """A passive checkpoint; what it left behind again with this process's writers kept
        out; a truncating one if the log is still too large."""
        result = self.checkpoint("PASSIVE")
        if result.log_frames > 0:
            # Even when that pass copied everything, writers that began meanwhile read the log
            # (not the file) and append to it: the log starts again only for a writer that
            # begins after a complete pass, so make the last pass with them kept out.
            with self._quiet():
                result = self.checkpoint("PASSIVE")
        try:
            size = self.wal_path.stat().st_size
        except FileNotFoundError:
            return result
        if size > self.truncate_bytes:
            with self._quiet():
                result = self.checkpoint("TRUNCATE")
            if result.busy:
                log.warning(
                    "the SQLite log %s is %d bytes and could not be emptied (a reader or "
                    "writer held it for %.1f s); trying again in %.1f s",
                    self.wal_path,
                    size,
                    self.busy_timeout_s,
                    self.interval_s,
                )
        return result

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, name="smartcustoms-checkpoints", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except sqlite3.Error as exc:
                # Locked or busy past the timeout, a disk error: the log keeps everything
                # committed, and the next round tries again.
                log.warning("SQLite checkpoint of %s failed: %s", self.path, exc)

    def stop(self) -> None:
        """Stop the thread, run a last passive checkpoint and close the connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._conn is not None:
            try:
                self.checkpoint("PASSIVE")
            except sqlite3.Error as exc:
                log.warning("last SQLite checkpoint of %s failed: %s", self.path, exc)
            self._conn.close()
            self._conn = None
