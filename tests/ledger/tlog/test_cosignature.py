from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.ledger.tlog import _b64
from smartcustoms.ledger.tlog.checkpoint import open_checkpoint
from smartcustoms.ledger.tlog.cosignature import (
    MAX_TIMESTAMP,
    CosignatureSigner,
    cosign,
    cosignature_message,
    cosignature_timestamp,
    generate_witness_key,
    parse_witness_signer_key,
    parse_witness_verifier_key,
    verify_cosignature_line,
)
from smartcustoms.ledger.tlog.errors import (
    InvalidArgument,
    MalformedCheckpoint,
    MalformedKey,
    MalformedNote,
    SignatureError,
)
from smartcustoms.ledger.tlog.keys import parse_signer_key, parse_verifier_key
from smartcustoms.ledger.tlog.note import NoteSignature, open_note, parse_note
from tests.ledger.helpers import vectors

D = vectors("c2sp_derived_checkpoint_cosignature_witness_vectors")
NOTES = {v["id"]: v for v in vectors("signed_note_vectors")["vectors"]}
LOG_V = parse_verifier_key(D["log"]["vkey"])
WITNESSES = [
    parse_witness_signer_key(w["private_key_go_format_for_NewSignerForCosignatureV1"])
    for w in D["witnesses"]
]
WITNESS_VS = [parse_witness_verifier_key(w["vkey_cosignature_v1"]) for w in D["witnesses"]]
CP8 = D["checkpoint_size8"]
BODY = CP8["body"]
TIMES = [CP8["cosignature_timestamps"][w["name"]] for w in D["witnesses"]]


def test_derived_witness_keys_match() -> None:
    for signer, w in zip(WITNESSES, D["witnesses"], strict=True):
        assert signer.verifier().key_string() == w["vkey_cosignature_v1"]
        assert signer.key_string() == w["private_key_go_format_for_NewSignerForCosignatureV1"]
        assert signer.key_string().startswith(f"PRIVATE+KEY+{w['name']}+")


def test_cosignature_messages_and_lines_are_reproduced_exactly() -> None:
    for signer, t in zip(WITNESSES, TIMES, strict=True):
        assert cosignature_message(BODY, t).decode() == CP8["cosignature_messages"][signer.name]
    lines = "".join(cosign(BODY, s, t) for s, t in zip(WITNESSES, TIMES, strict=True))
    assert CP8["signed_by_log_only"] + lines == CP8["signed_with_2_cosignatures"]


def test_log_and_both_cosignatures_verify() -> None:
    opened = open_checkpoint(CP8["signed_with_2_cosignatures"], LOG_V, WITNESS_VS)
    assert len(opened.note.verified) == 3
    stamps = [cosignature_timestamp(s) for s in opened.note.verified[1:]]
    assert stamps == TIMES
    for line, v, t in zip(
        CP8["signed_with_2_cosignatures"].splitlines(True)[-2:], WITNESS_VS, TIMES, strict=True
    ):
        assert verify_cosignature_line(BODY, line, v) == t


@pytest.mark.parametrize("case", D["negative"], ids=lambda c: c["desc"])
def test_derived_negative_vectors_are_rejected(case: dict[str, object]) -> None:
    keys = case["vkeys"]
    assert isinstance(keys, list)
    with pytest.raises(SignatureError):
        open_checkpoint(
            str(case["note"]),
            parse_verifier_key(keys[0]),
            [parse_witness_verifier_key(k) for k in keys[1:]],
        )


def test_timestamp_extraction_vector() -> None:
    v = NOTES["cosignature-v1-timestamp-extraction"]
    raw = _b64.decode(v["signature_base64"])
    sig = NoteSignature("x", int.from_bytes(raw[:4], "big"), raw[4:])
    assert f"{sig.key_id:08x}" == v["expected_key_id_hex"]
    assert cosignature_timestamp(sig) == v["expected_timestamp"]
    with pytest.raises(MalformedNote):
        cosignature_timestamp(NoteSignature("x", 1, raw[4:40]))


