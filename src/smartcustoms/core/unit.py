"""A unit of work: one database transaction plus the events it gives rise to.

Services record what happened with :meth:`Unit.emit`; the events are published only after the
transaction commits, so subscribers (the log, the ledger) never hear of a change that was
rolled back.
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
    bus.publish_all(unit.events)
