"""Targeting rules: a small, safe expression language over declaration fields.

    >>> rule = parse('hs6 startswith "2402" and origin in ("AE", "PA")')
    >>> rule.matches({"hs6": "240220", "origin": "AE"})
    True

Rules are parsed into a tree and interpreted; nothing is ever passed to ``eval``. See
:mod:`~smartcustoms.risk.rules.parser` for the grammar and :mod:`~smartcustoms.risk.rules.evaluate`
for how missing values behave.
"""

from smartcustoms.risk.rules.errors import RuleInputError, RuleSyntaxError
from smartcustoms.risk.rules.expression import Expression, parse
from smartcustoms.risk.rules.fields import RULE_FIELDS, FieldType

__all__ = ["RULE_FIELDS", "Expression", "FieldType", "RuleInputError", "RuleSyntaxError", "parse"]
