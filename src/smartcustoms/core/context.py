"""The services one running smartcustoms shares: settings, database and event bus.

The web application, the CLI and the demo each build one :class:`AppContext` and hand it to
the domain modules; nothing reaches for globals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from smartcustoms.core.db import Database
from smartcustoms.core.events import Event, EventBus, log_events
from smartcustoms.core.settings import Settings
from smartcustoms.core.unit import Unit, unit_of_work

__all__ = ["AppContext"]


@dataclass
class AppContext:
    settings: Settings
    db: Database
    bus: EventBus = field(default_factory=EventBus)
    #: Long-lived services modules attach to this context (the ledger), by name. Core does not
    #: know their types: each module offers a typed accessor (``ledger.service.ledger_of``).
    services: dict[str, Any] = field(default_factory=dict)
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> AppContext:
        ctx = cls(settings=settings, db=Database(settings.sqlalchemy_url))
        ctx.bus.subscribe(Event, log_events)
        return ctx

    @cached_property
    def secret_key(self) -> str:
        """The resolved secret key (see Settings.resolved_secret_key), read once."""
        return self.settings.resolved_secret_key()

    @contextmanager
    def unit(self) -> Iterator[Unit]:
        """One transaction; its events are published after it commits."""
        with unit_of_work(self.db, self.bus) as unit:
            yield unit

    def record(self, *events: Event) -> None:
        """Record events that go with no other change (a schema upgrade, a key rotation done
        outside the database): one unit of work that only emits them."""
        with self.unit() as unit:
            for event in events:
                unit.emit(event)

    def on_close(self, closer: Callable[[], None]) -> None:
        """Run ``closer`` when the context closes, before the database goes (last added first)."""
        self._closers.append(closer)

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()
        self.db.dispose()
