"""This instance as a C2SP tlog-witness: the spec's checks, in the spec's order, with its
statuses; request bodies from the derived vectors (tests/ledger/data/README.md)."""

from __future__ import annotations

import base64

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.ledger.errors import (
    PRODUCT_ERRORS,
    InvalidArgument,
    MalformedError,
    MalformedKey,
    ProofError,
    UnknownLog,
    UntrustedCheckpoint,
    WitnessConflict,
)
from smartcustoms.ledger.service import Ledger
from smartcustoms.ledger.tlog.checkpoint import Checkpoint, sign_checkpoint
from smartcustoms.ledger.tlog.compact import CompactRange
from smartcustoms.ledger.tlog.cosignature import verify_cosignature_line
from smartcustoms.ledger.tlog.keys import Ed25519Signer, parse_signer_key
from smartcustoms.ledger.tlog.memory import MemoryHashStore
from smartcustoms.ledger.tlog.note import parse_note
from smartcustoms.ledger.tlog.proof import consistency_proof
from smartcustoms.ledger.tlog.rfc6962 import hash_leaves
from smartcustoms.ledger.witness import add_log, list_logs
from tests.ledger.helpers import vectors

D = vectors("c2sp_derived_checkpoint_cosignature_witness_vectors")
REQ = D["tlog_witness_add_checkpoint"]
LOG = parse_signer_key(D["log"]["private_key_go_format"])
ORIGIN = D["log"]["origin"]
LEAVES = [bytes.fromhex(h) for h in D["tree_leaves_hex"]]


def grown(extra: int) -> tuple[CompactRange, MemoryHashStore]:
    """The vectors' 8-leaf tree grown by ``extra`` leaves, with every hash stored."""
    tree, store = CompactRange(), MemoryHashStore()
    store.add(tree.append(hash_leaves([*LEAVES, *(b"more %d" % i for i in range(extra))])))
    return tree, store


def request(old: int, proof: list[bytes], note: str) -> bytes:
    lines = "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    return f"old {old}\n{lines}\n{note}".encode()


def signed(size: int, root: bytes, signer: Ed25519Signer = LOG, origin: str = ORIGIN) -> str:
    return sign_checkpoint(Checkpoint(origin, size, root), signer)


@pytest.fixture
def witness(lctx: AppContext, ledger: Ledger) -> Ledger:
    with lctx.db.writer.begin() as conn:
        add_log(conn, D["log"]["vkey"])
    return ledger


@pytest.fixture
def at_size_8(witness: Ledger) -> Ledger:
    witness.witness_add_checkpoint(REQ["first_request_body_old0"].encode())
    witness.witness_add_checkpoint(REQ["request_body_old4_to_8"].encode())
    return witness


def test_the_vector_requests_are_cosigned_in_turn(witness: Ledger, lctx: AppContext) -> None:
    key = witness.witness_signer().verifier()
    for body, size in ((REQ["first_request_body_old0"], 4), (REQ["request_body_old4_to_8"], 8)):
        line = witness.witness_add_checkpoint(body.encode())
        checkpoint_body = parse_note(body.split("\n\n", 1)[1]).text
        assert verify_cosignature_line(checkpoint_body, line, key) > 1_700_000_000
        with lctx.db.engine.connect() as conn:
            (state,) = list_logs(conn)
        assert (state.origin, state.size) == (ORIGIN, size)
    # Its proof is the one the vectors give.
    assert (
        base64.b64decode(REQ["request_body_old4_to_8"].split("\n")[1]).hex()
        == (REQ["consistency_proof_4_to_8_hex"][0])
    )


def test_the_same_checkpoint_again_is_cosigned_again(at_size_8: Ledger) -> None:
    note = REQ["request_body_old4_to_8"].split("\n\n", 1)[1]
    assert at_size_8.witness_add_checkpoint(request(8, [], note)).startswith("— ")


def test_a_consistent_bigger_checkpoint_is_cosigned(at_size_8: Ledger) -> None:
    tree, store = grown(5)
    proof = consistency_proof(8, 13, store)
    assert at_size_8.witness_add_checkpoint(request(8, proof, signed(13, tree.root())))


def test_a_stale_old_size_is_answered_with_the_witness_size(at_size_8: Ledger) -> None:
    tree, store = grown(2)
    for old in (0, 4, 7):
        proof = consistency_proof(old, 10, store) if old else []
        with pytest.raises(WitnessConflict) as err:
            at_size_8.witness_add_checkpoint(request(old, proof, signed(10, tree.root())))
        assert (err.value.status_code, err.value.size) == (409, 8)


