"""The Merkle frontier (compact range ``[0, size)``) that the append path keeps in memory.

A tree of ``size`` leaves is summarised by one perfect-subtree hash per set bit of ``size``: the
subtree at level ``l`` covers leaves ``[((size >> l) - 1) << l, (size >> l) << l)``. Appending a
batch hashes it level by level — every new pair of siblings once — and hands back every perfect
subtree it completed, so the storage layer can write them (they are what tiles and proofs read)
and the root of the new tree is a fold of the frontier.

The batch API exists for speed: a level is hashed in one list comprehension, so the Python cost
per leaf is a couple of list operations and about two SHA-256 calls in C.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from hashlib import sha256
from typing import NamedTuple

from smartcustoms.ledger.tlog.errors import InvalidArgument
from smartcustoms.ledger.tlog.proof import HashReader, NodeID, root_ids
from smartcustoms.ledger.tlog.rfc6962 import EMPTY_ROOT, HASH_SIZE, hash_children

__all__ = ["CompactRange", "HashRun"]

_NODE = b"\x01"


class HashRun(NamedTuple):
    """Newly completed perfect subtrees on one level: ``hashes[i]`` is node
    ``(level, start + i)``."""

    level: int
    start: int
    hashes: list[bytes]

    def nodes(self) -> Iterator[tuple[int, int, bytes]]:
        """Yield ``(level, index, hash)`` for each subtree in the run."""
        level, start = self.level, self.start
        for i, h in enumerate(self.hashes):
            yield level, start + i, h


class CompactRange:
    """The frontier of a log's tree, grown by batched appends.

    Not thread-safe: one sequencer owns it.
    """

    __slots__ = ("_frontier", "_size")

    def __init__(self, size: int = 0, frontier: Sequence[bytes] = ()) -> None:
        """Start from a tree of ``size`` leaves.

        ``frontier`` holds the hashes of the nodes :func:`~smartcustoms.ledger.tlog.proof.root_ids`
        names for ``size``, left to right (highest level first); see :meth:`from_reader`.
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise InvalidArgument(f"size must be a non-negative integer, got {size!r}")
        ids = root_ids(size)
        if len(frontier) != len(ids):
            raise InvalidArgument(
                f"a tree of size {size} has {len(ids)} frontier hashes, got {len(frontier)}",
                details=[{"field": "frontier", "got": len(frontier), "want": len(ids)}],
            )
        self._size = size
        self._frontier: dict[int, bytes] = {}
        for (level, _), h in zip(ids, frontier, strict=True):
            _check_hash(h, "frontier")
            self._frontier[level] = bytes(h)

    @classmethod
    def from_reader(cls, size: int, read: HashReader) -> CompactRange:
        """Rebuild the frontier of a stored tree of ``size`` leaves (e.g. when a sequencer
        restarts), reading its few perfect-subtree hashes in one call."""
        ids = root_ids(size)
        return cls(size, list(read(ids)) if ids else [])

    @property
    def size(self) -> int:
        """Number of leaves appended so far."""
        return self._size

    def frontier(self) -> list[tuple[NodeID, bytes]]:
        """Return the frontier as ``((level, index), hash)`` pairs, left to right."""
        return [
            ((level, (self._size >> level) - 1), self._frontier[level])
            for level in sorted(self._frontier, reverse=True)
        ]

    def root(self) -> bytes:
        """Return the RFC 6962 root hash of the tree appended so far."""
        if not self._frontier:
            return EMPTY_ROOT
        acc: bytes | None = None
        for level in sorted(self._frontier):
            h = self._frontier[level]
            acc = h if acc is None else hash_children(h, acc)
        assert acc is not None
        return acc

    def append(self, leaf_hashes: Sequence[bytes]) -> list[HashRun]:
        """Append leaf hashes and return the perfect subtrees this completed.

        Precondition: each leaf hash is 32 ``bytes`` (see :func:`rfc6962.hash_leaves`).

        The runs come lowest level first; level 0 is the leaf hashes themselves. Every node of
        every run is new: together with what earlier appends returned, they are all the perfect
        subtrees of the grown tree. Nothing changes if a hash has the wrong size.
        """
        n = len(leaf_hashes)
        if n == 0:
            return []
        # One C-level pass rather than a Python loop: every hash must be exactly 32 bytes.
        if set(map(len, leaf_hashes)) != {HASH_SIZE}:
            raise InvalidArgument(f"every leaf hash must be {HASH_SIZE} bytes")
        frontier = self._frontier
        new_frontier: dict[int, bytes] = {}
        runs: list[HashRun] = []
        row = list(leaf_hashes)
        start = self._size  # index of row[0] on this level
        level = 0
        while row:
            runs.append(HashRun(level, start, row))
            if start & 1:
                # row[0] is a right child: its left sibling is the old frontier node here.
                pair_row = [frontier[level], *row]
                start -= 1
            else:
                pair_row = row
            if len(pair_row) & 1:
                new_frontier[level] = pair_row[-1]
            row = [
                sha256(_NODE + left + right).digest()
                for left, right in zip(pair_row[0::2], pair_row[1::2], strict=False)
            ]
            start >>= 1
            level += 1
        # Levels the batch never reached keep their old frontier nodes unchanged.
        for lvl, h in frontier.items():
            if lvl >= level:
                new_frontier[lvl] = h
        self._frontier = new_frontier
        self._size += n
        return runs


def _check_hash(h: object, field: str) -> None:
    if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
        raise InvalidArgument(f"{field} hashes must be {HASH_SIZE} bytes, got {h!r:.80}")
