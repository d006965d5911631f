"""Shared test helpers: the vectors in ``data/`` and a naive RFC 6962 reference.

The reference is the RFC's recursive definitions, written for clarity, not speed: the package's
stored-hash algorithms are checked against it.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from pathlib import Path
from typing import Any

from smartcustoms.ledger.tlog.rfc6962 import EMPTY_ROOT, hash_children, hash_leaf

DATA = Path(__file__).parent / "data"


@cache
def vectors(name: str) -> Any:
    """Return the parsed JSON vector file ``data/<name>.json``."""
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def b64(s: str | None) -> bytes:
    return base64.b64decode(s) if s else b""


def split(n: int) -> int:
    """Largest power of two strictly below n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH over raw entries."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return hash_leaf(leaves[0])
    k = split(len(leaves))
    return hash_children(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n])."""
    if len(leaves) <= 1:
        return []
    k = split(len(leaves))
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], b: bool) -> list[bytes]:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b)."""
    n = len(leaves)
    if m == n:
        return [] if b else [mth(leaves)]
    k = split(n)
    if m <= k:
        return [*subproof(m, leaves[:k], b), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def entries(n: int, seed: int = 0) -> list[bytes]:
    """n distinct, deterministic entries."""
    return [f"entry {seed}/{i}".encode() for i in range(n)]
