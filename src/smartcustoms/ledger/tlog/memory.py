"""An in-memory store of perfect-subtree hashes: a hash reader for tests, benchmarks and tools.

Each level is one contiguous ``bytearray`` (32 bytes per node), so ten million leaves cost about
640 MB for all levels together and no per-hash Python object is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from smartcustoms.ledger.tlog.compact import HashRun
from smartcustoms.ledger.tlog.errors import InvalidArgument, MissingHash
from smartcustoms.ledger.tlog.proof import NodeID
from smartcustoms.ledger.tlog.rfc6962 import HASH_SIZE

__all__ = ["MemoryHashStore"]


class MemoryHashStore:
    """Holds what :meth:`CompactRange.append` returns and reads it back as a ``HashReader``."""

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        self._levels: list[bytearray] = []

    def add(self, runs: Iterable[HashRun]) -> None:
        """Store runs of new hashes. Precondition: each run starts where its level ends."""
        for run in runs:
            while len(self._levels) <= run.level:
                self._levels.append(bytearray())
            buf = self._levels[run.level]
            if run.start * HASH_SIZE != len(buf):
                raise InvalidArgument(
                    f"run at level {run.level} starts at {run.start}, "
                    f"want {len(buf) // HASH_SIZE} (runs must be stored in order)"
                )
            buf += b"".join(run.hashes)

    def count(self, level: int) -> int:
        """Number of stored nodes on ``level``."""
        return len(self._levels[level]) // HASH_SIZE if level < len(self._levels) else 0

    def read_range(self, level: int, start: int, count: int) -> bytes:
        """Return the concatenated hashes of nodes ``start .. start + count - 1`` on ``level``
        (a tile at tile-level L is ``read_range(8 * L, 256 * N, width)``)."""
        buf = self._levels[level] if 0 <= level < len(self._levels) else bytearray()
        lo, hi = start * HASH_SIZE, (start + count) * HASH_SIZE
        if start < 0 or count < 1 or hi > len(buf):
            raise MissingHash(
                f"no stored hashes for nodes {start}..{start + count - 1} on level {level}",
                details=[{"level": level, "index": start, "count": count}],
            )
        return bytes(buf[lo:hi])

    def __call__(self, ids: Sequence[NodeID], /) -> list[bytes]:
        out: list[bytes] = []
        levels = self._levels
        for level, index in ids:
            off = index * HASH_SIZE
            if not 0 <= level < len(levels) or not 0 <= off < len(levels[level]):
                raise MissingHash(
                    f"no stored hash for node (level {level}, index {index})",
                    details=[{"level": level, "index": index}],
                )
            out.append(bytes(levels[level][off : off + HASH_SIZE]))
        return out
