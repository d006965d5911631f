"""The fast path of canonical_json encodes exactly as the checked path does, and leaves every
refusal to it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartcustoms.ledger.errors import MalformedRecord
from smartcustoms.ledger.records import MAX_SAFE_INTEGER, _normalise, _plain, canonical_json

keys = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=6)
scalars = st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | keys
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4)
)


def slow(value: Any) -> bytes:
    normal = _normalise(value, "$", 0)
    return json.dumps(normal, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(values)
def test_fast_and_checked_paths_agree(value: Any) -> None:
    assert canonical_json(value) == slow(value)


def test_astral_keys_use_the_utf16_order() -> None:
    # U+1F600 is D83D DE00 in UTF-16: before U+FF61 there, after it by code point.
    value = {"\U0001f600": 1, "\uff61": 2}
    assert not _plain(value, 0)
    assert canonical_json(value) == '{"\U0001f600":1,"\uff61":2}'.encode()


@pytest.mark.parametrize(
    "bad",
    [1.5, {"a": 2**53}, {1: "x"}, {"a": "\ud800"}, ["\udc00"], {"k": [float("nan")]}],
)
def test_what_the_fast_path_cannot_take_is_refused_by_name(bad: Any) -> None:
    with pytest.raises(MalformedRecord, match=r"\$"):
        canonical_json(bad)
