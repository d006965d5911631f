"""Wiring webhooks into a running smartcustoms: the recorder on the bus, the deliverer thread.

:func:`attach_webhooks` is called where the ledger is attached (the web application, the CLI).
With ``start=False`` (the CLI) only the recorder is attached: a command that lodges queues its
deliveries, and the server's deliverer sends them.
"""

from __future__ import annotations

from functools import cached_property

from prometheus_client import CollectorRegistry

from smartcustoms.core.context import AppContext
from smartcustoms.core.errors import ServiceUnavailable
from smartcustoms.core.events import Event
from smartcustoms.interop.webhooks.deliverer import Deliverer, RetryPolicy
from smartcustoms.interop.webhooks.events import (
    DeadLettersReplayed,
    DeliveryReplayed,
    SubscriptionCreated,
    SubscriptionDeleted,
)
from smartcustoms.interop.webhooks.lease import lease_for
from smartcustoms.interop.webhooks.metrics import RegistryBridge, WebhookMetrics
from smartcustoms.interop.webhooks.recorder import QUEUED, WebhookRecorder
from smartcustoms.interop.webhooks.signing import Sealer

__all__ = ["WebhookService", "attach_webhooks", "webhooks_of"]

_SERVICE = "webhooks"


class WebhookService:
    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        settings = ctx.settings
        self.metrics = WebhookMetrics()
        self.recorder = WebhookRecorder()
        self.policy = RetryPolicy(
            base=settings.webhook_retry_base_ms / 1000,
            cap=settings.webhook_retry_max_ms / 1000,
            max_attempts=settings.webhook_max_attempts,
        )
        self._deliverer: Deliverer | None = None

    @cached_property
    def sealer(self) -> Sealer:
        # Lazily: a CLI command that never touches a secret must not need the secret key.
        return Sealer(self._ctx.secret_key)

    @property
    def deliverer(self) -> Deliverer:
        if self._deliverer is None:
            settings = self._ctx.settings
            self._deliverer = Deliverer(
                self._ctx.db,
                self.sealer,
                self.policy,
                lease_for(self._ctx.db),
                self.metrics,
                timeout=settings.webhook_timeout_ms / 1000,
                concurrency=settings.webhook_concurrency,
            )
        return self._deliverer

    def start(self) -> None:
        self.deliverer.start()

    def stop(self) -> None:
        if self._deliverer is not None:
            self._deliverer.stop()

    def expose(self, registry: CollectorRegistry) -> None:
        """Show the deliverer's metrics in ``registry`` (the application's /metrics)."""
        registry.register(RegistryBridge(self.metrics.registry))

    def _changed(self, event: Event) -> None:
        if isinstance(event, SubscriptionCreated | SubscriptionDeleted):
            self.recorder.invalidate()
        if self._deliverer is not None:
            if isinstance(event, DeliveryReplayed | DeadLettersReplayed):
                self._deliverer.resume(event.subscription_id)
            self._deliverer.wake()

    def _committed(self, _events: object) -> None:
        if QUEUED.take() and self._deliverer is not None:
            self._deliverer.wake()


def attach_webhooks(ctx: AppContext, *, start: bool = True) -> WebhookService:
    """Give ``ctx`` its webhook recorder (once) and, with ``start``, the delivery worker, which
    stops when the context closes."""
    existing = ctx.services.get(_SERVICE)
    if isinstance(existing, WebhookService):
        if start:
            existing.start()
        return existing
    service = WebhookService(ctx)
    ctx.services[_SERVICE] = service
    ctx.bus.subscribe_recorder(service.recorder)
    for kind in (SubscriptionCreated, SubscriptionDeleted, DeliveryReplayed, DeadLettersReplayed):
        ctx.bus.subscribe(kind, service._changed)
    # A commit that queued deliveries wakes the deliverer instead of leaving them to its next
    # poll (deliveries queued by other processes are found by polling).
    ctx.bus.subscribe_batch(Event, service._committed)
    ctx.on_close(service.stop)
    if start:
        service.start()
    return service


def webhooks_of(ctx: AppContext) -> WebhookService:
    service = ctx.services.get(_SERVICE)
    if not isinstance(service, WebhookService):
        raise ServiceUnavailable(
            "webhooks are not attached to this context", code="webhooks_unavailable"
        )
    return service
