"""JSON from outside fails as a ValidationFailed naming the line, column and byte offset."""

from __future__ import annotations

import pytest

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.core.jsontext import MAX_DEPTH, loads


def failure(data: bytes | str) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        loads(data, "f.json")
    return caught.value


def test_valid_json_is_parsed() -> None:
    assert loads(b'{"a": [1, 2.5, "x", null]}', "f.json") == {"a": [1, 2.5, "x", None]}
    assert loads('{"a": "\u00e9"}'.encode("utf-16"), "f.json") == {"a": "\u00e9"}


def test_deep_nesting_names_where_it_goes_too_deep() -> None:
    error = failure(b"\n[" + b"[" * 100_000 + b"]" * 100_001)
    assert error.message.startswith(f"f.json: JSON nested more than {MAX_DEPTH} levels deep")
    assert error.details[0] == {
        "line": 2, "column": MAX_DEPTH + 1, "offset": MAX_DEPTH + 1,
        "problem": f"JSON nested more than {MAX_DEPTH} levels deep",
    }  # fmt: skip
    # Brackets inside strings are text, not nesting.
    deep_objects = failure(b'{"[[[": ' * 5000 + b"1" + b"}" * 5000)
    assert deep_objects.details[0]["offset"] == MAX_DEPTH * len(b'{"[[[": ')


def test_an_integer_too_long_to_convert_names_its_offset() -> None:
    error = failure(b'{"a": [1, ' + b"7" * 5000 + b"]}")
    assert "a number of more than 4300 digits at line 1, column 11 (byte 10)" in error.message


def test_malformed_json_names_line_column_and_byte() -> None:
    error = failure('{"é": 1,,}'.encode())
    assert error.message == (
        "f.json: malformed JSON at line 1, column 9 (byte 9): "
        "Expecting property name enclosed in double quotes"
    )
    nul = failure(b'{"a": "x\x00"}')
    assert "Invalid control character" in nul.message and "(byte 8)" in nul.message
    assert "(byte 11)" in failure(b'\xef\xbb\xbf{"a": 1,,}').message  # the BOM is in the file


def test_text_not_in_its_encoding_names_the_byte() -> None:
    assert failure(b'{"a": "caf\xe9"}').message == "f.json: not UTF-8 at byte 10"
    assert "at byte" in failure(bytes(range(256)) * 4).message  # binary garbage
