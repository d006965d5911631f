from __future__ import annotations

import contextlib
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcustoms.ledger.tlog.errors import MalformedKey
from smartcustoms.ledger.tlog.keys import (
    ALG_ED25519,
    Ed25519Signer,
    Ed25519Verifier,
    decode_verifier_key,
    generate_key,
    is_valid_key_name,
    key_id,
    parse_signer_key,
    parse_verifier_key,
)
from tests.ledger.helpers import vectors

NOTES = {v["id"]: v for v in vectors("signed_note_vectors")["vectors"]}
PETER = NOTES["go-sumdb-note-PeterNeumann-sign"]
PETER_VKEY = PETER["vkey"]


def test_peter_neumann_keys_are_byte_compatible_with_go() -> None:
    signer = parse_signer_key(PETER["private_key_go_format"])
    assert signer.name == "PeterNeumann"
    assert f"{signer.key_id:08x}" == PETER["key_id_hex"]
    assert signer.key_string() == PETER["private_key_go_format"]
    assert signer.verifier().key_string() == PETER_VKEY
    verifier = parse_verifier_key(PETER_VKEY)
    assert verifier.key_string() == PETER_VKEY
    assert verifier.public_key == signer.verifier().public_key


def test_key_id_is_truncated_sha256_of_name_type_and_key() -> None:
    v = parse_verifier_key(PETER_VKEY)
    raw = hashlib.sha256(b"PeterNeumann\n\x01" + v.public_key).digest()
    assert key_id("PeterNeumann", ALG_ED25519, v.public_key) == int.from_bytes(raw[:4], "big")


@pytest.mark.parametrize(
    "vkey",
    [
        NOTES["c2sp-signed-note-example"]["vkey"],
        PETER["enoch_vkey"],
        *NOTES["cosignature-v1-vkeys"]["vkeys_type_0x01_convertible"],  # base64 holds a '+'
    ],
)
def test_other_implementations_vkeys_round_trip(vkey: str) -> None:
    assert parse_verifier_key(vkey).key_string() == vkey


def test_go_rejected_vkeys() -> None:
    listed = NOTES["negative-vkeys"]["must_reject"][:2]
    for vkey in listed:
        with pytest.raises(MalformedKey):
            parse_verifier_key(vkey)


def _mutations(s: str) -> list[str]:
    out = [s[:i] for i in range(len(s))]  # every truncation
    out += [s[:i] + chr(ord(s[i]) + 1) + s[i + 1 :] for i in range(len(s))]  # every increment
    return out


@pytest.mark.parametrize("vkey", _mutations(PETER_VKEY))
def test_every_truncation_or_increment_of_the_go_vkey_is_rejected(vkey: str) -> None:
    with pytest.raises(MalformedKey):
        parse_verifier_key(vkey)


@pytest.mark.parametrize("skey", _mutations(PETER["private_key_go_format"]))
def test_every_truncation_or_increment_of_the_go_skey_is_rejected(skey: str) -> None:
    with pytest.raises(MalformedKey):
        parse_signer_key(skey)


def test_wrong_type_and_messages() -> None:
    witness = NOTES["cosignature-v1-vkeys"]["vkeys_type_0x04"][0]
    with pytest.raises(MalformedKey, match="type is 0x04, want 0x01"):
        parse_verifier_key(witness)
    assert decode_verifier_key(witness).alg == 0x04
    name, hash16, data = PETER_VKEY.split("+", 2)
    with pytest.raises(MalformedKey, match="key ID is 00000000, want c74f20a3"):
        parse_verifier_key(f"{name}+00000000+{data}")
    assert parse_verifier_key(f"{name}+{hash16.upper()}+{data}").key_id == 0xC74F20A3  # as Go
    with pytest.raises(MalformedKey, match="PRIVATE"):
        parse_signer_key(PETER_VKEY)
    with pytest.raises(MalformedKey):
        parse_verifier_key(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("example.com/log", True),
        ("PeterNeumann", True),
        ("oid/1.3.6.1.4.1", True),
        ("ünïcödé", True),
        ("", False),
        ("a b", False),
        ("a+b", False),
        ("a\tb", False),
        ("a\u00a0b", False),  # no-break space
        ("a\u3000b", False),  # ideographic space
        ("a\u2028b", False),  # line separator
        ("a\x01b", False),  # control character
        ("a\ud800b", False),  # lone surrogate: not UTF-8
    ],
)
def test_key_names(name: str, ok: bool) -> None:
    assert is_valid_key_name(name) is ok
    if not ok:
        with pytest.raises(MalformedKey):
            Ed25519Signer(name, b"\x01" * 32)


def test_generate_key_round_trips() -> None:
    skey, vkey = generate_key("customs.example/ledger")
    signer = parse_signer_key(skey)
    verifier = parse_verifier_key(vkey)
    assert (signer.name, signer.key_id) == (verifier.name, verifier.key_id)
    assert verifier.verify(b"msg", signer.sign(b"msg"))
    assert not verifier.verify(b"msg!", signer.sign(b"msg"))
    assert not verifier.verify(b"msg", signer.sign(b"msg")[:-1])
    assert "PRIVATE" not in repr(signer)
    assert generate_key("x")[0] != generate_key("x")[0]


@given(st.text(max_size=120))
def test_any_text_parses_or_raises_malformed_key(text: str) -> None:
    for parse in (parse_verifier_key, parse_signer_key):
        with contextlib.suppress(MalformedKey):
            parse(text)


def test_constructors_check_sizes() -> None:
    with pytest.raises(MalformedKey):
        Ed25519Verifier("a", b"\x00" * 31)
    with pytest.raises(MalformedKey):
        Ed25519Signer("a", b"\x00" * 33)
