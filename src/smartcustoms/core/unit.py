"""A unit of work: one database transaction plus the events it gives rise to.

Services record what happened with :meth:`Unit.emit`. At the end of the unit the events are
first *recorded* inside the transaction (the ledger writes them to its outbox through the same
connection), then the transaction commits, then they are *published* to subscribers (the log,
the live feeds). So a change and its ledger record commit together or not at all, and nobody
hears of a change that was rolled back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from smartcustoms.core.db import Database
from smartcustoms.core.events import Event, EventBus

__all__ = ["Unit", "reading_unit", "unit_of_work"]


@dataclass
class Unit:
    """A transaction (``session``) and the events it gives rise to.

    A *reading* unit has ``writes``: its session only reads (on SQLite, a deferred transaction
    that neither takes nor waits for the write lock) and whatever writes opens a short unit of
    its own with ``writes()``. It lets a use case do its slow reading and computing before it
    takes SQLite's one write lock (lodging: :func:`smartcustoms.risk.lodging.lodge`). Nothing
    may be written in, or emitted on, a reading unit itself.
    """

    session: Session
    events: list[Event] = field(default_factory=list)
    writes: Callable[[], AbstractContextManager[Unit]] | None = None

    def emit(self, event: Event) -> None:
        if self.writes is not None:
            raise RuntimeError("a reading unit records no event: emit in a unit from writes()")
        self.events.append(event)


@contextmanager
def unit_of_work(db: Database, bus: EventBus) -> Iterator[Unit]:
    with db.session() as session:
        unit = Unit(session)
        yield unit
        if unit.events:
            bus.record(session.connection(), unit.events)
    bus.publish_all(unit.events)


@contextmanager
def reading_unit(db: Database, bus: EventBus) -> Iterator[Unit]:
    """A reading unit (see :class:`Unit`): a read session, and :func:`unit_of_work` for the
    writes."""

    def writes() -> AbstractContextManager[Unit]:
        return unit_of_work(db, bus)

    with db.read_session() as session:
        yield Unit(session, writes=writes)
