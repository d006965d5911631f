"""Inputs checked at the edge, so that what the databases cannot hold is a 422 naming the field,
never a 500 from deep inside a query.

- Integers: SQLite stores at most 64-bit signed integers; PostgreSQL's ``integer`` (every row
  id here) 32-bit signed, ``bigint`` 64-bit. Routes type their ids and counts with the
  annotated types below (:data:`RowId`, :data:`RowIdQuery` …).
- Text: PostgreSQL refuses NUL (``\\x00``) in text. No text a person or a system sends us has a
  reason to carry one, so :func:`check_inputs` — an application-wide dependency, like the
  access policy — refuses it in every path parameter, query parameter, form field and JSON
  string, whatever the route. It also refuses JSON numbers no column can hold (integers
  beyond 64 bits, NaN and infinities, which strict JSON does not even have).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Annotated, Any, Final

from fastapi import Path, Query, Request
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile

from smartcustoms.core.errors import ValidationFailed

__all__ = [
    "INT32_MAX",
    "INT64_MAX",
    "FeedId",
    "LedgerIndex",
    "RowId",
    "RowIdQuery",
    "check_inputs",
]

INT32_MAX: Final = 2**31 - 1
INT64_MAX: Final = 2**63 - 1
MAX_PROBLEMS: Final = 20
# What a JSON text must contain for _walk_json to find anything: an escaped NUL (a raw one is
# not JSON), 19 digits in a row (2⁶³ has 19), NaN or Infinity, an exponent of 3 digits (1e400
# is an infinite float). Scanning the raw bytes for these spares walking ordinary documents.
_SUSPECT_JSON: Final = re.compile(rb"\\u0000|[0-9]{19}|NaN|Infinity|[eE][+-]?[0-9]{3}")

#: A row id in a path (an ``Integer`` primary key): 1 to 2³¹−1.
RowId = Annotated[int, Path(ge=1, le=INT32_MAX, description="Row id (1 to 2147483647)")]
#: A row id in a query string, optional.
RowIdQuery = Annotated[int | None, Query(ge=1, le=INT32_MAX, description="Row id")]
#: An entry of the ledger (a ``BigInteger`` index): 0 to 2⁶³−1.
LedgerIndex = Annotated[int, Path(ge=0, le=INT64_MAX, description="Ledger entry index")]
#: A position in the live feed (a ``BigInteger`` id), optional.
FeedId = Annotated[int | None, Query(ge=0, le=INT64_MAX, description="Feed entry id")]


def _nul(field: str) -> dict[str, Any]:
    return {"field": field, "problem": "contains a NUL character", "type": "nul_character"}


def _walk_json(value: Any, path: str) -> Iterator[dict[str, Any]]:
    """Problems in a parsed JSON document, each naming its path (``items[3].description``)."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                yield _nul(where)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -INT64_MAX - 1 <= item <= INT64_MAX:
                yield {"field": where, "problem": "integer out of range", "type": "int_range"}
        elif isinstance(item, float):
            if not math.isfinite(item):
                yield {"field": where, "problem": "not a finite number", "type": "finite_number"}
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                name = str(key)
                if "\x00" in name:
                    yield _nul(f"{where}.<key>" if where else "<key>")
                stack.append((child, f"{where}.{name}" if where else name))
        elif isinstance(item, list):
            for i in reversed(range(len(item))):
                stack.append((item[i], f"{where}[{i}]"))


def _body_kind(request: Request) -> str | None:
    """'form' or 'json' when the route reads a body of that kind (FastAPI has parsed it
    already, before the dependencies run), else None."""
    route = request.scope.get("route")
    body = getattr(route, "body_field", None) if isinstance(route, APIRoute) else None
    if body is None:
        return None
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return "form"
    if not content_type or content_type == "application/json" or content_type.endswith("+json"):
        return "json"
    return None


async def check_inputs(request: Request) -> None:
    """Refuse NUL characters anywhere in the request's text, and JSON numbers out of range."""
    problems: list[dict[str, Any]] = []
    for name, value in request.path_params.items():
        if isinstance(value, str) and "\x00" in value:
            problems.append(_nul(name))
    for name, value in request.query_params.multi_items():
        if "\x00" in value or "\x00" in name:
            problems.append(_nul(name))
    kind = _body_kind(request)
    if kind == "form":
        form = await request.form()
        for name, value in form.multi_items():
            if "\x00" in name or (not isinstance(value, UploadFile) and "\x00" in value):
                problems.append(_nul(name))
    elif kind == "json" and _SUSPECT_JSON.search(await request.body()):
        try:
            document = await request.json()
        except ValueError:
            document = None  # not JSON: FastAPI has answered 422 already
        for problem in _walk_json(document, ""):
            problems.append(problem)
            if len(problems) >= MAX_PROBLEMS:
                break
    if problems:
        fields = ", ".join(p["field"] or "body" for p in problems[:5])
        raise ValidationFailed(f"invalid input: {fields}", details=problems[:MAX_PROBLEMS])
