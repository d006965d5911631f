"""Splitting a rule expression into tokens, each with its 1-based column.

ASCII only outside string literals: a look-alike letter or digit from another script is an
error at its column, never a silently different name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from smartcustoms.risk.rules.errors import RuleSyntaxError

__all__ = ["KEYWORDS", "MAX_LENGTH", "Token", "TokenKind", "describe", "tokenize"]

MAX_LENGTH = 4000

TokenKind = Literal["name", "keyword", "number", "string", "op", "(", ")", ",", "-", "end"]

KEYWORDS = frozenset({"and", "or", "not", "in", "startswith"})
_OPERATORS = ("==", "!=", "<=", ">=", "=", "<", ">")
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_DIGITS = frozenset("0123456789")
_NAME_REST = _NAME_START | _DIGITS
_SPACE = frozenset(" \t\r\n")
_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "n": "\n", "t": "\t"}
_PUNCTUATION: dict[str, TokenKind] = {"(": "(", ")": ")", ",": ",", "-": "-"}


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str  # as written (keywords lower-cased)
    value: str | float | None
    column: int


def describe(token: Token) -> str:
    """How an error message names a token."""
    if token.kind == "end":
        return "end of expression"
    if token.kind == "string":
        return f"string {token.text}"
    if token.kind == "number":
        return f"number {token.text}"
    if token.kind == "name":
        return f"name '{token.text}'"
    return f"'{token.text}'"


def _char(c: str) -> str:
    return repr(c) if not c.isprintable() or c.isspace() else f"'{c}'"


def _found_at(text: str, i: int) -> str:
    return "end of expression" if i >= len(text) else f"character {_char(text[i])}"


def _number(text: str, i: int) -> tuple[Token, int]:
    start = i
    n = len(text)
    while i < n and text[i] in _DIGITS:
        i += 1
    if i < n and text[i] == ".":
        i += 1
        if i >= n or text[i] not in _DIGITS:
            raise RuleSyntaxError(
                column=i + 1, expected="a digit after the decimal point", found=_found_at(text, i)
            )
        while i < n and text[i] in _DIGITS:
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j >= n or text[j] not in _DIGITS:
            raise RuleSyntaxError(
                column=j + 1, expected="the digits of the exponent", found=_found_at(text, j)
            )
        while j < n and text[j] in _DIGITS:
            j += 1
        i = j
    if i < n and (text[i] in _NAME_REST or text[i] == "."):
        raise RuleSyntaxError(
            column=i + 1, expected="an operator or a space after a number", found=_found_at(text, i)
        )
    literal = text[start:i]
    value = float(literal)
    if not math.isfinite(value):
        raise RuleSyntaxError(
            column=start + 1, expected="a finite number", found=f"number {literal}"
        )
    return Token("number", literal, value, start + 1), i


def _string(text: str, i: int) -> tuple[Token, int]:
    quote = text[i]
    start = i
    i += 1
    chars: list[str] = []
    while True:
        if i >= len(text):
            raise RuleSyntaxError(
                column=start + 1,
                expected=f"a closing {quote} for the string opened here",
                found="end of expression",
            )
        c = text[i]
        if c == quote:
            return Token("string", text[start : i + 1], "".join(chars), start + 1), i + 1
        if c == "\\":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if nxt not in _ESCAPES:
                raise RuleSyntaxError(
                    column=i + 1,
                    expected="an escape \\\\, \\\", \\', \\n or \\t",
                    found=f"'\\{nxt}'" if nxt else "end of expression",
                )
            chars.append(_ESCAPES[nxt])
            i += 2
            continue
        chars.append(c)
        i += 1


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an ``end`` token.

    Raises :class:`RuleSyntaxError` at the first character that starts no token.
    """
    if len(text) > MAX_LENGTH:
        raise RuleSyntaxError(
            column=MAX_LENGTH + 1,
            expected=f"an expression of at most {MAX_LENGTH} characters",
            found=f"{len(text)} characters",
        )
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _SPACE:
            i += 1
        elif c in _NAME_START:
            j = i + 1
            while j < n and text[j] in _NAME_REST:
                j += 1
            word = text[i:j]
            if word.lower() in KEYWORDS:
                tokens.append(Token("keyword", word.lower(), None, i + 1))
            else:
                tokens.append(Token("name", word, word, i + 1))
            i = j
        elif c in _DIGITS:
            token, i = _number(text, i)
            tokens.append(token)
        elif c in "\"'":
            token, i = _string(text, i)
            tokens.append(token)
        elif c in _PUNCTUATION:
            tokens.append(Token(_PUNCTUATION[c], c, None, i + 1))
            i += 1
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None:
                expected = (
                    "'!=' or 'not'"
                    if c == "!"
                    else "a field, a value, an operator or a parenthesis"
                )
                raise RuleSyntaxError(column=i + 1, expected=expected, found=_found_at(text, i))
            tokens.append(Token("op", op, None, i + 1))
            i += len(op)
    tokens.append(Token("end", "", None, n + 1))
    return tokens
