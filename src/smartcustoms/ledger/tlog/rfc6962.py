"""RFC 6962 / RFC 9162 Merkle tree hashing over SHA-256.

Leaves and interior nodes are hashed with different one-byte prefixes (0x00 and 0x01) so that a
leaf can never be passed off as an interior node (second-preimage resistance, RFC 9162 §2.1.1).
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import sha256

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "hash_children",
    "hash_leaf",
    "hash_leaves",
]

HASH_SIZE = 32
"""Bytes in every tree hash."""

EMPTY_ROOT = sha256(b"").digest()
"""MTH({}): the root hash of the empty tree."""

_LEAF = b"\x00"
_NODE = b"\x01"


def hash_leaf(data: bytes) -> bytes:
    """Return SHA-256(0x00 || data), the hash of one log entry."""
    return sha256(_LEAF + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Return SHA-256(0x01 || left || right), the hash of an interior node."""
    return sha256(_NODE + left + right).digest()


def hash_leaves(entries: Iterable[bytes]) -> list[bytes]:
    """Return the leaf hash of each entry, in order (one C-level loop, no per-call overhead)."""
    return [sha256(_LEAF + e).digest() for e in entries]
