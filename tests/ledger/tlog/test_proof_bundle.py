from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.ledger.tlog.checkpoint import Checkpoint, sign_checkpoint
from smartcustoms.ledger.tlog.compact import CompactRange
from smartcustoms.ledger.tlog.cosignature import cosign, parse_witness_signer_key
from smartcustoms.ledger.tlog.errors import (
    InvalidArgument,
    MalformedBundle,
    MalformedKey,
    ProofError,
    QuorumNotMet,
    SignatureError,
    TlogError,
    UnknownKey,
    VerificationError,
)
from smartcustoms.ledger.tlog.keys import Ed25519Signer, parse_signer_key
from smartcustoms.ledger.tlog.memory import MemoryHashStore
from smartcustoms.ledger.tlog.proof import inclusion_proof
from smartcustoms.ledger.tlog.proof_bundle import (
    ProofBundle,
    format_bundle,
    parse_bundle,
    verify_bundle,
)
from smartcustoms.ledger.tlog.rfc6962 import hash_leaf, hash_leaves
from tests.ledger.helpers import entries, vectors

D = vectors("c2sp_derived_checkpoint_cosignature_witness_vectors")
TP = D["tlog_proof"]
TEXT = TP["text"]
LOG_VKEY = D["log"]["vkey"]
WITNESS_VKEYS = [w["vkey_cosignature_v1"] for w in D["witnesses"]]
ENTRY = bytes.fromhex(TP["leaf_hex"])


def test_derived_bundle_verifies_with_quorum_two() -> None:
    r = verify_bundle(TEXT, LOG_VKEY, WITNESS_VKEYS, 2, entry=ENTRY)
    assert (r.index, r.checkpoint.size) == (5, 8)
    assert r.leaf_hash.hex() == TP["leaf_hash_hex"]
    assert r.witnesses == ("witness.customs-a.example/w1", "witness.customs-b.example/w1")
    assert [c.timestamp for c in r.cosigners] == [1767225600, 1767225601]
    assert r.log_key == "customs.example/ledger-test-v1+51902bf8"
    assert (
        verify_bundle(TEXT, LOG_VKEY, leaf_hash=bytes.fromhex(TP["leaf_hash_hex"])).cosigners == ()
    )


def test_parse_and_format_round_trip() -> None:
    b = parse_bundle(TEXT)
    assert b.index == 5
    assert len(b.proof) == 3
    assert b.checkpoint.startswith("customs.example/ledger-test-v1\n8\n")
    assert format_bundle(b) == TEXT
    with_extra = ProofBundle(b.index, b.proof, b.checkpoint, b"application data")
    text = format_bundle(with_extra)
    assert text.splitlines()[1] == "extra YXBwbGljYXRpb24gZGF0YQ=="
    assert parse_bundle(text) == with_extra
    assert verify_bundle(text, LOG_VKEY, entry=ENTRY).extra == b"application data"


def test_failures_are_named() -> None:
    with pytest.raises(ProofError, match="inclusion proof of leaf 5 in tree 8"):
        verify_bundle(TEXT, LOG_VKEY, entry=b"another entry")
    with pytest.raises(ProofError, match="leaf index 9 is not below tree size 8"):
        verify_bundle(TEXT.replace("index 5", "index 9"), LOG_VKEY, entry=ENTRY)
    with pytest.raises(QuorumNotMet, match="1 trusted witnesses cosigned") as exc:
        verify_bundle(_drop_line(TEXT, -1), LOG_VKEY, WITNESS_VKEYS, 2, entry=ENTRY)
    assert exc.value.details[0]["missing"] == ["witness.customs-b.example/w1"]
    other_log = Ed25519Signer("customs.example/ledger-test-v1", b"\x05" * 32)
    with pytest.raises(UnknownKey, match=r"not signed by the log key|no verifiable"):
        verify_bundle(TEXT, other_log.verifier(), entry=ENTRY)
    tampered_cosig = TEXT.replace("BZqL4AAAAABpVbkA", "BZqL4AAAAABpVbkB")
    with pytest.raises(SignatureError, match=r"witness\.customs-a\.example/w1"):
        verify_bundle(tampered_cosig, LOG_VKEY, WITNESS_VKEYS, 1, entry=ENTRY)
    with pytest.raises(VerificationError, match="origin"):
        verify_bundle(TEXT, LOG_VKEY, entry=ENTRY, origin="customs.example/elsewhere")
    with pytest.raises(MalformedKey):
        verify_bundle(TEXT, "not a key", entry=ENTRY)
    with pytest.raises(MalformedKey, match="want 0x04"):
        verify_bundle(TEXT, LOG_VKEY, [LOG_VKEY], entry=ENTRY)
    with pytest.raises(InvalidArgument, match="quorum"):
        verify_bundle(TEXT, LOG_VKEY, WITNESS_VKEYS, 3, entry=ENTRY)
    with pytest.raises(InvalidArgument, match="exactly one"):
        verify_bundle(TEXT, LOG_VKEY)
    with pytest.raises(InvalidArgument, match="exactly one"):
        verify_bundle(TEXT, LOG_VKEY, entry=ENTRY, leaf_hash=hash_leaf(ENTRY))


