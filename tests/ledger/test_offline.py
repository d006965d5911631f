"""`verify` needs nothing but the bundle and keys, and anything wrong with either is named."""

from __future__ import annotations

import pytest

from smartcustoms.ledger.errors import (
    PRODUCT_ERRORS,
    InvalidArgument,
    MalformedBundle,
    MalformedKey,
    ProofError,
    QuorumNotMet,
    SignatureError,
    UnknownKey,
)
from smartcustoms.ledger.service import Ledger
from smartcustoms.ledger.tlog.cosignature import CosignatureSigner
from smartcustoms.ledger.tlog.keys import Ed25519Signer
from smartcustoms.ledger.tlog.offline import check_bundle
from smartcustoms.ledger.tlog.proof_bundle import parse_bundle
from tests.ledger.helpers import vectors
from tests.ledger.stored import fill, sql

D = vectors("c2sp_derived_checkpoint_cosignature_witness_vectors")


@pytest.fixture
def bundle(ledger: Ledger) -> str:
    fill(ledger, 40)
    return ledger.proof_bundle(17)


def test_a_bundle_verifies_with_the_log_key_alone(ledger: Ledger, bundle: str) -> None:
    checked = check_bundle(bundle, ledger.vkey())
    assert checked.verification.index == 17 and checked.verification.checkpoint.size == 40
    assert checked.record == {"type": "test.entry", "v": 1, "n": 17, "note": "record 17"}
    assert checked.entry == ledger.entry(17)


def test_the_vector_bundle_verifies_for_its_entry() -> None:
    proof = D["tlog_proof"]
    keys = [w["vkey_cosignature_v1"] for w in D["witnesses"]]
    with pytest.raises(InvalidArgument, match="does not carry its entry"):
        check_bundle(proof["text"], D["log"]["vkey"], keys)
    checked = check_bundle(
        proof["text"], D["log"]["vkey"], keys, entry=bytes.fromhex(proof["leaf_hex"])
    )
    assert checked.record is None and checked.verification.index == 5
    with pytest.raises(ProofError):
        check_bundle(proof["text"], D["log"]["vkey"], keys, entry=b"another entry")


def test_every_changed_byte_of_a_bundle_is_refused(ledger: Ledger, bundle: str) -> None:
    vkey = ledger.vkey()
    kinds = set()
    for offset in range(len(bundle)):
        if bundle[offset] == "\n":
            continue
        changed = bundle[:offset] + ("B" if bundle[offset] == "A" else "A") + bundle[offset + 1 :]
        with pytest.raises(PRODUCT_ERRORS) as err:
            check_bundle(changed, vkey)
        kinds.add(type(err.value).__name__)
    assert {"MalformedBundle", "ProofError", "SignatureError"} <= kinds, kinds


def test_wrong_or_malformed_keys_are_named(ledger: Ledger, bundle: str) -> None:
    vkey = ledger.vkey()
    name, key_id, data = vkey.split("+", 2)
    for bad in ("", "garbage", f"{name}+{key_id}+{data[:-2]}AA", f"{name}+00000000+{data}"):
        with pytest.raises(MalformedKey):
            check_bundle(bundle, bad)
    with pytest.raises(MalformedKey, match="type is 0x04"):
        check_bundle(bundle, D["witnesses"][0]["vkey_cosignature_v1"])
    other = Ed25519Signer.generate(ledger.origin).verifier().key_string()
    with pytest.raises(UnknownKey):
        check_bundle(bundle, other)


def test_witness_quorum_is_enforced(ledger: Ledger, bundle: str) -> None:
    witness = CosignatureSigner.generate("witness.example/w1").verifier().key_string()
    with pytest.raises(QuorumNotMet, match="want at least 1"):
        check_bundle(bundle, ledger.vkey(), [witness])
    assert check_bundle(bundle, ledger.vkey(), [witness], quorum=0).verification.index == 17


def test_proofs_from_tampered_storage_do_not_verify(ledger: Ledger, bundle: str) -> None:
    """Change one byte of the stored entry, of a hash its proof reads, of its checkpoint, or of
    the stored key: the bundle served from that storage fails verification, naming why."""
    vkey = ledger.vkey()
    ledger.stop()
    db = ledger.db
    row = bytearray(sql(db, "SELECT data FROM ledger_tail_entries WHERE idx = 17")[0][0])
    row[3] ^= 1
    sql(db, "UPDATE ledger_tail_entries SET data = :d WHERE idx = 17", d=bytes(row))
    with pytest.raises(ProofError, match="inclusion proof of leaf 17"):
        check_bundle(ledger.proof_bundle(17), vkey)
    row[3] ^= 1
    sql(db, "UPDATE ledger_tail_entries SET data = :d WHERE idx = 17", d=bytes(row))

    hashes = bytearray(sql(db, "SELECT data FROM ledger_hashes WHERE level = 0")[0][0])
    hashes[16 * 32] ^= 1  # leaf 16: the sibling of leaf 17, the proof's first hash
    sql(db, "UPDATE ledger_hashes SET data = :d WHERE level = 0", d=bytes(hashes))
    with pytest.raises(ProofError):
        check_bundle(ledger.proof_bundle(17), vkey)
    hashes[16 * 32] ^= 1
    sql(db, "UPDATE ledger_hashes SET data = :d WHERE level = 0", d=bytes(hashes))
    assert check_bundle(ledger.proof_bundle(17), vkey).verification.index == 17

    note = sql(db, "SELECT note FROM ledger_checkpoints WHERE size = 40")[0][0]
    lines = note.split("\n")
    lines[1] = "41"
    sql(db, "UPDATE ledger_checkpoints SET note = :n WHERE size = 40", n="\n".join(lines))
    with pytest.raises(SignatureError):
        check_bundle(ledger.proof_bundle(17), vkey)
    with pytest.raises(MalformedKey):
        check_bundle(bundle, vkey[:-5] + ("A" if vkey[-5] != "A" else "B") + vkey[-4:])


@pytest.mark.parametrize(
    "text",
    ["", "c2sp.org/tlog-proof@v1\n", "c2sp.org/tlog-proof@v2\nindex 1\n\nx", "\x00" * 100],
)
def test_malformed_bundles_are_typed_errors(text: str) -> None:
    with pytest.raises(MalformedBundle):
        check_bundle(text, D["log"]["vkey"])
    with pytest.raises(MalformedBundle):
        parse_bundle(text.encode())
