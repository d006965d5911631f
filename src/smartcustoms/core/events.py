"""A small in-process event bus with typed events.

Modules publish what happened (a login, a role change, a lane decision); subscribers react
(the log today, the ledger when it records them). Delivery is synchronous and in order, in the
publisher's thread: when ``publish`` returns, every subscriber has seen the event, so a
subscriber that must not miss an event (the ledger) can make the publisher fail by raising.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Connection

from smartcustoms.core import clock
from smartcustoms.core.request_id import current_request_id

__all__ = [
    "AdminAction",
    "Event",
    "EventBus",
    "LoginFailed",
    "LoginRateLimited",
    "PasswordChanged",
    "RoleChanged",
    "TokenCreated",
    "TokenRevoked",
    "UserCreated",
    "UserDisabled",
    "UserEnabled",
    "UserLoggedIn",
    "UserLoggedOut",
    "log_events",
]

log = logging.getLogger("smartcustoms.events")

E = TypeVar("E", bound="Event")
Handler = Callable[["Event"], None]
BatchHandler = Callable[[Sequence["Event"]], None]
#: Records events inside the transaction that made them (the ledger's outbox): it gets the
#: open connection and must write only through it.
Recorder = Callable[[Connection, Sequence["Event"]], None]


@dataclass(frozen=True, kw_only=True)
class Event:
    """Something that happened. ``actor`` is who caused it (a username, or ``cli:<os user>``)."""

    type: ClassVar[str] = "event"
    actor: str
    at: datetime = field(default_factory=clock.now)

    def as_record(self) -> dict[str, Any]:
        """Plain data for logs and the ledger: ISO times, lists for sets."""
        data: dict[str, Any] = {"type": self.type}
        for key, value in asdict(self).items():
            if isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, frozenset | set | tuple):
                value = sorted(value)
            data[key] = value
        # An administrative record names the web request that made it (the X-Request-ID
        # the caller sent or was answered with), so the ledger and the logs can be joined.
        if self.type.startswith("admin."):
            request_id = current_request_id()
            if request_id is not None:
                data["request_id"] = request_id
        return data


@dataclass(frozen=True, kw_only=True)
class UserLoggedIn(Event):
    type: ClassVar[str] = "security.login"
    address: str | None
    via: str  # "web" or "token"


@dataclass(frozen=True, kw_only=True)
class UserLoggedOut(Event):
    type: ClassVar[str] = "security.logout"


@dataclass(frozen=True, kw_only=True)
class LoginFailed(Event):
    type: ClassVar[str] = "security.login_failed"
    address: str | None
    reason: str  # "bad_credentials", "disabled"


@dataclass(frozen=True, kw_only=True)
class LoginRateLimited(Event):
    type: ClassVar[str] = "security.login_rate_limited"
    address: str | None
    scope: str  # "account" or "address"


@dataclass(frozen=True, kw_only=True)
class UserCreated(Event):
    type: ClassVar[str] = "admin.user_created"
    username: str
    roles: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class RoleChanged(Event):
    type: ClassVar[str] = "admin.roles_changed"
    username: str
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class UserDisabled(Event):
    type: ClassVar[str] = "admin.user_disabled"
    username: str


@dataclass(frozen=True, kw_only=True)
class UserEnabled(Event):
    type: ClassVar[str] = "admin.user_enabled"
    username: str


@dataclass(frozen=True, kw_only=True)
class PasswordChanged(Event):
    type: ClassVar[str] = "admin.password_changed"
    username: str


@dataclass(frozen=True, kw_only=True)
class TokenCreated(Event):
    type: ClassVar[str] = "security.token_created"
    token_id: str
    username: str
    name: str
    expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class TokenRevoked(Event):
    type: ClassVar[str] = "security.token_revoked"
    token_id: str
    username: str


@dataclass(frozen=True, kw_only=True)
class AdminAction(Event):
    """Any other privileged action (schema upgrade, key rotation …), described in words."""

    type: ClassVar[str] = "admin.action"
    action: str
    target: str = ""


class EventBus:
    """Subscribers per event class; a subscriber to ``Event`` receives everything.

    A *batch* subscriber (:meth:`subscribe_batch`) receives the matching events of one
    :meth:`publish_all` call together.

    A *recorder* (:meth:`subscribe_recorder`, the ledger) is different: it is called by
    :meth:`record` inside the transaction that made the events, before the commit, and writes
    them through that transaction's connection (a transactional outbox). So a change and its
    record commit together or not at all — a crash between the two cannot lose the record.
    Subscribers (:meth:`publish_all`) hear of the events only after the commit.
    """

    def __init__(self) -> None:
        self._handlers: list[tuple[type[Event], Handler]] = []
        self._batch_handlers: list[tuple[type[Event], BatchHandler]] = []
        self._recorders: list[Recorder] = []
        self._lock = threading.Lock()

    def subscribe_recorder(self, recorder: Recorder) -> None:
        with self._lock:
            self._recorders.append(recorder)

    def record(self, conn: Connection, events: Sequence[Event]) -> None:
        """Give ``events`` to every recorder, in the open transaction of ``conn``. A recorder
        that raises makes the transaction roll back."""
        if not events:
            return
        with self._lock:
            recorders = list(self._recorders)
        for recorder in recorders:
            recorder(conn, events)

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> None:
        with self._lock:
            self._handlers.append((event_type, handler))  # type: ignore[arg-type]

    def subscribe_batch(self, event_type: type[E], handler: Callable[[Sequence[E]], None]) -> None:
        with self._lock:
            self._batch_handlers.append((event_type, handler))  # type: ignore[arg-type]

    def unsubscribe(self, handler: Callable[[Any], None]) -> None:
        with self._lock:
            self._handlers = [(t, h) for t, h in self._handlers if h is not handler]
            self._batch_handlers = [(t, h) for t, h in self._batch_handlers if h is not handler]
            self._recorders = [r for r in self._recorders if r is not handler]  # type: ignore[comparison-overlap]

    def publish(self, event: Event) -> None:
        self.publish_all([event])

    def publish_all(self, events: Sequence[Event]) -> None:
        """Deliver ``events`` in order to each subscriber, then each batch subscriber's share
        in one call."""
        with self._lock:
            handlers = list(self._handlers)
            batch_handlers = list(self._batch_handlers)
        for event in events:
            for event_type, handler in handlers:
                if isinstance(event, event_type):
                    handler(event)
        for event_type, batch_handler in batch_handlers:
            mine = [e for e in events if isinstance(e, event_type)]
            if mine:
                batch_handler(mine)


def log_events(event: Event) -> None:
    """The default subscriber: one structured log line per event."""
    log.info("%s %s", event.type, event.as_record())
