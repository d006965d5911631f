"""Errors of the targeting-rule language.

ValidationFailed (422)
├── RuleSyntaxError     the text is not a rule: names the column and what was expected
└── RuleInputError      the items cannot be evaluated: a field the rule needs is absent
"""

from __future__ import annotations

from smartcustoms.core.errors import ValidationFailed

__all__ = ["RuleInputError", "RuleSyntaxError"]


class RuleSyntaxError(ValidationFailed):
    """A rule expression that cannot be parsed or refers to unknown fields or wrong types.

    ``column`` is the 1-based character position in the expression where the problem starts.
    """

    code = "rule_syntax_error"

    def __init__(self, *, column: int, expected: str, found: str) -> None:
        super().__init__(
            f"column {column}: expected {expected}, found {found}",
            details=[
                {"field": "expression", "column": column, "expected": expected, "found": found}
            ],
        )
        self.column = column
        self.expected = expected
        self.found = found


class RuleInputError(ValidationFailed):
    """The items handed to a rule lack a field it reads."""

    code = "rule_input_error"
