from __future__ import annotations

import contextlib
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.ledger.tlog.errors import (
    CommitmentMismatch,
    InvalidArgument,
    MalformedRecord,
    RecordTooLarge,
)
from smartcustoms.ledger.tlog.records import (
    MAX_DEPTH,
    MAX_RECORD_SIZE,
    MAX_SAFE_INTEGER,
    canonical_json,
    check_commitment,
    commit,
    encode_record,
    open_commitment,
    parse_record,
)

DECISION = {
    "type": "risk.decision",
    "v": 1,
    "declaration": "22KEMBA000123",
    "lane": "red",
    "score": "0.8125",
    "reasons": ["hs 8703 from high-risk origin", "new importer"],
    "importer": "sha256:" + "0" * 64,
    "ok": True,
    "note": None,
}


def _deep(n: int) -> Any:
    value: Any = 0
    for _ in range(n):
        value = [value]
    return value


def test_canonical_form_is_sorted_compact_utf8() -> None:
    got = encode_record({"v": 1, "type": "t", "b": [1, {"z": 0, "a": "é"}], "a": '\n"\\'})
    assert got == '{"a":"\\n\\"\\\\","b":[1,{"a":"é","z":0}],"type":"t","v":1}'.encode()
    assert parse_record(got) == {"v": 1, "type": "t", "b": [1, {"z": 0, "a": "é"}], "a": '\n"\\'}
    assert parse_record(encode_record(DECISION)) == DECISION


def test_keys_sort_by_utf16_code_units_as_jcs() -> None:
    # In UTF-16, U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB01;
    # Python's code-point order would put U+FB01 first.
    value = {"\ufb01": 1, "\U0001f600": 2, "a": 3}
    assert canonical_json(value).decode() == '{"a":3,"\U0001f600":2,"\ufb01":1}'
    python_order = json.dumps(value, sort_keys=True, ensure_ascii=False)
    assert python_order.index("\ufb01") < python_order.index("\U0001f600")


def test_control_characters_are_escaped_like_jcs() -> None:
    assert canonical_json("\x00\x08\x1f\x7f\u2028") == '"\\u0000\\b\\u001f\x7f\u2028"'.encode()


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (1.5, "floats are not allowed"),
        (float("nan"), "floats"),
        ({"a": [0.0]}, r"\$\.a\[0\]: floats"),
        (MAX_SAFE_INTEGER + 1, "beyond"),
        (-MAX_SAFE_INTEGER - 1, "beyond"),
        (Decimal("1.5"), "Decimal is not a JSON value"),
        ({1: "a"}, "not a string"),
        ("\ud800", "lone surrogate"),
        ({"\udfff": 1}, "lone surrogate"),
        (b"bytes", "bytes is not"),
        (_deep(MAX_DEPTH + 2), "nested deeper"),
    ],
)
def test_forbidden_values(value: Any, why: str) -> None:
    with pytest.raises(MalformedRecord, match=why):
        canonical_json(value)


@pytest.mark.parametrize(
    ("record", "why"),
    [
        ({"v": 1}, "record type None"),
        ({"type": "Risk", "v": 1}, "record type"),
        ({"type": "risk..x", "v": 1}, "record type"),
        ({"type": "a" * 65, "v": 1}, "record type"),
        ({"type": "risk.decision"}, "version v is None"),
        ({"type": "risk.decision", "v": 0}, "version"),
        ({"type": "risk.decision", "v": "1"}, "version"),
        ({"type": "risk.decision", "v": True}, "version"),
        ([1, 2], "a record is a JSON object"),
    ],
)
def test_records_need_type_and_version(record: Any, why: str) -> None:
    with pytest.raises(MalformedRecord, match=why):
        encode_record(record)


