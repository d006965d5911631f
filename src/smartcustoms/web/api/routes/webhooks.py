"""Webhook subscriptions and their deliveries, for administrators: create (the signing secret
is in the answer, once), list, delete, see deliveries, replay one or every dead one."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, Field

from smartcustoms.core.roles import Role
from smartcustoms.interop.webhooks import subscriptions as service
from smartcustoms.interop.webhooks.catalogue import EVENT_TYPES
from smartcustoms.interop.webhooks.service import webhooks_of
from smartcustoms.interop.webhooks.tables import WebhookDelivery, WebhookSubscription
from smartcustoms.web.api.schemas import StrictBody
from smartcustoms.web.deps import ContextDep, UnitDep
from smartcustoms.web.params import INT64_MAX, RowId, RowIdQuery
from smartcustoms.web.policy import CurrentPrincipal, requires

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])

#: Deliveries are many: their ids are 64-bit.
DeliveryId = Annotated[int, Path(ge=1, le=INT64_MAX, description="Delivery id")]


class SubscriptionCreate(StrictBody):
    url: str = Field(min_length=1, max_length=2048, examples=["https://cms.example.ke/hooks"])
    event_types: list[str] = Field(min_length=1, max_length=len(EVENT_TYPES))
    description: str = Field("", max_length=255)


class SubscriptionPublic(BaseModel):
    id: int
    url: str
    description: str
    event_types: list[str]
    created_at: datetime
    created_by: str


class SubscriptionCreated(SubscriptionPublic):
    secret: str = Field(description="The signing secret (whsec_…). Shown once: keep it now.")


class DeliveryPublic(BaseModel):
    id: int
    subscription_id: int
    message_id: str
    event_type: str
    subject: str
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    last_status: int | None
    last_error: str | None
    payload: dict[str, Any]


class Replayed(BaseModel):
    count: int


def public(row: WebhookSubscription) -> SubscriptionPublic:
    return SubscriptionPublic(
        id=row.id,
        url=row.url,
        description=row.description,
        event_types=service.event_types_of(row),
        created_at=row.created_at,
        created_by=row.created_by,
    )


def delivery(row: WebhookDelivery) -> DeliveryPublic:
    return DeliveryPublic(
        id=row.id,
        subscription_id=row.subscription_id,
        message_id=row.message_id,
        event_type=row.event_type,
        subject=row.subject,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        last_status=row.last_status,
        last_error=row.last_error,
        payload=json.loads(row.payload),
    )


@router.get("/event-types", summary="The event types a subscription may name")
@requires(Role.ADMINISTRATOR)
def event_types() -> list[str]:
    return list(EVENT_TYPES)


@router.get("/subscriptions", summary="Webhook subscriptions")
@requires(Role.ADMINISTRATOR)
def list_subscriptions(unit: UnitDep) -> list[SubscriptionPublic]:
    return [public(row) for row in service.list_subscriptions(unit.session)]


@router.post(
    "/subscriptions",
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe a receiver to event types (the answer carries its secret, once)",
)
@requires(Role.ADMINISTRATOR)
def create_subscription(
    body: SubscriptionCreate, unit: UnitDep, ctx: ContextDep, principal: CurrentPrincipal
) -> SubscriptionCreated:
    new = service.create_subscription(
        unit,
        webhooks_of(ctx).sealer,
        url=body.url,
        event_types=body.event_types,
        description=body.description,
        actor=principal.username,
    )
    return SubscriptionCreated(secret=new.secret, **public(new.row).model_dump())


@router.delete(
    "/subscriptions/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a subscription (its pending deliveries are dropped)",
)
@requires(Role.ADMINISTRATOR)
def delete_subscription(subscription_id: RowId, unit: UnitDep, principal: CurrentPrincipal) -> None:
    service.delete_subscription(unit, subscription_id, actor=principal.username)


@router.get("/deliveries", summary="Deliveries, newest first")
@requires(Role.ADMINISTRATOR)
def list_deliveries(
    unit: UnitDep,
    subscription_id: RowIdQuery = None,
    delivery_status: Annotated[
        str | None, Query(alias="status", pattern="^(pending|delivered|dead)$")
    ] = None,
    before_id: Annotated[int | None, Query(ge=1, le=INT64_MAX)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryPublic]:
    rows = service.list_deliveries(
        unit.session,
        subscription_id=subscription_id,
        status=delivery_status,
        before_id=before_id,
        limit=limit,
    )
    return [delivery(row) for row in rows]


@router.post(
    "/deliveries/{delivery_id}/replay",
    summary="Send a delivery again, with the same webhook-id",
)
@requires(Role.ADMINISTRATOR)
def replay_delivery(
    delivery_id: DeliveryId, unit: UnitDep, principal: CurrentPrincipal
) -> DeliveryPublic:
    return delivery(service.replay_delivery(unit, delivery_id, actor=principal.username))


@router.post(
    "/subscriptions/{subscription_id}/replay-dead",
    summary="Send every dead delivery of a subscription again",
)
@requires(Role.ADMINISTRATOR)
def replay_dead(subscription_id: RowId, unit: UnitDep, principal: CurrentPrincipal) -> Replayed:
    return Replayed(count=service.replay_dead(unit, subscription_id, actor=principal.username))
