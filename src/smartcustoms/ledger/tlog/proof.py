"""Tree hashes and proofs computed from stored perfect-subtree hashes.

A log that holds millions of entries cannot rebuild its tree to answer a proof. It stores the
hash of every *perfect* subtree it completes (what tlog tiles hold) and answers from those: a node
``(level, index)`` is the Merkle Tree Hash of leaves ``[index * 2**level, (index + 1) * 2**level)``.

Any node of an RFC 6962 tree of size ``n`` is either such a perfect subtree or lies on the tree's
right edge; a right-edge node is the fold, right to left, of the few perfect subtrees that tile its
range (one per set bit of its width). This is golang.org/x/mod/sumdb/tlog's ``TreeHash``,
``ProveRecord`` and ``ProveTree`` over RFC 9162's ``MTH``, ``PATH`` and ``PROOF``.

Every function first *plans* which node hashes it needs (the ``*_ids`` functions expose that
plan so a storage layer can fetch everything in one query), then calls the hash reader **once**.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from smartcustoms.ledger.tlog.errors import InvalidArgument, MissingHash
from smartcustoms.ledger.tlog.rfc6962 import EMPTY_ROOT, HASH_SIZE, hash_children

__all__ = [
    "HashReader",
    "NodeID",
    "consistency_proof",
    "consistency_proof_ids",
    "inclusion_proof",
    "inclusion_proof_ids",
    "root_hash",
    "root_ids",
    "subtree_ids",
]

NodeID = tuple[int, int]
"""``(level, index)`` of a perfect subtree: leaves ``[index << level, (index + 1) << level)``."""

_Plan = list[tuple[NodeID, ...]]


class HashReader(Protocol):
    """Returns the stored hash of each requested perfect subtree, in the order asked.

    A reader must return exactly one 32-byte hash per id, or raise a
    :class:`~smartcustoms.ledger.tlog.errors.TlogError` (typically ``MissingHash``).
    """

    def __call__(self, ids: Sequence[NodeID], /) -> Sequence[bytes]: ...


def subtree_ids(lo: int, hi: int) -> tuple[NodeID, ...]:
    """Return the perfect subtrees that tile the leaf range ``[lo, hi)``, left to right.

    Precondition: ``0 <= lo <= hi`` and ``lo`` is a multiple of the largest power of two not
    above ``hi - lo`` — true of every node of an RFC 6962 tree, and of ``[0, n)``.
    """
    nodes: list[NodeID] = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        nodes.append((level, lo >> level))
        lo += 1 << level
    return tuple(nodes)


def root_ids(size: int) -> list[NodeID]:
    """Return the nodes whose hashes make the root of a tree of ``size`` leaves (none if empty)."""
    _check_count("size", size)
    return list(subtree_ids(0, size))


def root_hash(size: int, read: HashReader) -> bytes:
    """Return MTH(D[0:size]), the root hash of the tree's first ``size`` leaves.

    Precondition: ``size >= 0`` and every perfect subtree of ``[0, size)`` is stored.
    """
    _check_count("size", size)
    if size == 0:
        return EMPTY_ROOT
    (root,) = _resolve([subtree_ids(0, size)], read)
    return root


def inclusion_proof_ids(index: int, size: int) -> list[NodeID]:
    """Return the stored hashes that :func:`inclusion_proof` will read, in one list."""
    return _flatten(_inclusion_plan(index, size))


def inclusion_proof(index: int, size: int, read: HashReader) -> list[bytes]:
    """Return the RFC 9162 inclusion proof (PATH) of leaf ``index`` in the tree of ``size``.

    The proof lists hashes from the leaf's sibling up to the root's child.
    Precondition: ``0 <= index < size``.
    """
    return _resolve(_inclusion_plan(index, size), read)


def consistency_proof_ids(old_size: int, new_size: int) -> list[NodeID]:
    """Return the stored hashes that :func:`consistency_proof` will read, in one list."""
    return _flatten(_consistency_plan(old_size, new_size))


def consistency_proof(old_size: int, new_size: int, read: HashReader) -> list[bytes]:
    """Return the RFC 9162 consistency proof (PROOF) from tree ``old_size`` to ``new_size``.

    Precondition: ``0 < old_size <= new_size`` (a proof from the empty tree means nothing, and
    RFC 9162 does not define one). Equal sizes give an empty proof.
    """
    return _resolve(_consistency_plan(old_size, new_size), read)


def _inclusion_plan(index: int, size: int) -> _Plan:
    _check_count("size", size)
    _check_count("index", index)
    if index >= size:
        raise InvalidArgument(
            f"leaf index {index} is not below tree size {size}",
            details=[{"field": "index", "got": index, "want": f"< {size}"}],
        )
    plan: _Plan = []
    lo, hi = 0, size
    # Walk PATH(m, D[lo:hi]) from the root down; the proof lists the siblings bottom-up.
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            plan.append(subtree_ids(lo + k, hi))
            hi = lo + k
        else:
            plan.append(subtree_ids(lo, lo + k))
            lo += k
    plan.reverse()
    return plan


def _consistency_plan(old_size: int, new_size: int) -> _Plan:
    _check_count("old_size", old_size)
    _check_count("new_size", new_size)
    if not 0 < old_size <= new_size:
        raise InvalidArgument(
            f"consistency proof needs 0 < old size <= new size, got {old_size} and {new_size}",
            details=[{"field": "old_size", "got": old_size, "want": f"1..{new_size}"}],
        )
    plan: _Plan = []
    lo, hi = 0, new_size
    # SUBPROOF(m, D[lo:hi], b) of RFC 9162 §2.1.4.1 with m kept absolute (m - lo is relative).
    complete = True  # b: is [lo, hi) still a prefix of the old tree that the verifier knows?
    while old_size != hi:
        k = _split(hi - lo)
        if old_size - lo <= k:
            plan.append(subtree_ids(lo + k, hi))
            hi = lo + k
        else:
            plan.append(subtree_ids(lo, lo + k))
            lo += k
            complete = False
    if not complete:
        plan.append(subtree_ids(lo, hi))
    plan.reverse()
    return plan


def _split(width: int) -> int:
    """Return the largest power of two strictly below ``width`` (width >= 2)."""
    return 1 << ((width - 1).bit_length() - 1)


def _flatten(plan: _Plan) -> list[NodeID]:
    return [node for group in plan for node in group]


def _resolve(plan: _Plan, read: HashReader) -> list[bytes]:
    ids = _flatten(plan)
    if not ids:
        return []
    hashes = read(ids)
    if len(hashes) != len(ids):
        raise MissingHash(
            f"hash reader returned {len(hashes)} hashes, want {len(ids)}",
            details=[{"got": len(hashes), "want": len(ids)}],
        )
    table: dict[NodeID, bytes] = {}
    for node, h in zip(ids, hashes, strict=True):
        if not isinstance(h, bytes | bytearray) or len(h) != HASH_SIZE:
            got = f"{len(h)} bytes" if isinstance(h, bytes | bytearray) else type(h).__name__
            raise MissingHash(
                f"hash reader returned {got} for node (level {node[0]}, index {node[1]}), "
                f"want {HASH_SIZE} bytes",
                details=[{"level": node[0], "index": node[1], "got": got}],
            )
        table[node] = bytes(h)
    out: list[bytes] = []
    for group in plan:
        # A right-edge node is its perfect subtrees folded from the right (RFC 9162 MTH split).
        h = table[group[-1]]
        for node in reversed(group[:-1]):
            h = hash_children(table[node], h)
        out.append(h)
    return out


def _check_count(field: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgument(
            f"{field} must be a non-negative integer, got {value!r}",
            details=[{"field": field, "got": repr(value)}],
        )