def test_size_limit() -> None:
    pad = MAX_RECORD_SIZE - len(encode_record({"type": "t", "v": 1, "x": ""}))
    assert len(encode_record({"type": "t", "v": 1, "x": "a" * pad})) == MAX_RECORD_SIZE
    with pytest.raises(RecordTooLarge, match=f"{MAX_RECORD_SIZE + 1} bytes, above") as exc:
        encode_record({"type": "t", "v": 1, "x": "a" * (pad + 1)})
    assert exc.value.status_code == 413
    with pytest.raises(RecordTooLarge):
        parse_record(b" " * (MAX_RECORD_SIZE + 1))
    with pytest.raises(RecordTooLarge):
        encode_record(DECISION, max_size=10)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b'{"type":"t","v":1.0}', "not an integer"),
        (b'{"type":"t","v":1e0}', "not an integer"),
        (b'{"type":"t","v":NaN}', "not an integer"),
        (b'{"type":"t","v":1,"v":2}', "duplicate key 'v'"),
        (b'{"v":1,"type":"t"}', "not in canonical form"),
        (b'{"type": "t","v":1}', "not in canonical form"),
        (b'{"type":"t","v":1}\n', "not in canonical form"),
        (b'{"type":"t","v":1,"s":"\\u00e9"}', "not in canonical form"),
        (b'{"type":"t","v":1,"n":-0}', "not in canonical form"),
        (b'{"type":"t","v":1,"s":"\\ud800"}', "lone surrogate"),
        (b'{"type":"t","v":1,"n":9007199254740992}', "beyond"),
        (b"\xff", "UTF-8"),
        (b"{", "not valid JSON"),
        (b"[]", "a record is a JSON object"),
        (b"[" * 60_000, "not valid JSON|nested"),
    ],
)
def test_parse_accepts_only_canonical_records(data: bytes, why: str) -> None:
    with pytest.raises(MalformedRecord, match=why):
        parse_record(data)


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.text(alphabet=st.characters(codec="utf-8"), max_size=5),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.text(max_size=5).filter(lambda k: k not in ("type", "v")), _json, max_size=5)
)
def test_round_trip_and_agreement_with_json(fields: dict[str, Any]) -> None:
    record = {"type": "test.record", "v": 3, **fields}
    data = encode_record(record)
    assert parse_record(data) == record
    assert json.loads(data) == record
    assert encode_record(parse_record(data)) == data


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_garbage_raises_only_malformed_record(data: bytes) -> None:
    with contextlib.suppress(MalformedRecord):
        parse_record(data)


def test_commitments() -> None:
    c = commit("KE-IMPORTER-0042")
    assert c.text.startswith("sha256:")
    assert len(c.salt) == 32
    open_commitment(c.text, "KE-IMPORTER-0042", c.salt)
    assert check_commitment(c.text, "KE-IMPORTER-0042", c.salt)
    assert not check_commitment(c.text, "KE-IMPORTER-0043", c.salt)
    assert not check_commitment(c.text, "KE-IMPORTER-0042", bytes(32))
    with pytest.raises(CommitmentMismatch, match="want sha256:"):
        open_commitment(c.text, "KE-IMPORTER-0043", c.salt)
    # Salted: the same value commits differently each time, so the log does not reveal equality.
    assert commit("KE-IMPORTER-0042").text != c.text
    # Structured values commit through their canonical JSON, so key order does not matter.
    salt = bytes(range(32))
    assert commit({"a": 1, "b": "2"}, salt=salt) == commit({"b": "2", "a": 1}, salt=salt)
    assert commit("1", salt=salt).text != commit(1, salt=salt).text
    assert commit("x", salt=salt).text == (
        "sha256:"
        + __import__("hashlib").sha256(b"smartcustoms/commitment/v1\n" + salt + b'"x"').hexdigest()
    )


def test_commitment_errors() -> None:
    c = commit("v")
    with pytest.raises(MalformedRecord, match="is not 'sha256:'"):
        open_commitment(c.text.upper(), "v", c.salt)
    with pytest.raises(InvalidArgument):
        open_commitment(c.text, "v", c.salt[:16])
    with pytest.raises(InvalidArgument):
        commit("v", salt=b"short")
    with pytest.raises(MalformedRecord):
        commit(1.5)
    assert not check_commitment("garbage", "v", c.salt)
    assert not check_commitment(c.text, 1.5, c.salt)
