from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.ledger.tlog.errors import MalformedKey, MalformedNote, SignatureError, UnknownKey
from smartcustoms.ledger.tlog.keys import Ed25519Signer, parse_signer_key, parse_verifier_key
from smartcustoms.ledger.tlog.note import (
    MAX_SIGNATURES,
    Note,
    NoteSignature,
    add_signatures,
    format_note,
    open_note,
    parse_note,
    sign_note,
)
from tests.ledger.helpers import vectors

NOTES = {v["id"]: v for v in vectors("signed_note_vectors")["vectors"]}
PETER = NOTES["go-sumdb-note-PeterNeumann-sign"]
PETER_SIGNER = parse_signer_key(PETER["private_key_go_format"])
PETER_V = parse_verifier_key(PETER["vkey"])
ENOCH_V = parse_verifier_key(PETER["enoch_vkey"])
SIGNED = PETER["expected_signed_note"]
TWICE = SIGNED + PETER["extra_signature_unknown_unless_enoch_trusted"]
ALICE = Ed25519Signer("alice.example", b"\x0a" * 32)
BOB = Ed25519Signer("bob.example", b"\x0b" * 32)


def test_sign_reproduces_go_exactly() -> None:
    assert sign_note(PETER["text"], [PETER_SIGNER]) == SIGNED


def test_open_go_note_with_unknown_and_known_second_signature() -> None:
    n = open_note(TWICE, [PETER_V])
    assert n.text == PETER["text"]
    assert [s.name for s in n.verified] == ["PeterNeumann"]
    assert [s.name for s in n.unverified] == ["EnochRoot"]
    n = open_note(TWICE, [PETER_V, ENOCH_V])
    assert [s.name for s in n.verified] == ["PeterNeumann", "EnochRoot"]
    assert n.unverified == ()
    with pytest.raises(UnknownKey, match="note has no verifiable signatures"):
        open_note(TWICE, [])
    with pytest.raises(UnknownKey):
        open_note(TWICE, [ALICE.verifier()])


def test_c2sp_example_verifies() -> None:
    v = NOTES["c2sp-signed-note-example"]
    n = open_note(v["signed_note"], [parse_verifier_key(v["vkey"])])
    assert n.text == "This is an example message.\n"
    assert n.signed_by("example.com/foo", 0x530D903A) is not None


def test_format_parse_round_trip_and_signature_line() -> None:
    note = parse_note(TWICE)
    assert format_note(note) == TWICE
    assert note.signatures[0].line() + note.signatures[1].line() == TWICE[len(PETER["text"]) + 1 :]


def test_tampered_text_or_signature_fails() -> None:
    with pytest.raises(SignatureError, match="PeterNeumann\\+c74f20a3"):
        open_note(SIGNED.replace("answer", "Answer"), [PETER_V])
    sig = parse_note(SIGNED).signatures[0]
    bad = NoteSignature(sig.name, sig.key_id, bytes([sig.signature[0] ^ 1]) + sig.signature[1:])
    with pytest.raises(SignatureError):
        open_note(format_note(Note(PETER["text"], (bad,))), [PETER_V])
    # A known key's bad signature rejects the note even when another known key verifies.
    enoch = parse_note(TWICE).signatures[1]
    forged = NoteSignature(enoch.name, enoch.key_id, sig.signature)
    with pytest.raises(SignatureError, match="EnochRoot"):
        open_note(format_note(Note(PETER["text"], (sig, forged))), [PETER_V, ENOCH_V])


def test_key_with_same_name_but_other_id_is_ignored() -> None:
    other = Ed25519Signer("PeterNeumann", b"\x01" * 32)
    note = add_signatures(SIGNED, [other])
    opened = open_note(note, [PETER_V])
    assert len(opened.verified) == 1
    assert opened.unverified[0].key_id == other.key_id


def test_duplicate_signature_from_known_key_is_rejected() -> None:
    line = parse_note(SIGNED).signatures[0].line()
    with pytest.raises(MalformedNote, match="two signatures by key PeterNeumann"):
        open_note(SIGNED + line, [PETER_V])
    # From an unknown key, identical lines are dropped (as in Go).
    assert len(open_note(TWICE + TWICE.splitlines(True)[-1], [PETER_V]).unverified) == 1


def test_ambiguous_verifiers_are_refused() -> None:
    with pytest.raises(MalformedKey, match="share name and key ID"):
        open_note(SIGNED, [PETER_V, parse_verifier_key(PETER["vkey"])])


def test_add_signatures_replaces_same_key() -> None:
    once = add_signatures(SIGNED, [ALICE])
    again = add_signatures(once, [ALICE, BOB])
    names = [s.name for s in parse_note(again).signatures]
    assert names == ["PeterNeumann", "alice.example", "bob.example"]
    opened = open_note(again, [PETER_V, ALICE.verifier(), BOB.verifier()])
    assert len(opened.verified) == 3


