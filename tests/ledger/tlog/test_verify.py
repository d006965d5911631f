from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.ledger.tlog.compact import CompactRange
from smartcustoms.ledger.tlog.errors import ProofError
from smartcustoms.ledger.tlog.memory import MemoryHashStore
from smartcustoms.ledger.tlog.proof import consistency_proof, inclusion_proof
from smartcustoms.ledger.tlog.rfc6962 import hash_leaves
from smartcustoms.ledger.tlog.verify import (
    expected_consistency_proof_size,
    expected_inclusion_proof_size,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from tests.ledger.helpers import b64, entries, vectors

INCLUSION = vectors("transparency-dev-merkle_inclusion_probes")["items"]
CONSISTENCY = vectors("transparency-dev-merkle_consistency_probes")["items"]
REF = vectors("rfc6962_reference_tree")


def _proof(p: list[str] | None) -> list[bytes]:
    return [b64(x) for x in p or []]


def inclusion_accepts(item: dict[str, Any]) -> bool:
    try:
        verify_inclusion(
            b64(item["leafHash"]),
            item["leafIdx"],
            item["treeSize"],
            _proof(item["proof"]),
            b64(item["root"]),
        )
    except ProofError:
        return False
    return True


def consistency_accepts(item: dict[str, Any]) -> bool:
    try:
        verify_consistency(
            item["size1"],
            item["size2"],
            _proof(item["proof"]),
            b64(item["root1"]),
            b64(item["root2"]),
        )
    except ProofError:
        return False
    return True


@pytest.mark.parametrize("item", INCLUSION, ids=lambda i: i["file"])
def test_inclusion_probe(item: dict[str, Any]) -> None:
    assert inclusion_accepts(item) is not item["wantErr"]


@pytest.mark.parametrize("item", CONSISTENCY, ids=lambda i: i["file"])
def test_consistency_probe(item: dict[str, Any]) -> None:
    assert consistency_accepts(item) is not item["wantErr"]


def test_probe_totals() -> None:
    assert len(INCLUSION) + len(CONSISTENCY) == 196
    rejected = sum(not inclusion_accepts(i) for i in INCLUSION)
    rejected += sum(not consistency_accepts(i) for i in CONSISTENCY)
    assert rejected == 184


def test_upstream_proofs_verify() -> None:
    for item in REF["upstream_inclusion_proofs"]:
        verify_inclusion(
            bytes.fromhex(item["leaf_hash_hex"]),
            item["leaf_index"],
            item["tree_size"],
            [bytes.fromhex(h) for h in item["proof_hex"]],
            bytes.fromhex(item["root_hex"]),
        )
    for item in REF["upstream_consistency_proofs"]:
        verify_consistency(
            item["size1"],
            item["size2"],
            [bytes.fromhex(h) for h in item["proof_hex"]],
            bytes.fromhex(item["root1_hex"]),
            bytes.fromhex(item["root2_hex"]),
        )


def test_messages_say_got_and_want() -> None:
    item = REF["upstream_inclusion_proofs"][2]  # leaf 5 of 8
    leaf = bytes.fromhex(item["leaf_hash_hex"])
    proof = [bytes.fromhex(h) for h in item["proof_hex"]]
    root = bytes.fromhex(item["root_hex"])
    with pytest.raises(ProofError, match="proof has 2 hashes, want 3"):
        verify_inclusion(leaf, 5, 8, proof[:2], root)
    with pytest.raises(ProofError, match=r"proof\[1\] is 31 bytes, want 32"):
        verify_inclusion(leaf, 5, 8, [proof[0], proof[1][:31], proof[2]], root)
    with pytest.raises(ProofError, match=f"want {'00' * 32}"):
        verify_inclusion(leaf, 5, 8, proof, b"\x00" * 32)
    with pytest.raises(ProofError, match="leaf index 8 is not below tree size 8"):
        verify_inclusion(leaf, 8, 8, proof, root)
    with pytest.raises(ProofError, match="old size 9 is above new size 8"):
        verify_consistency(9, 8, [], root, root)
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 8, [], root, root)


# A tree big enough for every proof shape (several levels, ragged right edge).
SIZE = 77
LEAVES = hash_leaves(entries(SIZE))
STORE = MemoryHashStore()
_cr = CompactRange()
STORE.add(_cr.append(LEAVES))
ROOTS = [CompactRange().root()]
_acc = CompactRange()
for _h in LEAVES:
    _acc.append([_h])
    ROOTS.append(_acc.root())


def _flip(data: bytes, bit: int) -> bytes:
    b = bytearray(data)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, SIZE), st.data())
def test_generated_inclusion_proofs_verify_and_any_bit_flip_fails(
    size: int, data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(index, size, STORE)
    assert len(proof) == expected_inclusion_proof_size(index, size)
    verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])
    assert root_from_inclusion_proof(LEAVES[index], index, size, proof) == ROOTS[size]

    bit = data.draw(st.integers(0, 255))
    with pytest.raises(ProofError):
        verify_inclusion(_flip(LEAVES[index], bit), index, size, proof, ROOTS[size])
    with pytest.raises(ProofError):
        verify_inclusion(LEAVES[index], index, size, proof, _flip(ROOTS[size], bit))
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:k], _flip(proof[k], bit), *proof[k + 1 :]]
        with pytest.raises(ProofError):
            verify_inclusion(LEAVES[index], index, size, bad, ROOTS[size])
    if size > 1:
        other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
        with pytest.raises(ProofError):
            verify_inclusion(LEAVES[index], other, size, proof, ROOTS[size])


@settings(max_examples=150, deadline=None)
@given(st.integers(1, SIZE), st.data())
def test_generated_consistency_proofs_verify_and_any_bit_flip_fails(
    size: int, data: st.DataObject
) -> None:
    old = data.draw(st.integers(1, size))
    proof = consistency_proof(old, size, STORE)
    assert len(proof) == expected_consistency_proof_size(old, size)
    verify_consistency(old, size, proof, ROOTS[old], ROOTS[size])

    bit = data.draw(st.integers(0, 255))
    with pytest.raises(ProofError):
        verify_consistency(old, size, proof, _flip(ROOTS[old], bit), ROOTS[size])
    with pytest.raises(ProofError):
        verify_consistency(old, size, proof, ROOTS[old], _flip(ROOTS[size], bit))
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:k], _flip(proof[k], bit), *proof[k + 1 :]]
        with pytest.raises(ProofError):
            verify_consistency(old, size, bad, ROOTS[old], ROOTS[size])
        with pytest.raises(ProofError):
            verify_consistency(old, size, proof[:-1], ROOTS[old], ROOTS[size])
        with pytest.raises(ProofError):
            verify_consistency(old, size, [*proof, proof[0]], ROOTS[old], ROOTS[size])


_anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.binary(max_size=40),
    st.text(max_size=10),
    st.lists(st.binary(max_size=40), max_size=5),
    st.floats(),
)


@settings(max_examples=300, deadline=None)
@given(_anything, _anything, _anything, _anything, _anything)
def test_garbage_in_raises_only_proof_error(a: Any, b: Any, c: Any, d: Any, e: Any) -> None:
    with contextlib.suppress(ProofError):
        verify_inclusion(a, b, c, d, e)
    with contextlib.suppress(ProofError):
        verify_consistency(a, b, c, d, e)
