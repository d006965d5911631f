"""Typed dependencies for routes: the app context and a unit of work (one transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

from smartcustoms.core.context import AppContext
from smartcustoms.core.unit import Unit
from smartcustoms.web.auth import context

__all__ = ["ContextDep", "UnitDep"]


def _unit(request: Request) -> Iterator[Unit]:
    with context(request).unit() as unit:
        yield unit


ContextDep = Annotated[AppContext, Depends(context)]
UnitDep = Annotated[Unit, Depends(_unit)]
