"""A unit of work: one database transaction plus the events it gives rise to.

Services record what happened with :meth:`Unit.emit`. At the end of the unit the events are
first *recorded* inside the transaction (the ledger writes them to its outbox through the same
connection), then the transaction commits, then they are *published* to subscribers (the log,
the live feeds). So a change and its ledger record commit together or not at all, and nobody
hears of a change that was rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from smartcustoms.core.db import Database
from smartcustoms.core.events import Event, EventBus

__all__ = ["Unit", "unit_of_work"]


@dataclass
class Unit:
    session: Session
    events: list[Event] = field(default_factory=list)

    def emit(self, event: Event) -> None:
        self.events.append(event)


@contextmanager
def unit_of_work(db: Database, bus: EventBus) -> Iterator[Unit]:
    with db.session() as session:
        unit = Unit(session)
        yield unit
        if unit.events:
            bus.record(session.connection(), unit.events)
    bus.publish_all(unit.events)
