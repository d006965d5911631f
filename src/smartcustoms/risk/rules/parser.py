"""Reading a targeting rule: a small expression language, parsed and checked, never ``eval``-ed.

Grammar (keywords are case-insensitive; ``and`` binds tighter than ``or``)::

    rule       := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := unary ("and" unary)*
    unary      := "not" unary | "(" or_expr ")" | predicate
    predicate  := FIELD op operand
                | FIELD ["not"] "in" "(" literal ("," literal)* [","] ")"
                | FIELD "startswith" (STRING | "(" STRING ("," STRING)* [","] ")")
    op         := "=" | "==" | "!=" | "<" | "<=" | ">" | ">="
    operand    := literal | FIELD
    literal    := STRING | ["-"] NUMBER

Examples: ``hs6 startswith "2402" and origin in ("AE", "PA")``,
``unit_value < 0.5 and not (importer_id = "QLRUBN9")``, ``origin != departure``.

Fields are checked against the known fields and their types: text fields take quoted values and
``=``/``!=``/``in``/``startswith``; numbers take numbers and any comparison; dates take quoted ISO
dates (``date >= "2024-01-01"``). Every error is a :class:`RuleSyntaxError` naming the column.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping

from smartcustoms.risk.rules.errors import RuleSyntaxError
from smartcustoms.risk.rules.fields import RULE_FIELDS, FieldType
from smartcustoms.risk.rules.lexer import Token, describe, tokenize
from smartcustoms.risk.rules.nodes import (
    And,
    Compare,
    FieldRef,
    InList,
    Literal,
    Node,
    Not,
    Operator,
    Or,
    StartsWith,
)

__all__ = ["MAX_DEPTH", "parse_node"]

MAX_DEPTH = 50  # nested parentheses and "not"s; deeper rules are refused, not a stack overflow

_OPS: dict[str, Operator] = {
    "=": "=",
    "==": "=",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
}
_TEXT_OPS = frozenset({"=", "!="})
_KIND_WORDS: dict[FieldType, str] = {"text": "text", "number": "number", "date": "date"}


class _Parser:
    def __init__(self, tokens: list[Token], fields: Mapping[str, FieldType]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0
        self.fields = fields

    # -- helpers ----------------------------------------------------------------------------
    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        token = self.tokens[self.pos]
        if token.kind != "end":
            self.pos += 1
        return token

    def at_keyword(self, word: str) -> bool:
        token = self.peek()
        return token.kind == "keyword" and token.text == word

    def fail(self, expected: str, token: Token | None = None) -> RuleSyntaxError:
        token = token or self.peek()
        return RuleSyntaxError(column=token.column, expected=expected, found=describe(token))

    def nest(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RuleSyntaxError(
                column=token.column,
                expected=f"at most {MAX_DEPTH} nested parentheses and 'not's",
                found="deeper nesting",
            )

    # -- grammar ----------------------------------------------------------------------------
    def rule(self) -> Node:
        node = self.or_expr()
        if self.peek().kind != "end":
            raise self.fail("'and', 'or' or the end of the rule")
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        while self.at_keyword("or"):
            self.advance()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts = [self.unary()]
        while self.at_keyword("and"):
            self.advance()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self) -> Node:
        token = self.peek()
        if self.at_keyword("not"):
            self.advance()
            self.nest(token)
            node: Node = Not(self.unary())
            self.depth -= 1
            return node
        if token.kind == "(":
            self.advance()
            self.nest(token)
            node = self.or_expr()
            if self.peek().kind != ")":
                raise self.fail(f"')' to close the '(' at column {token.column}")
            self.advance()
            self.depth -= 1
            return node
        if token.kind == "name":
            return self.predicate()
        raise self.fail("a field name, 'not' or '('")

    def field(self) -> tuple[FieldRef, FieldType]:
        token = self.advance()
        name = str(token.value)
        kind = self.fields.get(name)
        if kind is None:
            close = difflib.get_close_matches(name, list(self.fields), n=1) or [
                f for f in self.fields if f.lower() == name.lower()
            ]
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise RuleSyntaxError(
                column=token.column,
                expected=f"a known field{hint}",
                found=f"unknown field '{name}'",
            )
        return FieldRef(name, token.column), kind

    def literal(self, kind: FieldType, field: str) -> Literal:
        token = self.peek()
        if kind == "number":
            sign = 1.0
            if token.kind == "-":
                self.advance()
                sign = -1.0
                token = self.peek()
            if token.kind != "number":
                raise self.fail(f"a number to compare with number field {field}")
            self.advance()
            value = sign * float(token.value or 0.0)
            return Literal(value + 0.0, token.column)  # + 0.0 turns -0.0 into 0.0
        if token.kind != "string":
            what = 'a quoted ISO date ("2024-01-31")' if kind == "date" else "a quoted text value"
            raise self.fail(f"{what} for {kind} field {field}")
        self.advance()
        text = str(token.value)
        if kind == "date":
            try:
                dt.date.fromisoformat(text)
            except ValueError:
                raise RuleSyntaxError(
                    column=token.column,
                    expected=f"an ISO date (YYYY-MM-DD) for date field {field}",
                    found=describe(token),
                ) from None
        return Literal(text, token.column)

    def literal_list(
        self, kind: FieldType, field: str, *, strings_only: bool = False
    ) -> tuple[Literal, ...]:
        opening = self.peek()
        if opening.kind != "(":
            raise self.fail("'(' to open the list of values")
        self.advance()
        values = [self.literal("text" if strings_only else kind, field)]
        while self.peek().kind == ",":
            self.advance()
            if self.peek().kind == ")":
                break  # a trailing comma is fine
            values.append(self.literal("text" if strings_only else kind, field))
        if self.peek().kind != ")":
            raise self.fail(f"',' or ')' to close the list opened at column {opening.column}")
        self.advance()
        return tuple(values)

    def predicate(self) -> Node:
        left, kind = self.field()
        token = self.peek()
        if token.kind == "op":
            self.advance()
            op = _OPS[token.text]
            if kind == "text" and op not in _TEXT_OPS:
                raise RuleSyntaxError(
                    column=token.column,
                    expected=f"'=', '!=', 'in' or 'startswith' for text field {left.name}",
                    found=describe(token),
                )
            if self.peek().kind == "name":
                right, right_kind = self.field()
                if right_kind != kind:
                    raise RuleSyntaxError(
                        column=right.column,
                        expected=f"a {kind} field or value to compare with {left.name}",
                        found=f"{right_kind} field '{right.name}'",
                    )
                return Compare(left, op, right)
            return Compare(left, op, self.literal(kind, left.name))
        if self.at_keyword("not"):
            self.advance()
            if not self.at_keyword("in"):
                raise self.fail(f"'in' after '{left.name} not'")
            self.advance()
            return InList(left, self.literal_list(kind, left.name), negated=True)
        if self.at_keyword("in"):
            self.advance()
            return InList(left, self.literal_list(kind, left.name))
        if self.at_keyword("startswith"):
            if kind != "text":
                raise RuleSyntaxError(
                    column=token.column,
                    expected=f"a comparison or 'in' for {kind} field {left.name}",
                    found=describe(token),
                )
            self.advance()
            if self.peek().kind == "(":
                return StartsWith(left, self.literal_list("text", left.name, strings_only=True))
            return StartsWith(left, (self.literal("text", left.name),))
        raise self.fail(
            f"an operator (=, !=, <, <=, >, >=), 'in', 'not in' or 'startswith' after {left.name}"
        )


def parse_node(text: str, fields: Mapping[str, FieldType] = RULE_FIELDS) -> Node:
    """The tree of rule ``text``; raises :class:`RuleSyntaxError` naming the column."""
    if not isinstance(text, str):
        raise RuleSyntaxError(column=1, expected="rule text", found=type(text).__name__)
    return _Parser(tokenize(text), fields).rule()
