"""JSON from outside (files, standard input): every way it can fail is a
:class:`~smartcustoms.core.errors.ValidationFailed` naming where — line, column and byte offset —
never a ``RecursionError`` (deep nesting) or a bare ``ValueError`` (an integer too long to
convert, text that is not in the encoding)."""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from smartcustoms.core.errors import ValidationFailed

__all__ = ["MAX_DEPTH", "loads"]

#: Nesting the error names when the parser ran out of stack (it fails somewhere near 1,000).
MAX_DEPTH = 500

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def _where(text: str, pos: int, encoding: str) -> dict[str, int]:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    offset = len(text[:pos].encode(encoding, "surrogatepass"))  # a BOM counts: it is in the file
    return {"line": line, "column": column, "offset": offset}


def _failed(
    where: str, problem: str, place: dict[str, int] | None, detail: str = ""
) -> ValidationFailed:
    """``where: problem at line L, column C (byte O): detail``."""
    message = f"{where}: {problem}"
    if place is not None and "line" in place:
        message += f" at line {place['line']}, column {place['column']} (byte {place['offset']})"
    elif place is not None:
        message += f" at byte {place['offset']}"
    if detail:
        message += f": {detail}"
    return ValidationFailed(message, details=[{**(place or {}), "problem": detail or problem}])


def _too_deep(text: str) -> int:
    """Where the nesting first goes deeper than MAX_DEPTH (else where it is deepest)."""
    depth, deepest, at = 0, 0, 0
    for token in _TOKENS.finditer(text):
        char = token.group()
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return token.start()
            if depth > deepest:
                deepest, at = depth, token.start()
        elif char in "]}":
            depth -= 1
    return at


def _long_number(text: str) -> int | None:
    limit = sys.get_int_max_str_digits()
    found = re.search(rf"\d{{{limit + 1},}}", text) if limit else None
    return found.start() if found else None


def loads(data: bytes | str, where: str) -> Any:
    """Parse JSON text (bytes in UTF-8, -16 or -32, as :func:`json.loads` detects them)."""
    if isinstance(data, str):
        text, encoding = data, "utf-8"
    else:
        encoding = json.detect_encoding(data)
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            name = "UTF-8" if encoding.startswith("utf-8") else encoding.upper()
            raise _failed(where, f"not {name}", {"offset": exc.start}) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        place = _where(text, exc.pos, encoding)
        raise _failed(where, "malformed JSON", place, exc.msg.removesuffix(" at")) from None
    except RecursionError:
        problem = f"JSON nested more than {MAX_DEPTH} levels deep"
        raise _failed(where, problem, _where(text, _too_deep(text), encoding)) from None
    except ValueError as exc:  # an integer longer than Python converts (sys.int_info)
        pos = _long_number(text)
        if pos is None:
            raise _failed(where, "unreadable JSON", None, str(exc)) from None
        limit = sys.get_int_max_str_digits()
        problem = f"a number of more than {limit} digits"
        raise _failed(where, problem, _where(text, pos, encoding)) from None
