"""The parsed form of a rule, and its canonical text.

Nodes compare equal when they mean the same rule as written (columns are kept for messages
but ignored in comparisons), and :func:`to_text` writes the one canonical spelling that
:func:`~smartcustoms.risk.rules.parser.parse` reads back to an equal tree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal as TypingLiteral

__all__ = [
    "And",
    "Compare",
    "FieldRef",
    "InList",
    "Literal",
    "Node",
    "Not",
    "Operator",
    "Or",
    "StartsWith",
    "field_names",
    "to_text",
]

Operator = TypingLiteral["=", "!=", "<", "<=", ">", ">="]


@dataclass(frozen=True)
class FieldRef:
    name: str
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Literal:
    value: str | float
    column: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Compare:
    left: FieldRef
    op: Operator
    right: Literal | FieldRef


@dataclass(frozen=True)
class InList:
    left: FieldRef
    values: tuple[Literal, ...]
    negated: bool = False


@dataclass(frozen=True)
class StartsWith:
    left: FieldRef
    prefixes: tuple[Literal, ...]


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


Node = Compare | InList | StartsWith | And | Or | Not


def _literal(lit: Literal) -> str:
    value = lit.value
    if isinstance(value, str):
        escaped = (
            value.replace("\\", "\\\\")
            .replace('"', '\\"')
            .replace("\n", "\\n")
            .replace("\t", "\\t")
        )
        return f'"{escaped}"'
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _operand(operand: Literal | FieldRef) -> str:
    return operand.name if isinstance(operand, FieldRef) else _literal(operand)


def to_text(node: Node) -> str:
    """The canonical spelling of ``node``: lower-case keywords, double quotes, few parentheses."""
    if isinstance(node, Compare):
        return f"{node.left.name} {node.op} {_operand(node.right)}"
    if isinstance(node, InList):
        values = ", ".join(_literal(v) for v in node.values)
        return f"{node.left.name} {'not in' if node.negated else 'in'} ({values})"
    if isinstance(node, StartsWith):
        if len(node.prefixes) == 1:
            return f"{node.left.name} startswith {_literal(node.prefixes[0])}"
        return f"{node.left.name} startswith ({', '.join(_literal(p) for p in node.prefixes)})"
    if isinstance(node, Not):
        inner = to_text(node.part)
        return f"not ({inner})" if isinstance(node.part, And | Or) else f"not {inner}"
    # And binds tighter than Or, so only an Or inside an And needs parentheses; nested nodes of
    # the same kind are parenthesised to keep the tree shape.
    joiner = " and " if isinstance(node, And) else " or "
    texts = []
    for part in node.parts:
        text = to_text(part)
        texts.append(f"({text})" if isinstance(part, And | Or) else text)
    return joiner.join(texts)


def field_names(node: Node) -> frozenset[str]:
    """Every field the rule reads."""
    if isinstance(node, Compare):
        names = {node.left.name}
        if isinstance(node.right, FieldRef):
            names.add(node.right.name)
        return frozenset(names)
    if isinstance(node, InList | StartsWith):
        return frozenset({node.left.name})
    if isinstance(node, Not):
        return field_names(node.part)
    return frozenset().union(*(field_names(p) for p in node.parts))
