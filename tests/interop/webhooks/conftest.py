"""Webhook fixtures: fast retries, a real HTTP receiver, a subscription to it."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from smartcustoms.core.context import AppContext
from smartcustoms.core.settings import Settings, load_settings
from smartcustoms.interop.webhooks import subscriptions
from smartcustoms.interop.webhooks.catalogue import EVENT_TYPES
from smartcustoms.interop.webhooks.service import WebhookService, attach_webhooks
from smartcustoms.risk.events import LaneAssigned
from tests.interop.webhooks.receiver import Receiver


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Retries in milliseconds, so an outage, back-off and dead letter take a moment of a test.
    return load_settings(
        None,
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=secrets.token_urlsafe(48),
        webhook_retry_base_ms=20,
        webhook_retry_max_ms=80,
        webhook_max_attempts=4,
        webhook_timeout_ms=2000,
        webhook_concurrency=4,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def hooks(ctx: AppContext) -> WebhookService:
    """The recorder, attached; a test starts the deliverer (``hooks.start()``) once it has set
    what it needs. It stops when ctx closes."""
    return attach_webhooks(ctx, start=False)


@pytest.fixture
def subscription(ctx: AppContext, hooks: WebhookService, receiver: Receiver) -> tuple[int, str]:
    """A subscription of ``receiver`` to every event type: (id, secret)."""
    with ctx.unit() as unit:
        new = subscriptions.create_subscription(
            unit,
            hooks.sealer,
            url=receiver.url,
            event_types=list(EVENT_TYPES),
            description="test CMS",
            actor="admin",
        )
    return new.row.id, new.secret


def decide(ctx: AppContext, declaration_id: int, seq: int = 0) -> None:
    """Commit one lane decision event, the way lodging does (in a unit of work); ``seq`` is
    carried as the model version, to check the order things arrive in."""
    with ctx.unit() as unit:
        unit.emit(lane_event(declaration_id, seq))


def lane_event(declaration_id: int, seq: int = 0) -> LaneAssigned:
    return LaneAssigned(
        actor="cms",
        declaration_id=declaration_id,
        document_sha256="ab" * 32,
        lane="red",
        score="0.8123",
        threshold="0.5",
        model_version=f"m{seq}",
        rules=("HS 8703 undervalued",),
        random_control=False,
        exploration=False,
    )
