"""A targeting rule as one JSON document, the form in which it is offered to a partner.

The form (``smartcustoms-rule/v1``)::

    {"form": "smartcustoms-rule/v1",
     "name": "tobacco-undervalued",                    1-120 characters
     "version": 3,                                      the version at the origin, >= 1
     "expression": "hs6 startswith \\"2402\\" and unit_value < 0.5",
                                                        the rule language, canonical spelling
     "fields": {"hs6": "text", "unit_value": "number"}, every field it reads and its type there
     "lane": "red",                                     green | blue | yellow | scan | red
     "reason": "Cigarettes declared far below ...",     1-500 characters, what officers read
     "instructions": "Count the cartons ...",           0-2000 characters
     "valid_from": "2026-12-06T21:00:00+00:00",         ISO 8601 with offset
     "valid_until": null}                               or ISO 8601, after valid_from

The receiver reads the expression with its own parser, against its own fields: a field the
origin reads that does not exist here, or has another type here, or any other field of the
form missing or malformed, is a :class:`~smartcustoms.core.errors.ValidationFailed` naming the
field (``rule.expression`` with the column for a syntax error). Nothing else travels: no
author, no reviewer, no hit rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from smartcustoms.core.errors import ValidationFailed
from smartcustoms.risk.lanes import Lane
from smartcustoms.risk.rules import RULE_FIELDS, RuleSyntaxError, parse
from smartcustoms.risk.tables import RuleVersionRow

__all__ = ["RULE_FORM", "OfferedRule", "read_rule", "rule_document"]

RULE_FORM: Final = "smartcustoms-rule/v1"


@dataclass(frozen=True)
class OfferedRule:
    name: str
    version: int
    expression: str  # canonical, as this instance's parser spells it
    lane: Lane
    reason: str
    instructions: str
    valid_from: datetime
    valid_until: datetime | None


def rule_document(row: RuleVersionRow) -> dict[str, Any]:
    """Version ``row`` in the offered form."""
    parsed = parse(row.expression)
    return {
        "form": RULE_FORM,
        "name": row.rule.name,
        "version": row.version,
        "expression": parsed.canonical,
        "fields": {name: RULE_FIELDS[name] for name in sorted(parsed.field_names)},
        "lane": row.lane,
        "reason": row.reason,
        "instructions": row.instructions,
        "valid_from": row.valid_from.isoformat(),
        "valid_until": None if row.valid_until is None else row.valid_until.isoformat(),
    }


def _invalid(field: str, message: str, **extra: Any) -> ValidationFailed:
    return ValidationFailed(
        f"offered rule: {field}: {message}", details=[{"field": f"rule.{field}", **extra}]
    )


def _text(doc: dict[str, Any], key: str, low: int, high: int) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not low <= len(value.strip()) <= high:
        raise _invalid(key, f"text of {low} to {high} characters")
    return value.strip()


def _time(doc: dict[str, Any], key: str, *, optional: bool = False) -> datetime | None:
    value = doc.get(key)
    if value is None and optional:
        return None
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise _invalid(key, "an ISO 8601 time with its offset")
    return when


def read_rule(doc: Any) -> OfferedRule:
    """The rule in ``doc`` (the offered form), checked against this instance's language."""
    if not isinstance(doc, dict):
        raise _invalid("form", "a JSON object")
    if doc.get("form") != RULE_FORM:
        raise _invalid("form", f"must be {RULE_FORM!r}")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version < 2**31:
        raise _invalid("version", "a whole number from 1")
    fields = doc.get("fields")
    if not isinstance(fields, dict):
        raise _invalid("fields", "an object of field name to type")
    for name, kind in fields.items():
        here = RULE_FIELDS.get(name)
        if here is None:
            raise _invalid(f"fields.{name}", "no such field here", value=name)
        if kind != here:
            raise _invalid(f"fields.{name}", f"is a {here} here, not {kind!r}", value=kind)
    expression = _text(doc, "expression", 1, 2000)
    try:
        parsed = parse(expression)
    except RuleSyntaxError as exc:
        raise _invalid(
            "expression", exc.message, column=exc.column, expected=exc.expected, found=exc.found
        ) from None
    unlisted = sorted(parsed.field_names - fields.keys())
    if unlisted:
        raise _invalid("fields", f"does not list {', '.join(unlisted)}", value=unlisted)
    try:
        lane = Lane(str(doc.get("lane")))
    except ValueError:
        raise _invalid("lane", f"one of {', '.join(lane.value for lane in Lane)}") from None
    valid_from = _time(doc, "valid_from")
    valid_until = _time(doc, "valid_until", optional=True)
    assert valid_from is not None  # not optional
    if valid_until is not None and valid_until <= valid_from:
        raise _invalid("valid_until", "must be after valid_from")
    instructions = doc.get("instructions", "")
    if not isinstance(instructions, str) or len(instructions) > 2000:
        raise _invalid("instructions", "text of at most 2000 characters")
    return OfferedRule(
        name=_text(doc, "name", 1, 120),
        version=version,
        expression=parsed.canonical,
        lane=lane,
        reason=_text(doc, "reason", 1, 500),
        instructions=instructions.strip(),
        valid_from=valid_from,
        valid_until=valid_until,
    )
