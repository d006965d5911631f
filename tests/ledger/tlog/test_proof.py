from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.ledger.tlog.compact import CompactRange
from smartcustoms.ledger.tlog.errors import InvalidArgument, MissingHash
from smartcustoms.ledger.tlog.memory import MemoryHashStore
from smartcustoms.ledger.tlog.proof import (
    NodeID,
    consistency_proof,
    consistency_proof_ids,
    inclusion_proof,
    inclusion_proof_ids,
    root_hash,
    root_ids,
    subtree_ids,
)
from smartcustoms.ledger.tlog.rfc6962 import EMPTY_ROOT, hash_leaves
from smartcustoms.ledger.tlog.verify import verify_consistency, verify_inclusion
from tests.ledger.helpers import entries, mth, path, subproof, vectors

REF = vectors("rfc6962_reference_tree")
REF_LEAVES = [bytes.fromhex(x) for x in REF["leaves_hex"]]


def build(leaves: list[bytes]) -> MemoryHashStore:
    store = MemoryHashStore()
    cr = CompactRange()
    store.add(cr.append(hash_leaves(leaves)))
    return store


REF_STORE = build(REF_LEAVES)


class CountingReader:
    """Wraps a reader and records each batch it is asked for."""

    def __init__(self, inner: MemoryHashStore) -> None:
        self.inner = inner
        self.calls: list[list[NodeID]] = []

    def __call__(self, ids: Sequence[NodeID], /) -> list[bytes]:
        self.calls.append(list(ids))
        return self.inner(ids)


@pytest.mark.parametrize("size", range(9))
def test_roots_of_reference_tree(size: int) -> None:
    assert root_hash(size, REF_STORE).hex() == REF["roots_by_tree_size_hex"][str(size)]


@pytest.mark.parametrize(
    "item",
    REF["derived_all_inclusion_proofs"]["items"] + REF["upstream_inclusion_proofs"],
    ids=lambda i: f"{i['leaf_index']}-in-{i['tree_size']}",
)
def test_inclusion_proofs_of_reference_tree(item: dict[str, object]) -> None:
    got = inclusion_proof(int(item["leaf_index"]), int(item["tree_size"]), REF_STORE)  # type: ignore[call-overload]
    assert [h.hex() for h in got] == item["proof_hex"]


@pytest.mark.parametrize(
    "item",
    REF["derived_all_consistency_proofs"]["items"] + REF["upstream_consistency_proofs"],
    ids=lambda i: f"{i['size1']}-to-{i['size2']}",
)
def test_consistency_proofs_of_reference_tree(item: dict[str, object]) -> None:
    got = consistency_proof(int(item["size1"]), int(item["size2"]), REF_STORE)  # type: ignore[call-overload]
    assert [h.hex() for h in got] == item["proof_hex"]


def test_empty_tree_root_reads_nothing() -> None:
    reader = CountingReader(REF_STORE)
    assert root_hash(0, reader) == EMPTY_ROOT
    assert reader.calls == []
    assert root_ids(0) == []


def test_subtree_ids_tile_the_range() -> None:
    assert subtree_ids(0, 13) == ((3, 0), (2, 2), (0, 12))
    assert subtree_ids(8, 13) == ((2, 2), (0, 12))
    assert subtree_ids(5, 5) == ()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_proofs_match_rfc_definitions_and_read_once(size: int, data: st.DataObject) -> None:
    leaves = entries(size, seed=size)
    reader = CountingReader(build(leaves))
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(1, size))

    assert root_hash(size, reader) == mth(leaves)
    assert reader.calls == [root_ids(size)]
    reader.calls.clear()
    proof = inclusion_proof(index, size, reader)
    assert proof == path(index, leaves)
    ids = inclusion_proof_ids(index, size)
    assert reader.calls == ([ids] if ids else [])  # storage is asked once, for exactly these
    reader.calls.clear()
    cons = consistency_proof(old, size, reader)
    assert cons == subproof(old, leaves, True)
    ids = consistency_proof_ids(old, size)
    assert reader.calls == ([ids] if ids else [])

    verify_inclusion(hash_leaves([leaves[index]])[0], index, size, proof, mth(leaves))
    verify_consistency(old, size, cons, mth(leaves[:old]), mth(leaves))


def test_proof_ids_name_only_perfect_subtrees_inside_the_tree() -> None:
    size = 1_000_003
    for ids in (inclusion_proof_ids(123_456, size), consistency_proof_ids(777_777, size)):
        assert ids
        for level, index in ids:
            assert (index + 1) << level <= size
    # A proof in a tree of 2**k leaves is exactly one hash per level.
    assert len(inclusion_proof_ids(5, 1 << 20)) == 20


@pytest.mark.parametrize(
    ("call", "args"),
    [
        (inclusion_proof, (8, 8)),
        (inclusion_proof, (-1, 8)),
        (inclusion_proof, (0, 0)),
        (consistency_proof, (0, 8)),
        (consistency_proof, (9, 8)),
        (consistency_proof, (-3, 8)),
        (root_hash, (-1,)),
        (root_hash, (True,)),
    ],
)
def test_preconditions_raise_invalid_argument(call: object, args: tuple[int, ...]) -> None:
    with pytest.raises(InvalidArgument):
        call(*args, REF_STORE)  # type: ignore[operator]


def test_missing_or_bad_hashes_raise_missing_hash() -> None:
    with pytest.raises(MissingHash, match="no stored hash"):
        inclusion_proof(3, 9, REF_STORE)  # leaf 8 was never stored
    with pytest.raises(MissingHash, match="returned 1 hashes, want 3"):
        inclusion_proof(0, 8, lambda ids: [b"\x00" * 32])
    with pytest.raises(MissingHash, match="want 32 bytes"):
        inclusion_proof(0, 8, lambda ids: [b"short"] * len(ids))
    with pytest.raises(MissingHash, match="want 32 bytes"):
        root_hash(3, lambda ids: ["not bytes"] * len(ids))  # type: ignore[arg-type]