def test_a_split_view_at_the_same_size_is_refused_and_kept_as_evidence(
    at_size_8: Ledger,
) -> None:
    other_root = grown(0)[0].root()[::-1]
    with pytest.raises(WitnessConflict, match="split view") as err:
        at_size_8.witness_add_checkpoint(request(8, [], signed(8, other_root)))
    assert (err.value.status_code, err.value.size) == (409, None)
    evidence = at_size_8.record(at_size_8.size() - 1)
    assert evidence["type"] == "ledger.witness_conflict" and evidence["origin"] == ORIGIN
    assert base64.b64encode(other_root).decode() in str(evidence["offered"])


def test_an_inconsistent_bigger_checkpoint_is_refused(at_size_8: Ledger) -> None:
    tree, store = grown(4)
    proof = consistency_proof(8, 12, store)
    forked = grown(5)[0].root()  # signed by the log, but not an extension of what was cosigned
    with pytest.raises(ProofError) as err:
        at_size_8.witness_add_checkpoint(request(8, proof, signed(12, forked)))
    assert err.value.status_code == 422
    bad_proof = [proof[0][::-1], *proof[1:]]
    with pytest.raises(ProofError):
        at_size_8.witness_add_checkpoint(request(8, bad_proof, signed(12, tree.root())))


def test_unknown_origins_and_untrusted_keys_are_refused(witness: Ledger) -> None:
    stranger = Ed25519Signer.generate("partner.example/other-log")
    with pytest.raises(UnknownLog) as err:
        witness.witness_add_checkpoint(
            request(0, [], signed(1, b"\x01" * 32, stranger, "partner.example/other-log"))
        )
    assert err.value.status_code == 404
    impostor = Ed25519Signer.generate(ORIGIN)  # the right name, another key
    with pytest.raises(UntrustedCheckpoint) as err403:
        witness.witness_add_checkpoint(request(0, [], signed(4, b"\x01" * 32, impostor)))
    assert err403.value.status_code == 403
    altered = D["negative"][1]["note"]  # the size line changed after signing
    with pytest.raises(UntrustedCheckpoint):
        witness.witness_add_checkpoint(request(0, [], altered))


MALFORMED = [
    (b"", "no empty line"),
    (b"old 0\n", "no empty line"),
    (b"new 0\n\nx", "old <size>"),
    (b"old 01\n\nx", "leading zeros"),
    (b"old -1\n\nx", "leading zeros"),
    (b"old 0\nnot base64!\n\nx", "line 2"),
    (b"old 0\nAAAA\n\nx", "3 bytes"),
    (b"old 0\n" + b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" * 64 + b"\nx", "64 proof"),
    (b"old 0\n\n\xff\xfe", "UTF-8"),
    (b"old 0\n\nnot a checkpoint\n\n\xe2\x80\x94 x AAAA\n", "checkpoint"),
]


def test_malformed_requests_are_bad_requests(witness: Ledger) -> None:
    for body, why in MALFORMED:
        with pytest.raises(MalformedError, match=why) as err:
            witness.witness_add_checkpoint(body)
        assert err.value.status_code == 400


def test_impossible_old_sizes_are_bad_requests(witness: Ledger) -> None:
    tree = grown(0)[0]
    with pytest.raises(InvalidArgument, match="above the checkpoint") as err:
        witness.witness_add_checkpoint(request(9, [], signed(8, tree.root())))
    assert err.value.status_code == 400
    with pytest.raises(InvalidArgument, match="no proof"):
        witness.witness_add_checkpoint(request(0, [b"\x00" * 32], signed(8, tree.root())))


def test_adding_logs_checks_the_key_and_keeps_the_state(lctx: AppContext, witness: Ledger) -> None:
    witness.witness_add_checkpoint(REQ["first_request_body_old0"].encode())
    rotated = Ed25519Signer.generate(ORIGIN).verifier().key_string()
    with lctx.db.writer.begin() as conn:
        state = add_log(conn, rotated)
    assert state.size == 4 and len(state.vkeys) == 2
    for bad in (
        "",
        "no-key-here",
        D["log"]["vkey"][:-4] + "AAAA",
        D["witnesses"][0]["vkey_cosignature_v1"],
    ):
        with lctx.db.writer.begin() as conn, pytest.raises(MalformedKey):
            add_log(conn, bad)


def test_every_refusal_is_a_typed_error(witness: Ledger) -> None:
    """Random damage to a valid request never escapes as anything but our errors."""
    body = REQ["first_request_body_old0"].encode()
    statuses = []
    for offset in range(len(body)):
        damaged = bytearray(body)
        damaged[offset] ^= 0x20
        try:
            witness.witness_add_checkpoint(bytes(damaged))
        except PRODUCT_ERRORS as exc:
            statuses.append(exc.status_code)
        else:
            statuses.append(200)
    assert len(statuses) == len(body)
    assert set(statuses) <= {400, 403, 404}, statuses  # nothing damaged is ever cosigned
