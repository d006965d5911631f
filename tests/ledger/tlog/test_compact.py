from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.ledger.tlog.compact import CompactRange, HashRun
from smartcustoms.ledger.tlog.errors import InvalidArgument
from smartcustoms.ledger.tlog.memory import MemoryHashStore
from smartcustoms.ledger.tlog.proof import root_hash, root_ids
from smartcustoms.ledger.tlog.rfc6962 import EMPTY_ROOT, hash_children, hash_leaves
from tests.ledger.helpers import entries, mth, vectors

REF = vectors("rfc6962_reference_tree")


def test_reference_roots_one_leaf_at_a_time() -> None:
    cr = CompactRange()
    assert cr.root() == EMPTY_ROOT
    for i, leaf in enumerate(REF["leaves_hex"], 1):
        cr.append(hash_leaves([bytes.fromhex(leaf)]))
        assert cr.size == i
        assert cr.root().hex() == REF["roots_by_tree_size_hex"][str(i)]


def test_runs_list_every_completed_subtree() -> None:
    cr = CompactRange()
    hashes = hash_leaves(entries(5))
    runs = cr.append(hashes)
    assert [(r.level, r.start, len(r.hashes)) for r in runs] == [(0, 0, 5), (1, 0, 2), (2, 0, 1)]
    assert runs[1].hashes[0] == hash_children(hashes[0], hashes[1])
    more = cr.append(hash_leaves(entries(3, seed=1)))
    # Leaves 5..7 complete node (1, 2), (1, 3), (2, 1) and the root subtree (3, 0).
    assert [(r.level, r.start, len(r.hashes)) for r in more] == [
        (0, 5, 3),
        (1, 2, 2),
        (2, 1, 1),
        (3, 0, 1),
    ]
    assert list(HashRun(2, 7, [b"a", b"b"]).nodes()) == [(2, 7, b"a"), (2, 8, b"b")]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(0, 70), max_size=12))
def test_any_batching_gives_the_same_tree(batches: list[int]) -> None:
    total = sum(batches)
    leaves = entries(total, seed=len(batches))
    hashes = hash_leaves(leaves)
    store = MemoryHashStore()
    cr = CompactRange()
    done = 0
    for n in batches:
        store.add(cr.append(hashes[done : done + n]))
        done += n
        assert cr.root() == mth(leaves[:done])
    # The stored runs are exactly the perfect subtrees of the final tree, and the frontier is
    # what a restarted sequencer reads back.
    for level in range(total.bit_length() + 1):
        assert store.count(level) == total >> level
    assert root_hash(total, store) == cr.root()
    again = CompactRange.from_reader(total, store)
    assert again.frontier() == cr.frontier()
    assert [node for node, _ in cr.frontier()] == root_ids(total)
    extra = hash_leaves(entries(3, seed=99))
    cr.append(extra)
    again.append(extra)
    assert again.root() == cr.root() == mth(leaves + entries(3, seed=99))


def test_empty_append_changes_nothing() -> None:
    cr = CompactRange()
    assert cr.append([]) == []
    assert cr.size == 0


@pytest.mark.parametrize("bad", [[b"short"], [b"\x00" * 32, b"\x00" * 33]])
def test_append_rejects_wrong_sized_hashes_and_keeps_state(bad: list[bytes]) -> None:
    cr = CompactRange()
    cr.append(hash_leaves([b"a"]))
    root = cr.root()
    with pytest.raises(InvalidArgument):
        cr.append(bad)
    assert (cr.size, cr.root()) == (1, root)


def test_constructor_checks_frontier() -> None:
    with pytest.raises(InvalidArgument, match="has 2 frontier hashes, got 1"):
        CompactRange(3, [b"\x00" * 32])
    with pytest.raises(InvalidArgument):
        CompactRange(1, [b"short"])
    with pytest.raises(InvalidArgument):
        CompactRange(-1)
    cr = CompactRange(2, [b"\x11" * 32])
    assert cr.root() == b"\x11" * 32
