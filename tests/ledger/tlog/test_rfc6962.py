from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcustoms.ledger.tlog.rfc6962 import (
    EMPTY_ROOT,
    HASH_SIZE,
    hash_children,
    hash_leaf,
    hash_leaves,
)
from tests.ledger.helpers import vectors

REF = vectors("rfc6962_reference_tree")


@pytest.mark.parametrize("vector", REF["hasher_vectors"], ids=lambda v: v["desc"])
def test_hasher_vectors(vector: dict[str, str]) -> None:
    if vector["fn"] == "EmptyRoot":
        got = EMPTY_ROOT
    elif vector["fn"] == "HashLeaf":
        got = hash_leaf(bytes.fromhex(vector["input_hex"]))
    else:
        got = hash_children(bytes.fromhex(vector["left_hex"]), bytes.fromhex(vector["right_hex"]))
    assert got.hex() == vector["want"]


def test_reference_tree_leaf_and_node_hashes() -> None:
    leaves = [bytes.fromhex(x) for x in REF["leaves_hex"]]
    assert [h.hex() for h in hash_leaves(leaves)] == REF["leaf_hashes_hex"]
    levels = REF["node_hashes_by_level_hex"]
    for lower, upper in itertools.pairwise(levels):
        pairs = zip(lower[0::2], lower[1::2], strict=True)
        assert [hash_children(bytes.fromhex(a), bytes.fromhex(b)).hex() for a, b in pairs] == upper


@given(st.binary(max_size=300))
def test_leaf_hash_is_prefixed_sha256(data: bytes) -> None:
    assert hash_leaf(data) == hashlib.sha256(b"\x00" + data).digest()
    assert len(hash_leaf(data)) == HASH_SIZE
    # Domain separation: a leaf never hashes like the node made of the same bytes.
    if len(data) >= 2:
        assert hash_leaf(data) != hash_children(data[:1], data[1:])


@given(st.lists(st.binary(max_size=40), max_size=20))
def test_hash_leaves_is_hash_leaf_of_each(batch: list[bytes]) -> None:
    assert hash_leaves(batch) == [hash_leaf(e) for e in batch]