def _drop_line(text: str, n: int) -> str:
    lines = text.splitlines(True)
    del lines[n]
    return "".join(lines)


LINES = TEXT.split("\n")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (TEXT.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"), "line 1"),
        (TEXT.replace("index 5", "index 05"), "line 2"),
        (TEXT.replace("index 5", "index -5"), "line 2"),
        (TEXT.replace("index 5", "index  5"), "line 2"),
        (TEXT.replace("index 5", "idx 5"), "line 2 is not 'index <n>'"),
        (TEXT.replace("index 5\n", "extra \nindex 5\n"), "line 2: extra data is empty"),
        (TEXT.replace("index 5\n", "extra !!\nindex 5\n"), "line 2: extra data is not"),
        (TEXT.replace("index 5\n", "index 5\nextra AAAA\n"), "line 3: proof hash"),
        (TEXT.replace(LINES[2], LINES[2][:-4]), "line 3: proof hash is 30 bytes"),
        (TEXT.replace(LINES[3], LINES[3].lower()), "line 4"),
        (TEXT.replace("\n\n", "\n", 1), "no empty line|line 6"),
        (TEXT.replace("\n\n", "\n\n\n", 1), "checkpoint"),
        (TEXT.replace("\n8\n", "\n08\n"), "checkpoint \\(from line 7\\): checkpoint line 2"),
        (TEXT[:-1], "checkpoint"),
        (TEXT.replace("— customs", "- customs"), "checkpoint"),
        ("c2sp.org/tlog-proof@v1\nindex 0\n" + "\n".join(["AAAA" * 11] * 65) + "\n\nx", "65"),
        (b"\xff" + TEXT.encode(), "UTF-8"),
        ("", "no empty line"),
    ],
)
def test_malformed_bundles(text: str | bytes, why: str) -> None:
    with pytest.raises(MalformedBundle, match=why):
        parse_bundle(text)
    with pytest.raises(MalformedBundle):
        verify_bundle(text, LOG_VKEY, entry=ENTRY)


def test_generated_bundles_for_every_entry_of_a_cosigned_log() -> None:
    log = parse_signer_key(D["log"]["private_key_go_format"])
    witnesses = [
        parse_witness_signer_key(w["private_key_go_format_for_NewSignerForCosignatureV1"])
        for w in D["witnesses"]
    ]
    data = entries(21)
    store = MemoryHashStore()
    cr = CompactRange()
    store.add(cr.append(hash_leaves(data)))
    cp = Checkpoint(log.name, cr.size, cr.root())
    signed = sign_checkpoint(cp, log)
    body = signed[: signed.index("\n\n") + 1]
    signed += "".join(cosign(body, w, 1_800_000_000) for w in witnesses)
    for i, entry in enumerate(data):
        text = format_bundle(ProofBundle(i, tuple(inclusion_proof(i, cr.size, store)), signed))
        r = verify_bundle(text, LOG_VKEY, WITNESS_VKEYS, 2, entry=entry)
        assert r.index == i
        with pytest.raises(ProofError):
            verify_bundle(text, LOG_VKEY, WITNESS_VKEYS, 2, entry=data[(i + 1) % len(data)])


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(TEXT.encode()) - 1), st.integers(1, 255))
def test_any_byte_change_is_rejected_with_a_typed_error(pos: int, delta: int) -> None:
    raw = bytearray(TEXT.encode())
    raw[pos] = (raw[pos] + delta) % 256
    with pytest.raises(TlogError):
        verify_bundle(bytes(raw), LOG_VKEY, WITNESS_VKEYS, 2, entry=ENTRY)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=400), st.text(max_size=400)))
def test_garbage_raises_only_typed_errors(text: bytes | str) -> None:
    with pytest.raises(TlogError):
        verify_bundle(text, LOG_VKEY, WITNESS_VKEYS, 1, entry=ENTRY)
