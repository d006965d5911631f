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
#: ``scope="function"``: the unit commits (and queues its ledger records) when the route
#: returns, *before* the answer is sent. With the default request scope FastAPI would run the
#: commit after sending the response, so a crash in between acknowledged what was never stored.
UnitDep = Annotated[Unit, Depends(_unit, scope="function")]
