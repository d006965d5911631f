"""A parsed targeting rule, ready to run on a batch or on one declaration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd  # type: ignore[import-untyped]  # no stubs in the environment

from smartcustoms.risk.rules.evaluate import evaluate_frame, evaluate_record
from smartcustoms.risk.rules.fields import RULE_FIELDS, FieldType
from smartcustoms.risk.rules.nodes import Node, field_names, to_text
from smartcustoms.risk.rules.parser import parse_node
from smartcustoms.risk.schema import PreparedItems

__all__ = ["Expression", "parse"]


@dataclass(frozen=True)
class Expression:
    """A rule as written (``text``), its tree, and the field types it was checked against."""

    text: str
    root: Node
    fields: Mapping[str, FieldType] = field(
        default_factory=lambda: RULE_FIELDS, compare=False, repr=False
    )

    @property
    def canonical(self) -> str:
        """The rule in canonical spelling (same meaning, normalised spaces, quotes and case)."""
        return to_text(self.root)

    @property
    def field_names(self) -> frozenset[str]:
        """The fields the rule reads."""
        return field_names(self.root)

    def evaluate(self, items: pd.DataFrame | PreparedItems) -> np.ndarray:
        """A boolean per item: whether it matches. Raises ``RuleInputError`` for absent fields."""
        return evaluate_frame(self.root, items, self.fields)

    def matches(self, record: Mapping[str, object]) -> bool:
        """Whether one declaration item, given as a mapping of field to value, matches."""
        return evaluate_record(self.root, record, self.fields)


def parse(text: str, fields: Mapping[str, FieldType] = RULE_FIELDS) -> Expression:
    """Parse and check a rule; raises :class:`~smartcustoms.risk.rules.errors.RuleSyntaxError`."""
    return Expression(text, parse_node(text, fields), fields)
