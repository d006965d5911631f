"""Verification of inclusion and consistency proofs, as pure functions.

The algorithms are RFC 9162 §2.1.3.2 and §2.1.4.2 step by step. Before running them, each
function checks the arguments and the proof length, so a failure names what is wrong ("proof
has 4 hashes, want 3") rather than only "root mismatch". Every failure — whatever the arguments
— is a :class:`~smartcustoms.ledger.errors.ProofError`; nothing else escapes.
"""

from __future__ import annotations

from collections.abc import Sequence

from smartcustoms.ledger.tlog.errors import ProofError
from smartcustoms.ledger.tlog.rfc6962 import HASH_SIZE, hash_children

__all__ = [
    "expected_consistency_proof_size",
    "expected_inclusion_proof_size",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]


def expected_inclusion_proof_size(index: int, size: int) -> int:
    """Return the number of hashes in the inclusion proof of ``index`` in a tree of ``size``.

    Precondition: ``0 <= index < size``.
    """
    # Below the level where the paths to `index` and to the last leaf part, every level has a
    # sibling; above it, only the levels where `index` has a left sibling on the right edge.
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def expected_consistency_proof_size(old_size: int, new_size: int) -> int:
    """Return the number of hashes in the consistency proof from ``old_size`` to ``new_size``.

    Precondition: ``0 < old_size <= new_size``.
    """
    if old_size == new_size:
        return 0
    shift = ((old_size & -old_size).bit_length()) - 1  # trailing zero bits of old_size
    n = expected_inclusion_proof_size(old_size - 1, new_size) - shift
    # The old tree's root is a node of the new one when old_size is a power of two; otherwise
    # the proof carries the hash of the subtree the old root's path starts from.
    return n if old_size == 1 << shift else n + 1


def root_from_inclusion_proof(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Return the root that ``proof`` implies for ``leaf_hash`` at ``index`` in tree ``size``.

    Raises ProofError if the arguments or the proof's shape are wrong.
    """
    _check_position(index, size)
    r = _as_hash(leaf_hash, "leaf hash")
    path = _as_proof(proof, expected_inclusion_proof_size(index, size))
    # RFC 9162 §2.1.3.2, steps 2-4.
    fn, sn = index, size - 1
    for p in path:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the path to the root")
    return r


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``proof`` proves ``leaf_hash`` is leaf ``index`` of the tree (size, root).

    Returns None on success; raises ProofError naming the first thing wrong otherwise.
    """
    want = _as_hash(root, "root hash")
    calculated = root_from_inclusion_proof(leaf_hash, index, size, proof)
    if calculated != want:
        raise ProofError(
            f"inclusion proof leads to root {calculated.hex()}, want {want.hex()}",
            details=[{"field": "root", "got": calculated.hex(), "want": want.hex()}],
        )


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """Check that the tree (new_size, new_root) extends the tree (old_size, old_root).

    Requires ``0 < old_size <= new_size``: a consistency proof from the empty tree says nothing
    (RFC 9162 defines none), so it is rejected. With equal sizes the proof must be empty and the
    roots identical; as in transparency-dev/merkle their bytes are only compared, not sized.
    Returns None on success; raises ProofError naming the first thing wrong otherwise.
    """
    _check_count(old_size, "old size")
    _check_count(new_size, "new size")
    if old_size == 0:
        raise ProofError("consistency proof from an empty tree is meaningless (old size is 0)")
    if old_size > new_size:
        raise ProofError(
            f"old size {old_size} is above new size {new_size}",
            details=[{"field": "old_size", "got": old_size, "want": f"<= {new_size}"}],
        )
    first = _as_bytes(old_root, "old root")
    second = _as_bytes(new_root, "new root")
    if old_size == new_size:
        _as_proof(proof, 0)
        if first != second:
            raise ProofError(
                f"trees of equal size {old_size} have roots {first.hex()} and {second.hex()}, "
                "want identical roots"
            )
        return
    _as_hash(first, "old root")
    _as_hash(second, "new root")
    path = _as_proof(proof, expected_consistency_proof_size(old_size, new_size))

    # RFC 9162 §2.1.4.2.
    if old_size & (old_size - 1) == 0:  # step 2: first is an exact power of 2
        path.insert(0, first)
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            raise ProofError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        fn >>= 1
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise ProofError("consistency proof is shorter than the path to the root")
    if fr != first:
        raise ProofError(
            f"consistency proof leads to old root {fr.hex()}, want {first.hex()}",
            details=[{"field": "old_root", "got": fr.hex(), "want": first.hex()}],
        )
    if sr != second:
        raise ProofError(
            f"consistency proof leads to new root {sr.hex()}, want {second.hex()}",
            details=[{"field": "new_root", "got": sr.hex(), "want": second.hex()}],
        )


def _check_count(value: object, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProofError(f"{field} must be a non-negative integer, got {value!r:.40}")


def _check_position(index: object, size: object) -> None:
    _check_count(index, "leaf index")
    _check_count(size, "tree size")
    assert isinstance(index, int)
    assert isinstance(size, int)
    if index >= size:
        raise ProofError(
            f"leaf index {index} is not below tree size {size}",
            details=[{"field": "index", "got": index, "want": f"< {size}"}],
        )


def _as_bytes(value: object, field: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise ProofError(f"{field} must be bytes, got {type(value).__name__}")
    return bytes(value)


def _as_hash(value: object, field: str) -> bytes:
    b = _as_bytes(value, field)
    if len(b) != HASH_SIZE:
        raise ProofError(
            f"{field} is {len(b)} bytes, want {HASH_SIZE}",
            details=[{"field": field, "got": len(b), "want": HASH_SIZE}],
        )
    return b


def _as_proof(proof: object, want: int) -> list[bytes]:
    if isinstance(proof, bytes | bytearray | str) or not isinstance(proof, Sequence):
        raise ProofError(f"proof must be a sequence of hashes, got {type(proof).__name__}")
    if len(proof) != want:
        raise ProofError(
            f"proof has {len(proof)} hashes, want {want}",
            details=[{"field": "proof", "got": len(proof), "want": want}],
        )
    return [_as_hash(h, f"proof[{i}]") for i, h in enumerate(proof)]
