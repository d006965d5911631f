from __future__ import annotations

import pytest

from smartcustoms.risk.rules import RuleSyntaxError, parse
from smartcustoms.risk.rules.nodes import (
    And,
    Compare,
    FieldRef,
    InList,
    Literal,
    Not,
    Or,
    StartsWith,
)
from smartcustoms.risk.rules.parser import MAX_DEPTH


def test_the_issue_example() -> None:
    rule = parse('hs6 startswith "2402" and origin in ("AE", "PA")')
    assert rule.root == And(
        (
            StartsWith(FieldRef("hs6"), (Literal("2402"),)),
            InList(FieldRef("origin"), (Literal("AE"), Literal("PA"))),
        )
    )
    assert rule.field_names == {"hs6", "origin"}


def test_precedence_not_binds_tightest_then_and_then_or() -> None:
    rule = parse('not origin = "CN" or tax_rate > 5 and origin = departure')
    assert rule.root == Or(
        (
            Not(Compare(FieldRef("origin"), "=", Literal("CN"))),
            And(
                (
                    Compare(FieldRef("tax_rate"), ">", Literal(5.0)),
                    Compare(FieldRef("origin"), "=", FieldRef("departure")),
                )
            ),
        )
    )


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (
            "ORIGIN_indicator == 'Y'".replace("ORIGIN_indicator", "origin_indicator"),
            'origin_indicator = "Y"',
        ),
        ("(origin='CN')AND(tax_rate<=8)", 'origin = "CN" and tax_rate <= 8'),
        (
            "not (a_or_b)".replace("a_or_b", "origin = 'A' or origin = 'B'"),
            'not (origin = "A" or origin = "B")',
        ),
        ('office not in ("10", "20",)', 'office not in ("10", "20")'),
        ('hs6 startswith ("01", "02")', 'hs6 startswith ("01", "02")'),
        ("tax_rate > -0", "tax_rate > 0"),
        ('date >= "2021-01-31"', 'date >= "2021-01-31"'),
        ("unit_value < 0.000125", "unit_value < 0.000125"),
        (
            '(origin = "A" or origin = "B") or origin = "C"',
            '(origin = "A" or origin = "B") or origin = "C"',
        ),
    ],
)
def test_canonical_text(text: str, canonical: str) -> None:
    rule = parse(text)
    assert rule.canonical == canonical
    assert parse(canonical).root == rule.root


@pytest.mark.parametrize(
    ("text", "column", "expected", "found"),
    [
        ("", 1, "a field name, 'not' or '('", "end of expression"),
        ("hs8 = '1'", 1, "a known field (did you mean 'hs6'?)", "unknown field 'hs8'"),
        ("Origin = 'CN'", 1, "a known field (did you mean 'origin'?)", "unknown field 'Origin'"),
        ("origin < 'CN'", 8, "'=', '!=', 'in' or 'startswith' for text field origin", "'<'"),
        ("origin = 5", 10, "a quoted text value for text field origin", "number 5"),
        ("tax_rate = 'x'", 12, "a number to compare with number field tax_rate", "string 'x'"),
        (
            "tax_rate startswith '1'",
            10,
            "a comparison or 'in' for number field tax_rate",
            "'startswith'",
        ),
        (
            "origin = tax_rate",
            10,
            "a text field or value to compare with origin",
            "number field 'tax_rate'",
        ),
        (
            "date > '2021-02-30'",
            8,
            "an ISO date (YYYY-MM-DD) for date field date",
            "string '2021-02-30'",
        ),
        ("origin in 'CN'", 11, "'(' to open the list of values", "string 'CN'"),
        (
            "origin in ('CN' 'VN')",
            17,
            "',' or ')' to close the list opened at column 11",
            "string 'VN'",
        ),
        ("origin in ()", 12, "a quoted text value for text field origin", "')'"),
        ("origin not 'CN'", 12, "'in' after 'origin not'", "string 'CN'"),
        (
            "origin",
            7,
            "an operator (=, !=, <, <=, >, >=), 'in', 'not in' or 'startswith' after origin",
            "end of expression",
        ),
        ("(origin = 'A'", 14, "')' to close the '(' at column 1", "end of expression"),
        ("origin = 'A' origin = 'B'", 14, "'and', 'or' or the end of the rule", "name 'origin'"),
        ("origin = 'A' and", 17, "a field name, 'not' or '('", "end of expression"),
        ("= 'A'", 1, "a field name, 'not' or '('", "'='"),
        ("tax_rate > - 'x'", 14, "a number to compare with number field tax_rate", "string 'x'"),
    ],
)
def test_errors_name_the_column_and_what_was_expected(
    text: str, column: int, expected: str, found: str
) -> None:
    with pytest.raises(RuleSyntaxError) as err:
        parse(text)
    assert (err.value.column, err.value.expected, err.value.found) == (column, expected, found)
    assert err.value.message == f"column {column}: expected {expected}, found {found}"


def test_nesting_is_bounded() -> None:
    ok = "(" * MAX_DEPTH + "origin = 'A'" + ")" * MAX_DEPTH
    assert parse(ok).canonical == 'origin = "A"'
    with pytest.raises(RuleSyntaxError, match="nested") as err:
        parse("not " * (MAX_DEPTH + 1) + "origin = 'A'")
    assert err.value.column == 4 * MAX_DEPTH + 1


def test_custom_field_lists() -> None:
    rule = parse("aeo = 'yes' and score > 0.9", fields={"aeo": "text", "score": "number"})
    assert rule.matches({"aeo": "yes", "score": 0.95})
    with pytest.raises(RuleSyntaxError, match="unknown field 'hs6'"):
        parse("hs6 = '1'", fields={"aeo": "text"})


def test_non_text_is_refused() -> None:
    with pytest.raises(RuleSyntaxError, match="rule text"):
        parse(42)  # type: ignore[arg-type]