def test_signature_limit() -> None:
    signers = [Ed25519Signer(f"k{i}", bytes([i]) * 32) for i in range(MAX_SIGNATURES)]
    ok = sign_note("hello\n", signers)
    assert len(open_note(ok, [signers[0].verifier()]).unverified) == MAX_SIGNATURES - 1
    with pytest.raises(MalformedNote, match="101 signatures"):
        parse_note(ok + parse_note(ok).signatures[0].line().replace("k0", "k100"))
    with pytest.raises(MalformedNote):
        add_signatures(ok, [ALICE])


@pytest.mark.parametrize(
    ("msg", "why"),
    [
        ("hello\n— PeterNeumann AAAA\n", "no blank line"),
        ("hello\n\n", "signature block"),
        ("hello\n\n— PeterNeumann x08go/ZJ", "signature block"),
        ("hello\n\n- PeterNeumann x08go/ZJkuBS9UG\n", "em dash"),
        ("hello\n\n—PeterNeumann x08go/ZJkuBS9UG\n", "em dash"),
        ("hello\n\n— PeterNeumann\n", "key name"),
        ("hello\n\n— Peter+Neumann AAAAAAA=\n", "key name"),
        ("hello\n\n—  AAAAAAA=\n", "key name"),
        ("hello\n\n— PeterNeumann AAAAAAA\n", "base64"),
        ("hello\n\n— PeterNeumann AAAAAAB=\n", "base64"),  # non-zero pad bits
        ("hello\n\n— PeterNeumann AAAA AAAA\n", "base64"),
        ("hello\n\n— PeterNeumann AAAA\n", "want a 4-byte key ID"),
        ("hello\n\n— PeterNeumann \n", "base64|4-byte"),
        ("hel\rlo\n\n— PeterNeumann AAAAAAA=\n", "control character U\\+000D on line 1"),
        ("hello\n\n— PeterNeumann AAAAAAA=\n\t\n", "control character"),
        ("hello\r\n\r\n— PeterNeumann AAAAAAA=\r\n", "control"),
    ],
)
def test_malformed_notes(msg: str, why: str) -> None:
    with pytest.raises(MalformedNote, match=why):
        parse_note(msg)
    with pytest.raises(MalformedNote):
        open_note(msg, [PETER_V])


def test_bytes_input_must_be_utf8_and_bounded() -> None:
    with pytest.raises(MalformedNote, match="not valid UTF-8 at byte 2"):
        parse_note(b"he\xffllo\n\n" + parse_note(SIGNED).signatures[0].line().encode())
    with pytest.raises(MalformedNote, match="lone surrogate"):
        parse_note("\ud800\n\n— a AAAAAAA=\n")
    with pytest.raises(MalformedNote, match="above the limit"):
        parse_note(b"a" * (1 << 20) + "\n\n— a AAAAAAA=\n".encode())
    assert parse_note(SIGNED.encode()).text == PETER["text"]


def test_text_is_up_to_the_last_blank_line() -> None:
    text = "line\n\nparagraph\n— not a signature\n\n"
    signed = sign_note(text, [ALICE])
    assert open_note(signed, [ALICE.verifier()]).text == text
    with pytest.raises(MalformedNote, match="end with a newline"):
        sign_note("no newline", [ALICE])
    with pytest.raises(MalformedNote, match="control"):
        sign_note("tab\there\n", [ALICE])
    with pytest.raises(MalformedNote, match="at least one"):
        sign_note("x\n", [])


_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\r\t\x0b\x0c"),
    max_size=60,
).map(lambda s: "".join(c for c in s if c >= " " or c == "\n") + "\n")


@settings(max_examples=100, deadline=None)
@given(_text)
def test_any_text_signs_and_opens(text: str) -> None:
    signed = sign_note(text, [ALICE, BOB])
    opened = open_note(signed, [BOB.verifier()])
    assert opened.text == text
    assert [s.name for s in opened.verified] == ["bob.example"]
    assert format_note(parse_note(signed)) == signed


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300)))
def test_garbage_raises_only_typed_errors(msg: bytes | str) -> None:
    with contextlib.suppress(MalformedNote, SignatureError, UnknownKey):
        open_note(msg, [PETER_V])


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(SIGNED.encode()) - 1), st.integers(1, 255))
def test_any_byte_change_of_a_signed_note_is_caught(pos: int, delta: int) -> None:
    raw = bytearray(SIGNED.encode())
    raw[pos] = (raw[pos] + delta) % 256
    with pytest.raises((MalformedNote, SignatureError, UnknownKey)):
        open_note(bytes(raw), [PETER_V])
