from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.ledger.tlog.compact import CompactRange, HashRun
from smartcustoms.ledger.tlog.errors import InvalidArgument, MissingHash
from smartcustoms.ledger.tlog.memory import MemoryHashStore
from smartcustoms.ledger.tlog.proof import subtree_ids
from smartcustoms.ledger.tlog.rfc6962 import hash_leaves
from tests.ledger.helpers import entries, mth


def test_store_checks_order_and_ranges() -> None:
    store = MemoryHashStore()
    cr = CompactRange()
    runs = cr.append(hash_leaves(entries(4)))
    with pytest.raises(InvalidArgument, match="runs must be stored in order"):
        store.add([HashRun(0, 1, runs[0].hashes)])
    store.add(runs)
    assert store.read_range(0, 1, 2) == b"".join(runs[0].hashes[1:3])
    for level, start, count in ((0, 3, 2), (5, 0, 1), (0, -1, 1), (0, 0, 0)):
        with pytest.raises(MissingHash):
            store.read_range(level, start, count)
    with pytest.raises(MissingHash, match=r"level 0, index 4"):
        store([(0, 4)])
    with pytest.raises(MissingHash):
        store([(-1, 0)])
    assert store.count(9) == 0


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 600), st.data())
def test_every_stored_node_is_the_mth_of_its_leaves(size: int, data: st.DataObject) -> None:
    leaves = entries(size, seed=7)
    store = MemoryHashStore()
    store.add(CompactRange().append(hash_leaves(leaves)))
    level = data.draw(st.integers(0, size.bit_length() - 1))
    index = data.draw(st.integers(0, (size >> level) - 1))
    (got,) = store([(level, index)])
    assert got == mth(leaves[index << level : (index + 1) << level])
    assert subtree_ids(index << level, (index + 1) << level) == ((level, index),)
