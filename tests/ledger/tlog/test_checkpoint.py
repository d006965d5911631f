from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.ledger.tlog.checkpoint import (
    MAX_TREE_SIZE,
    Checkpoint,
    format_checkpoint,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from smartcustoms.ledger.tlog.errors import (
    MalformedCheckpoint,
    MalformedNote,
    SignatureError,
    UnknownKey,
    VerificationError,
)
from smartcustoms.ledger.tlog.keys import Ed25519Signer, parse_signer_key, parse_verifier_key
from smartcustoms.ledger.tlog.note import sign_note
from tests.ledger.helpers import vectors

D = vectors("c2sp_derived_checkpoint_cosignature_witness_vectors")
REF = vectors("rfc6962_reference_tree")
LOG = parse_signer_key(D["log"]["private_key_go_format"])
LOG_V = parse_verifier_key(D["log"]["vkey"])
ORIGIN = D["log"]["origin"]
ROOT8 = bytes.fromhex(REF["roots_by_tree_size_hex"]["8"])


def test_derived_checkpoints_parse_and_sign_exactly() -> None:
    for key, size in (("checkpoint_size4", 4), ("checkpoint_size8", 8)):
        body = D[key]["body"]
        cp = parse_checkpoint(body)
        assert cp == Checkpoint(
            ORIGIN, size, bytes.fromhex(REF["roots_by_tree_size_hex"][str(size)])
        )
        assert format_checkpoint(cp) == body
    assert (
        sign_checkpoint(parse_checkpoint(D["checkpoint_size4"]["body"]), LOG)
        == (D["checkpoint_size4"]["signed"])
    )
    assert (
        sign_checkpoint(parse_checkpoint(D["checkpoint_size8"]["body"]), LOG)
        == (D["checkpoint_size8"]["signed_by_log_only"])
    )


def test_open_checkpoint_ignores_unknown_witnesses() -> None:
    opened = open_checkpoint(D["checkpoint_size8"]["signed_with_2_cosignatures"], LOG_V)
    assert opened.checkpoint.size == 8
    assert opened.checkpoint.root_hash == ROOT8
    assert [s.name for s in opened.note.unverified] == [w["name"] for w in D["witnesses"]]


def test_open_checkpoint_requires_the_log_signature_and_origin() -> None:
    other = Ed25519Signer(ORIGIN, b"\x07" * 32)
    cp = Checkpoint(ORIGIN, 8, ROOT8)
    with pytest.raises(UnknownKey, match="not signed by the log key"):
        open_checkpoint(sign_checkpoint(cp, other), LOG_V, [other.verifier()])
    with pytest.raises(UnknownKey):
        open_checkpoint(sign_checkpoint(cp, other), LOG_V)
    wrong = Checkpoint("customs.example/other-log", 8, ROOT8)
    with pytest.raises(VerificationError, match=r"origin is 'customs\.example/other-log'") as exc:
        open_checkpoint(sign_checkpoint(wrong, LOG), LOG_V)
    assert exc.value.code == "origin_mismatch"
    assert open_checkpoint(sign_checkpoint(wrong, LOG), LOG_V, origin=wrong.origin)
    with pytest.raises(SignatureError):
        open_checkpoint(D["negative"][1]["note"], LOG_V)  # size changed after signing
    with pytest.raises(MalformedCheckpoint):
        open_checkpoint(sign_note("just a note\n", [LOG]), LOG_V)


def test_extension_lines() -> None:
    cp = Checkpoint(ORIGIN, 8, ROOT8, ("ext one", "— two"))
    body = format_checkpoint(cp)
    assert body.endswith("\next one\n— two\n")
    assert parse_checkpoint(body) == cp
    assert open_checkpoint(sign_checkpoint(cp, LOG), LOG_V).checkpoint == cp


GOOD = D["checkpoint_size8"]["body"]
ROOT_LINE = GOOD.split("\n")[2]


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (GOOD[:-1], "newline"),
        (f"{ORIGIN}\n8\n", "want at least 3"),
        (f"\n8\n{ROOT_LINE}\n", "line 1 is empty"),
        (f"{ORIGIN}\n08\n{ROOT_LINE}\n", "line 2"),
        (f"{ORIGIN}\n+8\n{ROOT_LINE}\n", "line 2"),
        (f"{ORIGIN}\n 8\n{ROOT_LINE}\n", "line 2"),
        (f"{ORIGIN}\n8 \n{ROOT_LINE}\n", "line 2"),
        (f"{ORIGIN}\n٨\n{ROOT_LINE}\n", "line 2"),  # Arabic-Indic digit eight
        (f"{ORIGIN}\n1_000\n{ROOT_LINE}\n", "line 2"),
        (f"{ORIGIN}\n{MAX_TREE_SIZE + 1}\n{ROOT_LINE}\n", "above the maximum"),
        (f"{ORIGIN}\n8\n{ROOT_LINE[:-1]}\n", "line 3"),
        (f"{ORIGIN}\n8\n{ROOT_LINE[:-2]}B=\n", "line 3"),  # non-zero pad bits
        (f"{ORIGIN}\n8\nAAAA\n", "3 bytes, want 32"),
        (f"{ORIGIN}\n8\n{ROOT_LINE}\n\n", "line 4 is empty"),
        (f"{ORIGIN}\n8\n{ROOT_LINE}\next\n\nmore\n", "line 5 is empty"),
        (f"{ORIGIN}\t\n8\n{ROOT_LINE}\n", "control"),
        (b"\xff\n8\n" + ROOT_LINE.encode() + b"\n", "UTF-8"),
    ],
)
def test_malformed_checkpoints(body: str | bytes, why: str) -> None:
    with pytest.raises(MalformedCheckpoint, match=why):
        parse_checkpoint(body)


def test_format_refuses_what_would_not_parse_back() -> None:
    for cp in (
        Checkpoint("", 1, ROOT8),
        Checkpoint("a\nb", 1, ROOT8),
        Checkpoint(ORIGIN, -1, ROOT8),
        Checkpoint(ORIGIN, MAX_TREE_SIZE + 1, ROOT8),
        Checkpoint(ORIGIN, 1, ROOT8[:31]),
        Checkpoint(ORIGIN, 1, ROOT8, ("",)),
        Checkpoint(ORIGIN, True, ROOT8),
    ):
        with pytest.raises(MalformedCheckpoint):
            format_checkpoint(cp)


_line = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)


@settings(max_examples=100, deadline=None)
@given(
    _line,
    st.integers(0, MAX_TREE_SIZE),
    st.binary(min_size=32, max_size=32),
    st.lists(_line, max_size=3),
)
def test_round_trip(origin: str, size: int, root: bytes, ext: list[str]) -> None:
    cp = Checkpoint(origin, size, root, tuple(ext))
    assert parse_checkpoint(format_checkpoint(cp)) == cp


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=120), st.text(max_size=120)))
def test_garbage_raises_only_malformed_checkpoint(body: bytes | str) -> None:
    with contextlib.suppress(MalformedCheckpoint):
        parse_checkpoint(body)
    with contextlib.suppress(MalformedNote, MalformedCheckpoint, SignatureError, UnknownKey):
        open_checkpoint(body, LOG_V)
