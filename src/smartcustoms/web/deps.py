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


async def _context(request: Request) -> AppContext:
    # A coroutine: FastAPI runs a plain function dependency on its thread pool, a hop that
    # costs more than the attribute it reads.
    return context(request)


ContextDep = Annotated[AppContext, Depends(_context)]
#: ``scope="function"``: the unit commits (and queues its ledger records) when the route
#: returns, *before* the answer is sent. With the default request scope FastAPI would run the
#: commit after sending the response, so a crash in between acknowledged what was never stored.
UnitDep = Annotated[Unit, Depends(_unit, scope="function")]
