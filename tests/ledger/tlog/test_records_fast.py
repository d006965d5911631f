"""canonical_json (the walk and orjson) writes exactly the bytes of reference_canonical_json (the
specification: every value checked, keys in UTF-16 order, the standard library's json), and
refuses exactly what it refuses, with the same typed error."""

from __future__ import annotations

import enum
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from smartcustoms.ledger.tlog import records
from smartcustoms.ledger.tlog.errors import MalformedRecord, RecordTooLarge
from smartcustoms.ledger.tlog.records import (
    MAX_DEPTH,
    MAX_SAFE_INTEGER,
    canonical_json,
    encode_record,
    reference_canonical_json,
)

# Characters where encoders tend to differ: every control character, DEL, the JavaScript line
# separators, quotes and backslash, the edges of the BMP and of the surrogate block, astral
# characters (4 bytes in UTF-8, a surrogate pair in UTF-16: they change the key order).
SPECIAL = [chr(c) for c in range(0x20)] + [
    *'"\\/\x7f\x80\x9f\xa0\xe9',
    "\u2028",
    "\u2029",
    "\ud7ff",
    "\ue000",
    "\ufb01",
    "\ufeff",
    "\uff61",
    "\uffff",
    "\U00010000",
    "\U0001f600",
    "\U0010ffff",
]
chars = st.characters(blacklist_categories=("Cs",)) | st.sampled_from(SPECIAL)
text = st.text(alphabet=chars, max_size=8)
ints = st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | st.sampled_from(
    [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 2**53, -(2**53), 2**63, -(2**63) - 1, 2**64, 10**30]
)
scalars = st.none() | st.booleans() | ints | text
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(text, inner, max_size=5)
    ),
    max_leaves=40,
)


class Colour(enum.Enum):
    RED = "red"


class Lane(str, enum.Enum):  # noqa: UP042 - str() is "Lane.RED" on 3.11, "red" for orjson
    RED = "red"


class Gate(enum.StrEnum):
    EAST = "east"


class Level(enum.IntEnum):
    HIGH = 3


class Text(str):
    pass


class Number(int):
    pass


# What the fast path must never write itself: floats, lone surrogates, other types, subclasses
# (the reference writes str(x) / int(x) for those, or refuses them).
ODD = [
    1.5,
    1.0,
    -0.0,
    float("nan"),
    float("inf"),
    "\ud800",
    "a\udfff",
    Decimal("1.5"),
    b"bytes",
    {1, 2},
    uuid.UUID(int=1),
    Colour.RED,
    Lane.RED,
    Gate.EAST,
    Level.HIGH,
    Text("t"),
    Number(7),
    object(),
]
odd_values = st.recursive(
    scalars | st.sampled_from(ODD),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(text | st.sampled_from([1, None, ("t",), Text("k"), "\udc00"]), inner)
    ),
    max_leaves=20,
)


def outcome(encode: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", encode(value)
    except MalformedRecord as exc:
        return "refused", (type(exc), exc.message, exc.details)


@settings(max_examples=1500, deadline=None)
@given(values)
@example({"\U0001f600": 1, "\uff61": 2, "a": {"\U00010000": [], "\uffff": ()}})
@example(["\u2028\u2029\x00\x1f\x7f", {"": None, "\x00": True}])
@example({"a": [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER]})
@example({"a": [2**53]})
def test_fast_encoder_writes_the_reference_bytes(value: Any) -> None:
    assert outcome(canonical_json, value) == outcome(reference_canonical_json, value)


@settings(max_examples=1500, deadline=None)
@given(odd_values)
def test_fast_encoder_refuses_and_converts_as_the_reference(value: Any) -> None:
    assert outcome(canonical_json, value) == outcome(reference_canonical_json, value)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(text, values, max_size=6), st.sampled_from(["risk.decision", "a", "x-y.z"]))
def test_records_encode_as_the_reference(fields: dict[str, Any], kind: str) -> None:
    record = {**fields, "type": kind, "v": 1}
    assert outcome(encode_record, record) == outcome(reference_canonical_json, record)


def _deep(n: int, container: str) -> Any:
    value: Any = "x"
    for _ in range(n):
        value = [value] if container == "list" else {"k": value}
    return value


@pytest.mark.parametrize("container", ["list", "dict"])
@pytest.mark.parametrize("n", [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, MAX_DEPTH + 2])
def test_depth_limit_is_the_reference_one(n: int, container: str) -> None:
    value = _deep(n, container)
    assert outcome(canonical_json, value) == outcome(reference_canonical_json, value)


def test_astral_keys_use_the_utf16_order() -> None:
    # U+1F600 is D83D DE00 in UTF-16: before U+FF61 there, after it by code point.
    value = {"\U0001f600": 1, "\uff61": 2}
    assert canonical_json(value) == '{"\U0001f600":1,"\uff61":2}'.encode()
    # An astral character in a value changes nothing.
    assert canonical_json({"b": "\U0001f600", "a": 1}) == '{"a":1,"b":"\U0001f600"}'.encode()


def test_plain_records_never_take_the_reference_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The speed of every module's appends rests on this."""

    def slow(value: Any) -> bytes:
        raise AssertionError(f"reference path taken for {value!r}")

    monkeypatch.setattr(records, "reference_canonical_json", slow)
    record = {
        "type": "risk.decision",
        "v": 1,
        "declaration": "22KEMBA000123",
        "reasons": ["é", "\U0001f600", {"n": MAX_SAFE_INTEGER, "t": ("x", None, False)}],
    }
    assert encode_record(record).startswith(b'{"declaration"')


@pytest.mark.parametrize(
    "bad",
    [1.5, {"a": 2**53}, {1: "x"}, {"a": "\ud800"}, ["\udc00"], {"k": [float("nan")]}],
)
def test_what_the_fast_path_cannot_take_is_refused_by_name(bad: Any) -> None:
    with pytest.raises(MalformedRecord, match=r"\$"):
        canonical_json(bad)


def test_record_headers_are_checked_every_time() -> None:
    # A type seen before is remembered as valid; the version is still checked each time.
    encode_record({"type": "seen.before", "v": 1})
    for bad in ({"type": "seen.before", "v": 0}, {"type": "seen.before", "v": True}):
        with pytest.raises(MalformedRecord, match="version"):
            encode_record(bad)
    for kind in (["seen.before"], {"t": 1}, "Seen.Before", None):
        with pytest.raises(MalformedRecord, match="record type"):
            encode_record({"type": kind, "v": 1})
    with pytest.raises(RecordTooLarge):
        encode_record({"type": "seen.before", "v": 1, "x": "y" * 70_000})
