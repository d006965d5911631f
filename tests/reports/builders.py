"""Data for the report tests, made through the product's own services at chosen moments:
declarations lodged and assessed, transits created, armed, watched by the tracking pipeline and
discharged, alerts handled, scans received, reviewed and examined."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from smartcustoms.core import clock
from smartcustoms.core.context import AppContext
from smartcustoms.tracking.ingest import Ingestor
from smartcustoms.tracking.records import Position
from smartcustoms.tracking.transits import arm_transit, discharge_transit
from tests.tracking.helpers import incoming, make_transit


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    """The product's clock stands at ``moment`` (received times too)."""
    clock.set_clock(lambda: moment)
    try:
        yield
    finally:
        clock.set_clock(None)


def new_transit(
    ctx: AppContext, device: str, created: datetime, *, corridor: str = "northern"
) -> int:
    """Created and armed at ``created``."""
    with frozen(created):
        transit = make_transit(ctx, device, arm=False, corridor=corridor)
        with ctx.unit() as unit:
            arm_transit(unit, transit, actor="officer")
    return transit


def feed(ctx: AppContext, positions: Sequence[Position]) -> None:
    """Each position through the ingest writer and the pipeline, received at its own time."""
    writer = Ingestor(ctx)
    writer.start()
    try:
        for p in positions:
            done = threading.Event()
            with frozen(p.time):
                writer.submit([incoming(p, p.time)], p.device_id, lambda ok, d=done: d.set())
                assert done.wait(20)
    finally:
        writer.stop()


def discharge(ctx: AppContext, transit: int, moment: datetime) -> None:
    with frozen(moment), ctx.unit() as unit:
        discharge_transit(unit, transit, actor="officer", seal_intact=True)