def test_witness_vkey_types() -> None:
    for vkey in NOTES["cosignature-v1-vkeys"]["vkeys_type_0x04"]:
        assert parse_witness_verifier_key(vkey).key_string() == vkey
    for vkey in NOTES["cosignature-v1-vkeys"]["vkeys_type_0x01_convertible"]:
        with pytest.raises(MalformedKey, match="want 0x04"):
            parse_witness_verifier_key(vkey)
    with pytest.raises(MalformedKey):
        parse_witness_verifier_key(
            D["witnesses"][0]["vkey_cosignature_v1"].replace("+059a8be0+", "+059a8be1+")
        )


def test_witness_signer_key_forms() -> None:
    seed = WITNESSES[0].seed
    w = D["witnesses"][0]
    as04 = CosignatureSigner(w["name"], seed)
    data = _b64.encode(bytes([0x04]) + seed)
    key04 = f"PRIVATE+KEY+{w['name']}+{as04.key_id:08x}+{data}"
    assert parse_witness_signer_key(key04).verifier().key_string() == w["vkey_cosignature_v1"]
    wrong_id = w["private_key_go_format_for_NewSignerForCosignatureV1"].replace(
        "+2e726d4c+", "+059a8be0+"
    )
    with pytest.raises(MalformedKey, match="want 2e726d4c"):
        parse_witness_signer_key(wrong_id)
    skey, vkey = generate_witness_key("witness.example/w9")
    signer = parse_witness_signer_key(skey, clock=lambda: 1_700_000_000.9)
    line = cosign(BODY, signer)
    assert verify_cosignature_line(BODY, line, parse_witness_verifier_key(vkey)) == 1_700_000_000
    # The same seed as a plain note key has another key ID: no cross-type confusion.
    assert parse_signer_key(skey).key_id != signer.key_id


def test_cosigner_is_a_note_verifier_that_refuses_other_types() -> None:
    plain = D["negative"][2]["note"]  # a 0x01 signature under the 0x04 key's name and ID
    with pytest.raises(SignatureError):
        open_note(plain, [WITNESS_VS[0]])
    v = WITNESS_VS[0]
    sig = parse_note(CP8["signed_with_2_cosignatures"]).signatures[1].signature
    assert v.verify(BODY.encode(), sig)
    assert not v.verify(BODY.encode() + b"ext\n", sig)
    assert not v.verify(b"\xff\xfe", sig)
    assert not v.verify(b"not a checkpoint\n", sig)
    too_late = (MAX_TIMESTAMP + 1).to_bytes(8, "big") + sig[8:]
    assert not v.verify(BODY.encode(), too_late)


def test_timestamp_bounds_and_bad_bodies() -> None:
    s = WITNESSES[0]
    assert cosign(BODY, s, MAX_TIMESTAMP)
    with pytest.raises(InvalidArgument):
        cosign(BODY, s, MAX_TIMESTAMP + 1)
    with pytest.raises(InvalidArgument):
        cosign(BODY, s, -1)
    with pytest.raises(MalformedCheckpoint):
        cosign("not a checkpoint\n", s, 1)
    with pytest.raises(MalformedCheckpoint):
        s.sign_at(b"\xff", 1)


def test_verify_cosignature_line_errors() -> None:
    line = cosign(BODY, WITNESSES[0], 5)
    with pytest.raises(MalformedNote, match=r"is by witness\.customs-a"):
        verify_cosignature_line(BODY, line, WITNESS_VS[1])
    with pytest.raises(MalformedNote, match="one line"):
        verify_cosignature_line(BODY, line + line, WITNESS_VS[0])
    other_body = BODY.replace("\n8\n", "\n9\n")
    with pytest.raises(SignatureError):
        verify_cosignature_line(other_body, line, WITNESS_VS[0])


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=150))
def test_garbage_witness_keys_raise_malformed_key(text: str) -> None:
    for parse in (parse_witness_verifier_key, parse_witness_signer_key):
        with contextlib.suppress(MalformedKey):
            parse(text)
