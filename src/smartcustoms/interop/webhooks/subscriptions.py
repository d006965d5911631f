"""Managing subscriptions and deliveries: create (the secret is returned once), list, delete,
replay. Each change is made in the caller's unit of work and recorded in the ledger with it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from smartcustoms.core import clock
from smartcustoms.core.errors import Conflict, NotFound, ValidationFailed
from smartcustoms.core.unit import Unit
from smartcustoms.interop.webhooks.catalogue import EVENT_TYPES
from smartcustoms.interop.webhooks.events import (
    DeadLettersReplayed,
    DeliveryReplayed,
    SubscriptionCreated,
    SubscriptionDeleted,
)
from smartcustoms.interop.webhooks.signing import Sealer, new_secret
from smartcustoms.interop.webhooks.tables import (
    DEAD,
    PENDING,
    STATUSES,
    WebhookDelivery,
    WebhookSubscription,
)
from smartcustoms.interop.webhooks.urls import check_url

__all__ = [
    "NewSubscription",
    "create_subscription",
    "delete_subscription",
    "event_types_of",
    "list_deliveries",
    "list_subscriptions",
    "receiver_of",
    "replay_dead",
    "replay_delivery",
    "status_counts",
]

MAX_DESCRIPTION = 255


@dataclass(frozen=True)
class NewSubscription:
    row: WebhookSubscription
    secret: str  # shown once; only its sealed form is stored


def receiver_of(url: str) -> str:
    """The scheme, host and port of a URL: what the ledger and logs may name."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def event_types_of(row: WebhookSubscription) -> list[str]:
    return list(json.loads(row.event_types))


def _check_types(event_types: Sequence[str]) -> list[str]:
    if not event_types:
        raise ValidationFailed(
            "choose at least one event type", details=[{"field": "event_types"}], code="no_types"
        )
    chosen: list[str] = []
    for n, name in enumerate(event_types):
        if name not in EVENT_TYPES:
            raise ValidationFailed(
                f"unknown event type {name!r}; known: {', '.join(EVENT_TYPES)}",
                details=[{"field": f"event_types[{n}]", "value": name[:80]}],
                code="unknown_event_type",
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


def create_subscription(
    unit: Unit,
    sealer: Sealer,
    *,
    url: str,
    event_types: Sequence[str],
    description: str = "",
    actor: str,
) -> NewSubscription:
    url = check_url(url)
    chosen = _check_types(event_types)
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(
            f"the description has more than {MAX_DESCRIPTION} characters",
            details=[{"field": "description"}],
        )
    secret = new_secret()
    row = WebhookSubscription(
        url=url,
        description=description,
        event_types=json.dumps(chosen),
        secret_sealed=sealer.seal(secret),
        active=True,
        created_at=clock.now(),
        created_by=actor[:64],
    )
    unit.session.add(row)
    unit.session.flush()
    unit.emit(
        SubscriptionCreated(
            actor=actor,
            subscription_id=row.id,
            receiver=receiver_of(url),
            url_sha256=hashlib.sha256(url.encode()).hexdigest(),
            event_types=tuple(chosen),
        )
    )
    return NewSubscription(row, secret)


def list_subscriptions(session: Session) -> list[WebhookSubscription]:
    query = select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
    return list(session.scalars(query.order_by(WebhookSubscription.id)))


def _subscription(session: Session, subscription_id: int) -> WebhookSubscription:
    row = session.get(WebhookSubscription, subscription_id)
    if row is None or not row.active:
        raise NotFound(
            f"no webhook subscription {subscription_id}", details=[{"field": "subscription_id"}]
        )
    return row


def delete_subscription(unit: Unit, subscription_id: int, *, actor: str) -> None:
    """Delete a subscription: nothing more is sent to it and its pending deliveries go.

    The row stays, inactive, with its delivery history: another process may still hold it in
    its recorder's cache for a moment and queue a delivery for it, which must not fail that
    process's lodging on a missing row (the deliverer ignores inactive subscriptions)."""
    row = _subscription(unit.session, subscription_id)
    receiver = receiver_of(row.url)
    row.active = False
    unit.session.execute(
        delete(WebhookDelivery).where(
            WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == PENDING
        )
    )
    unit.session.flush()
    unit.emit(SubscriptionDeleted(actor=actor, subscription_id=subscription_id, receiver=receiver))


def list_deliveries(
    session: Session,
    *,
    subscription_id: int | None = None,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[WebhookDelivery]:
    """The latest deliveries, newest first (``before_id`` pages back)."""
    if status is not None and status not in STATUSES:
        raise ValidationFailed(
            f"status must be one of {', '.join(STATUSES)}", details=[{"field": "status"}]
        )
    query = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if subscription_id is not None:
        query = query.where(WebhookDelivery.subscription_id == subscription_id)
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    return list(session.scalars(query))


def status_counts(session: Session) -> dict[tuple[int, str], int]:
    """Deliveries per (subscription, status)."""
    query = select(WebhookDelivery.subscription_id, WebhookDelivery.status, func.count()).group_by(
        WebhookDelivery.subscription_id, WebhookDelivery.status
    )
    return {(int(s), str(st)): int(n) for s, st, n in session.execute(query)}


def replay_delivery(unit: Unit, delivery_id: int, *, actor: str) -> WebhookDelivery:
    """Send a delivery again, with the same ``webhook-id`` (a receiver that keeps the ids it
    has seen ignores a message it already has). A pending delivery is already on its way."""
    row = unit.session.get(WebhookDelivery, delivery_id)
    if row is None:
        raise NotFound(f"no webhook delivery {delivery_id}", details=[{"field": "delivery_id"}])
    _subscription(unit.session, row.subscription_id)  # a deleted subscription gets nothing
    if row.status == PENDING:
        raise Conflict(
            "this delivery is still pending: it will be sent", details=[{"field": "status"}]
        )
    now = clock.now()
    row.status = PENDING
    row.attempts = 0
    row.next_attempt_at = now
    unit.session.flush()
    # The subject's other pending deliveries become due too: one of them waiting for a retry
    # must not be overtaken by those behind it once the replayed one (older) has gone.
    unit.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == row.subscription_id,
            WebhookDelivery.subject == row.subject,
            WebhookDelivery.status == PENDING,
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    unit.emit(
        DeliveryReplayed(
            actor=actor,
            subscription_id=row.subscription_id,
            delivery_id=row.id,
            message_id=row.message_id,
        )
    )
    return row


def replay_dead(unit: Unit, subscription_id: int, *, actor: str) -> int:
    """Send every dead delivery of a subscription again; return how many."""
    _subscription(unit.session, subscription_id)
    result = unit.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == DEAD)
        .values(status=PENDING, attempts=0, next_attempt_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    count = int(result.rowcount or 0)  # type: ignore[attr-defined]
    # Retry now whatever of this subscription was waiting, so order per subject holds (see
    # replay_delivery).
    unit.session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == PENDING
        )
        .values(next_attempt_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    unit.emit(DeadLettersReplayed(actor=actor, subscription_id=subscription_id, count=count))
    return count
