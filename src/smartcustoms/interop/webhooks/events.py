"""What administrators do to webhooks, recorded in the ledger like every privileged action.

The receiver URL enters the ledger as its origin (scheme, host, port) and the SHA-256 of the
whole URL: a path or query string may carry a receiver's own routing token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from smartcustoms.core.events import Event

__all__ = ["DeadLettersReplayed", "DeliveryReplayed", "SubscriptionCreated", "SubscriptionDeleted"]


@dataclass(frozen=True, kw_only=True)
class SubscriptionCreated(Event):
    type: ClassVar[str] = "webhooks.subscription_created"
    subscription_id: int
    receiver: str
    url_sha256: str
    event_types: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class SubscriptionDeleted(Event):
    type: ClassVar[str] = "webhooks.subscription_deleted"
    subscription_id: int
    receiver: str


@dataclass(frozen=True, kw_only=True)
class DeliveryReplayed(Event):
    type: ClassVar[str] = "webhooks.delivery_replayed"
    subscription_id: int
    delivery_id: int
    message_id: str


@dataclass(frozen=True, kw_only=True)
class DeadLettersReplayed(Event):
    type: ClassVar[str] = "webhooks.dead_letters_replayed"
    subscription_id: int
    count: int
