"""Property tests: any text gives a rule or a RuleSyntaxError; rules print and run consistently."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smartcustoms.risk.rules import RULE_FIELDS, RuleSyntaxError, parse
from smartcustoms.risk.rules.nodes import (
    And,
    Compare,
    FieldRef,
    InList,
    Literal,
    Node,
    Not,
    Or,
    StartsWith,
)
from smartcustoms.risk.rules.parser import parse_node
from smartcustoms.risk.schema import prepare_items
from tests.risk.conftest import item, items_frame

FRAGMENTS = [
    "hs6", "origin", "tax_rate", "date", "unit_value", "seller_id", "and", "or", "not", "in",
    "startswith", "(", ")", ",", "=", "==", "!=", "<", "<=", ">", ">=", "-", '"CN"', "'85'", "8",
    "1.5e3", '"2021-01-01"', "1.", '"', "\\", " ", "NOT", "hs8", "é", "\x00",
]  # fmt: skip


def check_parse(text: str) -> None:
    error: RuleSyntaxError | None = None
    try:
        rule = parse(text)
    except RuleSyntaxError as err:
        error = err
    if error is not None:
        assert 1 <= error.column <= len(text) + 1
        assert error.message.startswith(f"column {error.column}: expected ")
        return
    assert parse(rule.canonical).root == rule.root


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_random_text_never_raises_anything_but_the_typed_error(text: str) -> None:
    check_parse(text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=14).map(" ".join))
def test_near_miss_rules_never_raise_anything_but_the_typed_error(text: str) -> None:
    check_parse(text)


# -- generated rules -------------------------------------------------------------------------
TEXT_FIELDS = ["origin", "departure", "hs6", "seller_id"]
TEXT_VALUES = ["CN", "VN", "HK", "850440", "85", "2402", "", "x\"y'z\\"]
NUMBER_FIELDS = ["tax_rate", "unit_value"]

text_literal = st.sampled_from(TEXT_VALUES).map(Literal)
number_literal = st.floats(-100, 100, allow_nan=False).map(lambda v: Literal(v + 0.0))
ops = st.sampled_from(["=", "!=", "<", "<=", ">", ">="])

text_field = st.sampled_from(TEXT_FIELDS).map(FieldRef)
number_field = st.sampled_from(NUMBER_FIELDS).map(FieldRef)
country_field = st.sampled_from(["origin", "departure"]).map(FieldRef)
text_ops = st.sampled_from(["=", "!="])
dates = st.sampled_from(["2024-01-05", "2024-01-20"]).map(Literal)


def some(literal: st.SearchStrategy[Literal], most: int) -> st.SearchStrategy[tuple[Literal, ...]]:
    return st.lists(literal, min_size=1, max_size=most).map(tuple)


predicates = st.one_of(
    st.builds(Compare, text_field, text_ops, text_literal),
    st.builds(Compare, number_field, ops, number_literal),
    st.builds(Compare, country_field, text_ops, country_field),
    st.builds(Compare, st.just(FieldRef("date")), ops, dates),
    st.builds(InList, text_field, some(text_literal, 3), st.booleans()),
    st.builds(InList, number_field, some(number_literal, 3), st.booleans()),
    st.builds(StartsWith, text_field, some(text_literal, 2)),
)


def combine(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    many = st.lists(children, min_size=2, max_size=3).map(tuple)
    return st.one_of(st.builds(Not, children), many.map(And), many.map(Or))


rules = st.recursive(predicates, combine, max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(rules)
def test_canonical_text_parses_back_to_the_same_tree(node: Node) -> None:
    from smartcustoms.risk.rules.nodes import to_text

    assert parse_node(to_text(node)) == node


rows = st.lists(
    st.fixed_dictionaries(
        {
            "origin": st.sampled_from(["CN", "VN", "HK", None]),
            "departure": st.sampled_from(["CN", "VN", "HK", None]),
            "hs6": st.sampled_from(["850440", "240220", "010121"]),
            "seller_id": st.sampled_from(["850440", "", None, "x\"y'z\\"]),
            "tax_rate": st.sampled_from([0.0, 8.0, 40.0, float("nan"), -1.0]),
            "net_mass": st.sampled_from([0.0, 10.0, -1.0, float("nan")]),
            "date": st.sampled_from(["2024-01-01", "2024-01-05", "2024-01-31"]),
        }
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(node=rules, data=rows)
def test_batch_evaluation_equals_one_by_one(node: Node, data: list[dict[str, object]]) -> None:
    from smartcustoms.risk.rules.evaluate import evaluate_frame, evaluate_record

    prepared = prepare_items(items_frame(*(item(**r) for r in data)))
    batch = evaluate_frame(node, prepared, RULE_FIELDS)
    one_by_one = [evaluate_record(node, r, RULE_FIELDS) for r in prepared.frame.to_dict("records")]
    assert batch.tolist() == one_by_one
    raw = pd.DataFrame(prepared.frame)
    assert np.array_equal(evaluate_frame(node, raw, RULE_FIELDS), batch)
