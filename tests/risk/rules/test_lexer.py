from __future__ import annotations

import pytest

from smartcustoms.risk.rules.errors import RuleSyntaxError
from smartcustoms.risk.rules.lexer import MAX_LENGTH, tokenize


def kinds(text: str) -> list[tuple[str, str, int]]:
    return [(t.kind, t.text, t.column) for t in tokenize(text)]


def test_tokens_carry_their_columns() -> None:
    assert kinds('hs6 STARTSWITH "24" and tax_rate>=-1.5e2') == [
        ("name", "hs6", 1),
        ("keyword", "startswith", 5),
        ("string", '"24"', 16),
        ("keyword", "and", 21),
        ("name", "tax_rate", 25),
        ("op", ">=", 33),
        ("-", "-", 35),
        ("number", "1.5e2", 36),
        ("end", "", 41),
    ]


def test_string_escapes_and_both_quotes() -> None:
    tokens = tokenize(r"""'it\'s' "a\"b\\c\n" """)
    assert [t.value for t in tokens[:2]] == ["it's", 'a"b\\c\n']


@pytest.mark.parametrize(
    ("text", "column", "expected"),
    [
        ('origin = "CN', 10, 'a closing " for the string opened here'),
        ("tax_rate = 1.", 14, "a digit after the decimal point"),
        ("tax_rate = 1e", 14, "the digits of the exponent"),
        ("tax_rate = 12abc", 14, "an operator or a space after a number"),
        ("tax_rate = 1e999", 12, "a finite number"),
        ("origin ! 'CN'", 8, "'!=' or 'not'"),
        ("origin = 'C\\N'", 12, "an escape"),
        ("hs６ = '1'", 3, "a field, a value, an operator or a parenthesis"),
        ("origin = 'CN'; drop", 14, "a field, a value, an operator or a parenthesis"),
    ],
)
def test_lexical_errors_name_the_column(text: str, column: int, expected: str) -> None:
    with pytest.raises(RuleSyntaxError) as err:
        tokenize(text)
    assert err.value.column == column
    assert err.value.expected.startswith(expected)
    assert err.value.details == [
        {
            "field": "expression",
            "column": column,
            "expected": err.value.expected,
            "found": err.value.found,
        }
    ]
    assert err.value.to_dict()["error"]["code"] == "rule_syntax_error"
    assert err.value.status_code == 422


def test_overlong_expressions_are_refused() -> None:
    with pytest.raises(RuleSyntaxError, match=f"at most {MAX_LENGTH} characters"):
        tokenize("a" * (MAX_LENGTH + 1))
